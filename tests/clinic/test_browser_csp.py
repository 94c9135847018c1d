"""The main pages in headless Chromium break no Content-Security-Policy rule.

The ``browser`` fixture (tests/clinic/conftest.py) fails any browser test on a
CSP violation; this module visits the main pages on purpose, with their
scripts and plotly charts, and checks that the watcher does catch one.
"""

from __future__ import annotations

import pytest

from tests.clinic.factories import TeamFactory, make_user
from tests.emgcore.malformed_corpus import PYTHON_INTERNALS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-1"
TIMEOUT_MS = 60_000


@pytest.fixture
def app(settings, active_model):
    """Analysis runs eagerly in the upload request; a clinician and an admin."""
    from clinic.celery import app as celery_app

    settings.DEBUG = False
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    team = TeamFactory(name="neuro")
    users = {
        role: make_user(role, team=team if role == "clinician" else None, username=role)
        for role in ("clinician", "admin")
    }
    yield users
    celery_app.conf.task_always_eager = eager


def _csp_header(page, url: str) -> str:
    response = page.goto(url)
    assert response is not None and response.ok, url
    return response.headers.get("content-security-policy", "")


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _upload(page, base: str, files: list[str], patient: str) -> None:
    page.goto(f"{base}/uploads/new/")
    page.fill("#id_patient_code", patient)
    page.fill("#id_muscle", "tibialis anterior")
    page.select_option("#id_side", "LEFT")
    page.select_option("#id_electrode_type", "NEEDLE")
    page.set_input_files("#id_files", files)
    page.get_by_role("button", name="Upload and analyse").click()


def test_the_main_pages_break_no_csp_rule(live_server, app, browser, emgdb, tmp_path):
    # `app` comes before `browser`: its database work must not run inside
    # Playwright's event loop.
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    policy = _csp_header(page, f"{base}/accounts/login/")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    # Scripts stay strict (a nonce is added only where a page uses one).
    assert directives["script-src"].split()[0] == "'self'", policy
    assert "unsafe" not in directives["script-src"], policy
    assert directives["object-src"] == "'none'", policy
    _login(page, base, "clinician")

    # A recording analysed: the job page polls, then the result with its chart.
    _upload(
        page,
        base,
        [str(emgdb / "emg_myopathy.hea"), str(emgdb / "emg_myopathy.dat")],
        "P-CSP-1",
    )
    page.wait_for_url("**/jobs/*/result/")
    page.wait_for_selector("#figure[data-rendered=true] svg")
    page.hover("#figure svg")  # plotly adds its hover label and modebar styles
    result_url = page.url
    page.goto(result_url.replace("/result/", "/report/"))
    page.wait_for_load_state("load")

    # A malformed recording: the failed job page says why, in plain words.
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,EMG (mV)\n0,1\n0.0005,abc\n")
    _upload(page, base, [str(bad)], "P-CSP-2")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("#job-error:not([hidden])")
    assert page.locator("#job-status").inner_text() == "Failed"
    message = page.locator("#job-error").inner_text()
    assert "'abc' is not a number" in message
    assert not [t for t in PYTHON_INTERNALS if t.lower() in message.lower()]
    page.goto(f"{base}/")  # the dashboard lists both
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")

    # An admin's pages: models and their report, retraining, audit trail.
    _login(page, base, "admin")
    for path in ("/models/", f"/models/{app_model_id(page, base)}/report/"):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
    for path in ("/retraining/", "/retraining/new/", "/audit/"):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
    page.goto(f"{base}/health/", wait_until="load")
    assert "ok" in page.content().lower()
    # Give late reports (plotly, polling scripts) a moment to arrive.
    page.wait_for_timeout(300)
    context.close()
    assert errors == []
    assert browser.csp_violations == []


def app_model_id(page, base: str) -> int:
    """The active model's id, read from the model list's report link."""
    page.goto(f"{base}/models/")
    href = (
        page.locator("tr.active")
        .get_by_role("link", name="Per-class report")
        .get_attribute("href")
    )
    return int(href.rstrip("/").split("/")[-2])


def test_the_watcher_catches_a_violation(live_server, browser):
    page = browser.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # An inline script without the nonce: refused by script-src.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    page.context.close()
    found = list(browser.csp_violations)
    assert found and any("script-src" in v for v in found), found
    browser.csp_violations.clear()  # seen on purpose: the fixture need not fail
