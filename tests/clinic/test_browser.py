"""The app in headless Chromium (Debian's, driven by Playwright) on a live server.

A clinician uploads emg_myopathy and sees the result with its plot, an admin
starts a short retraining and watches it progress, an auditor reads the
per-class report. Screenshots go to test-artifacts/screenshots/; with
MYOLENS_UPDATE_SCREENSHOTS=1 the README's copies in docs/screenshots/ are
refreshed too.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.clinic.factories import TeamFactory, make_user
from tests.conftest import REPO_ROOT, make_tiny_disease_checkpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = REPO_ROOT / "test-artifacts" / "screenshots"
DOCS = REPO_ROOT / "docs" / "screenshots"
PASSWORD = "a-long-test-password-1"
TIMEOUT_MS = 90_000


@pytest.fixture
def app(settings, model_dir, data_dir, tmp_path_factory, monkeypatch):
    """Analysis runs eagerly in the request; retraining in a thread (like a
    worker), so its page can be watched while it trains."""
    from clinic.celery import app as celery_app
    from clinic.services import model_version_register
    from clinic.tasks import retraining_run_task

    settings.EMG_DATA_DIR = data_dir
    settings.EMG_RETRAIN_MAX_WINDOWS = 12
    settings.EMG_EVAL_N_BOOT = 20
    settings.DEBUG = False
    monkeypatch.setenv("EMG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    threads: list[threading.Thread] = []

    def run_in_thread(run_id: int):
        from django.db import connection

        from clinic.services import retraining_run

        def work():
            try:
                retraining_run(run_id=run_id)
            finally:
                connection.close()

        t = threading.Thread(target=work, daemon=True)
        t.start()
        threads.append(t)
        return type("AsyncResult", (), {"id": f"thread-{run_id}"})()

    monkeypatch.setattr(retraining_run_task, "delay", run_in_thread)
    path = make_tiny_disease_checkpoint(model_dir / "cnn-tcn-demo.pt")
    mv = model_version_register(checkpoint_path=path, version="demo-1")
    mv.is_active, mv.status = True, "ACTIVE"
    mv.save()
    team = TeamFactory(name="neuro")
    users = {
        role: make_user(role, team=team if role == "clinician" else None, username=role)
        for role in ("clinician", "admin", "auditor")
    }
    yield users
    for t in threads:
        t.join(timeout=120)
    celery_app.conf.task_always_eager = eager


def _shot(page, name: str, *, docs: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("MYOLENS_UPDATE_SCREENSHOTS") == "1":
        # The README's copy stays under 300 KB: the visible part if need be.
        DOCS.mkdir(parents=True, exist_ok=True)
        if path.stat().st_size < 300_000:
            shutil.copyfile(path, DOCS / f"{name}.png")
        else:
            # The top of the page, as tall as fits in 300 KB.
            width = page.viewport_size["width"]
            for height in (1500, 1250, 1000, 800):
                target = DOCS / f"{name}.png"
                clip = {"x": 0, "y": 0, "width": width, "height": height}
                page.screenshot(path=str(target), full_page=True, clip=clip)
                if target.stat().st_size < 300_000:
                    break
    return path


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=name, exact=True
    )


def _logout(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_clinician_admin_and_auditor_use_the_app(live_server, app, browser, emgdb):
    # `app` comes before `browser`: its database work must not run inside
    # Playwright's event loop (it would leave a connection open).
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A clinician uploads the myopathy recording and reads the result.
    _login(page, base, "clinician")
    _nav(page, "New upload").click()
    page.fill("#id_patient_code", "P-0042")
    page.fill("#id_muscle", "tibialis anterior")
    page.select_option("#id_side", "LEFT")
    page.select_option("#id_electrode_type", "NEEDLE")
    page.set_input_files(
        "#id_files",
        [str(emgdb / "emg_myopathy.hea"), str(emgdb / "emg_myopathy.dat")],
    )
    page.get_by_role("button", name="Upload and analyse").click()
    page.wait_for_url("**/jobs/*/result/")
    page.wait_for_selector("#figure[data-rendered=true] svg")
    table = page.locator("table.probabilities").inner_text().lower()
    for cls in ("healthy", "myopathy", "neuropathy"):
        assert cls in table
    assert "not a diagnosis" in page.content()
    _shot(page, "clinician-result", docs=True)
    assert page.input_value("#id_diagnosis") == ""  # starts empty (issue 16)
    page.select_option("#id_diagnosis", "MYOPATHY")
    page.check("#id_confirm")
    page.get_by_role("button", name="Record diagnosis").click()
    page.wait_for_selector("text=The confirmed diagnosis was recorded.")
    _logout(page)

    # An admin starts a short retraining and watches its progress.
    _login(page, base, "admin")
    _nav(page, "Retraining").click()
    page.get_by_role("link", name="Start a retraining").click()
    page.check("#id_use_emgdb")
    page.uncheck("#id_use_n2001")  # emgdb only: the one-person-per-class case
    page.select_option("#id_method", "tl")
    page.fill("#id_epochs", "3")
    page.fill("#id_learning_rate", "0.001")
    _shot(page, "admin-retraining-form")
    page.get_by_role("button", name="Start retraining").click()
    page.wait_for_url("**/retraining/*/")
    page.wait_for_function(
        "() => Number(document.getElementById('run-epoch').textContent) >= 1"
    )
    assert page.locator("#run-loss").inner_text() != "–"
    page.wait_for_selector("#run-figure[data-rendered=true] svg")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent === 'Succeeded'"
    )
    page.wait_for_selector("#run-candidate:not([hidden])")
    page.wait_for_function(
        "() => Number(document.getElementById('run-epoch').textContent) === 3"
    )
    _shot(page, "admin-retraining", docs=True)
    candidate_url = page.locator("#run-candidate-link").get_attribute("href")
    _logout(page)

    # An auditor reads the candidate's per-class report and computes its curves.
    _login(page, base, "auditor")
    page.goto(f"{base}{candidate_url}")
    page.wait_for_selector("[data-figure=evaluation-confusion][data-rendered=true] svg")
    assert "Sensitivity" in page.locator("#evaluation table").inner_text()
    page.get_by_role("button", name="Compute the curves on the evaluation set").click()
    page.wait_for_selector("[data-figure=evaluation-roc][data-rendered=true] svg")
    page.wait_for_selector(
        "[data-figure=evaluation-reliability][data-rendered=true] svg"
    )
    assert "n = 0" in page.locator("#confirmed").inner_text()
    _shot(page, "auditor-report", docs=True)
    # The active model's report counts the clinician's confirmed case.
    _nav(page, "Models").click()
    page.locator("tr.active").get_by_role("link", name="Per-class report").click()
    assert "n = 1" in page.locator("#confirmed").inner_text()
    assert "Too few confirmed cases" in page.content()
    context.close()
    assert errors == []
    assert os.path.getsize(ARTIFACTS / "clinician-result.png") > 10_000
