"""The recordings pages in headless Chromium (issue 16): the result page on a
390 px phone, search by the start of a patient code, removing a failed upload
after a confirmation, and cancelling a retraining after a confirmation.

Fixtures as in tests/clinic/test_browser_csp.py: the `browser` fixture fails a
test on any Content-Security-Policy violation.
"""

from __future__ import annotations

import pytest

from clinic.models import AuditEvent, RetrainingRun, Upload
from tests.clinic.factories import RetrainingRunFactory, TeamFactory, make_user
from tests.clinic.test_browser import ARTIFACTS, DOCS, _login, _shot
from tests.clinic.test_browser_csp import _upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 60_000
PHONE = {"width": 390, "height": 844}

#: For a failure message: the five elements reaching furthest to the right.
WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .map(e => [e.tagName + '.' + e.className + '#' + e.id,
             Math.round(e.getBoundingClientRect().right)])
  .sort((a, b) => b[1] - a[1]).slice(0, 5)"""


@pytest.fixture
def app(settings, active_model):
    """Analysis runs eagerly in the upload request; a clinician and an admin,
    and a queued retraining run no worker will pick up."""
    from clinic.celery import app as celery_app

    settings.DEBUG = False
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    team = TeamFactory(name="neuro")
    users = {
        "clinician": make_user("clinician", team=team, username="clinician"),
        "admin": make_user("admin", username="admin"),
    }
    users["run"] = RetrainingRunFactory(
        base_model=active_model, started_by=users["admin"]
    )
    yield users
    celery_app.conf.task_always_eager = eager


def _viewport_shot(page, selector: str, name: str) -> None:
    """What a phone shows with ``selector`` at the top (the full page is too
    tall for the docs' 300 KB)."""
    import os
    import shutil

    page.locator(selector).scroll_into_view_if_needed()
    page.evaluate(f"() => document.querySelector('{selector}').scrollIntoView()")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("MYOLENS_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"{name}.png")


def _context(browser, viewport):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_a_phone_reads_the_result_and_finds_it_by_the_start_of_the_code(
    live_server, app, browser, emgdb
):
    # `app` comes before `browser`: its database work must not run inside
    # Playwright's event loop.
    base = live_server.url
    context = _context(browser, PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, "clinician")
    _upload(
        page,
        base,
        [str(emgdb / "emg_myopathy.hea"), str(emgdb / "emg_myopathy.dat")],
        "P-0012",
    )
    page.wait_for_url("**/jobs/*/result/")
    page.wait_for_selector("#figure[data-rendered=true] svg")
    features = page.locator("#features-scroll")
    assert "µV" in features.inner_text() and "uV" not in features.inner_text()
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], page.evaluate(WIDE_ELEMENTS)
    # The table keeps its columns and scrolls inside its own box instead.
    assert page.evaluate(
        "() => { const b = document.getElementById('features-scroll');"
        " return getComputedStyle(b).overflowX; }"
    ) in ("auto", "scroll")
    _shot(page, "clinician-result-390", docs=True)
    _viewport_shot(page, "#features-h", "clinician-result-390-features")

    # The list finds P-0012 by "p-00"; a code that matches nothing says so.
    page.goto(f"{base}/")
    page.fill("#id_patient", "p-00")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(lambda url: "patient=p-00" in url)
    row = page.locator("table.list tbody tr")
    assert row.count() == 1 and "P-0012" in row.inner_text()
    # The outcome column (the tiny test model's answers mean nothing).
    outcome = row.locator("td.outcome").inner_text()
    assert outcome in {"Healthy", "Myopathy", "Neuropathy", "Inconclusive"}
    page.fill("#id_patient", "P-01")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#no-match")
    assert "starts with “P-01”" in page.locator("#no-match").inner_text()
    assert "yet" not in page.locator("#no-match").inner_text()
    # The patient's page, from the list.
    page.goto(f"{base}/?patient=P-0")
    page.get_by_role("link", name="P-0012").click()
    page.wait_for_url("**/patients/P-0012/")
    assert "Recordings of P-0012" in page.locator("h1").inner_text()
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], page.evaluate(WIDE_ELEMENTS)
    context.close()
    assert errors == []


def test_a_failed_upload_is_removed_after_a_confirmation_with_a_reason(
    live_server, app, browser, tmp_path
):
    base = live_server.url
    context = _context(browser, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, "clinician")
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,EMG (mV)\n0,1\n0.0005,abc\n")
    _upload(page, base, [str(bad)], "P-BAD-1")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("#job-failed:not([hidden])")
    # The failed job offers next steps, not a stalled progress bar.
    assert page.locator("#job-progress").is_hidden()
    assert page.get_by_role("link", name="upload it again").is_visible()
    page.get_by_role("link", name="Remove this failed upload…").click()
    page.wait_for_url("**/uploads/*/remove/")
    page.fill("#id_reason", "wrong file exported")
    page.get_by_role("button", name="Remove the upload").click()
    # Without the tick the page stays and says what is missing.
    page.wait_for_selector("#id_confirm_error")
    page.fill("#id_reason", "wrong file exported")
    page.check("#id_confirm")
    page.get_by_role("button", name="Remove the upload").click()
    page.wait_for_url(f"{base}/")
    assert "was removed from the lists" in page.content()
    assert page.get_by_role("link", name="P-BAD-1").count() == 0
    context.close()
    assert errors == []
    upload = Upload.objects.get(patient_code="P-BAD-1")
    assert upload.removed_at is not None and upload.files.exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPLOAD_REMOVED)
    assert event.details["reason"] == "wrong file exported"


def test_cancelling_a_retraining_asks_first_and_then_reads_cancelled(
    live_server, app, browser
):
    base = live_server.url
    run_id = app["run"].pk
    context = _context(browser, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _login(page, base, "admin")
    page.goto(f"{base}/retraining/{run_id}/")
    assert page.locator("#job-remaining").inner_text() == "no estimate yet"
    page.get_by_role("link", name="Cancel the run…").click()
    page.wait_for_url(f"**/retraining/{run_id}/cancel/")
    page.get_by_role("button", name="Cancel the run").click()
    page.wait_for_selector("#id_confirm_error")  # no tick: nothing cancelled
    assert RetrainingRun.objects.get(pk=run_id).status == "QUEUED"
    page.check("#id_confirm")
    page.get_by_role("button", name="Cancel the run").click()
    page.wait_for_url(f"**/retraining/{run_id}/")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent === 'Cancelled'"
    )
    status_line = page.locator("#run-status").locator("xpath=..").inner_text()
    assert status_line.strip() == "Status: Cancelled"
    assert page.locator("#run-cancel").is_hidden()
    context.close()
    assert dialogs == [] and errors == []
