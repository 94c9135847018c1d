"""Model governance in headless Chromium: the "Done when" of issue 16.

An admin cannot promote a candidate retrained on emgdb only (one person per
class), and promotes one evaluated on held-out people after a confirmation
with a reason; the audit trail (page and CSV) names both. An auditor's
computed curves leave the report's evaluation (protocol and numbers) as the
card states it. A clinician's upload of a training recording says so beside
the plain-words performance sentence. Each page is shot at 1280 and 390 px
(docs/screenshots/ only with MYOLENS_UPDATE_SCREENSHOTS=1), and at 390 px no
page may be wider than the phone.

Fixtures as in tests/clinic/test_browser.py (whose `app` this reuses: eager
analysis, retraining in a thread, one user per role); the `browser` fixture
fails a test on any Content-Security-Policy violation.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from clinic.models import AuditEvent, ModelVersion
from tests.clinic.test_browser import _login, _logout, _nav, _shot, app  # noqa: F401
from tests.conftest import make_tiny_clinic_checkpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def held_out(app, model_dir, emgdb):  # noqa: F811 (the imported fixture)
    """A registered, not yet active version whose card comes from people held
    out of training (3 per class, every class above the minimums). Its
    training data list emg_healthy.dat, so uploading that file is uploading
    one of its training recordings; ``min_confidence=None`` keeps its answer a
    class, so the result headline always carries the performance sentence."""
    from clinic.services import model_version_register
    from emgcore.digest import file_sha256

    path = make_tiny_clinic_checkpoint(
        model_dir / "held-out.pt",
        min_confidence=None,
        training_sha256s=(file_sha256(emgdb / "emg_healthy.dat"),),
    )
    return model_version_register(checkpoint_path=path, version="held-out-1")


@pytest.fixture
def active_held_out(held_out):
    from clinic.services import model_version_promote

    return model_version_promote(
        actor=None, model_version=held_out, reason="Set up by the test."
    )


def _context(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    return context


#: For a failure message: elements reaching past the phone's width that no
#: scrolling box holds (those inside one do not widen the page).
WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth)
  .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return false; }
    return true; })
  .map(e => [e.tagName + '.' + e.className + '#' + e.id,
             Math.round(e.getBoundingClientRect().right)]).slice(0, 8)"""
RENDERED = """() => [...document.querySelectorAll('.figure')]
  .every(e => e.dataset.rendered === 'true')"""


def _both_widths(page, name: str) -> None:
    """Desktop and phone screenshots of the page shown now; at 390 px nothing
    may widen the page (a wide table scrolls in its own box instead). The page
    is loaded again at each width: Plotly sizes its figures on load."""
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-390")):
        page.set_viewport_size(viewport)
        page.reload()
        page.wait_for_function(RENDERED)
        if viewport is PHONE:
            width = page.evaluate("() => document.scrollingElement.scrollWidth")
            assert width <= PHONE["width"], (name, page.evaluate(WIDE_ELEMENTS))
        _shot(page, name + suffix, docs=True)
    page.set_viewport_size(DESKTOP)


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_admin_cannot_promote_an_emgdb_candidate_but_promotes_a_held_out_one(
    live_server, held_out, browser
):
    # `held_out` (and the `app` it builds on) come before `browser`: their
    # database work must not run inside Playwright's event loop.
    base = live_server.url
    context = _context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A one-epoch retraining on emgdb only: one person per class, so its
    # validation can only be a later time block of the same three people.
    _login(page, base, "admin")
    page.goto(f"{base}/retraining/new/")
    page.check("#id_use_emgdb")
    page.uncheck("#id_use_n2001")
    page.select_option("#id_method", "tl")
    page.fill("#id_epochs", "1")
    page.get_by_role("button", name="Start retraining").click()
    page.wait_for_url("**/retraining/*/")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent === 'Succeeded'"
    )
    page.wait_for_selector("#run-candidate:not([hidden])")
    href = page.locator("#run-candidate-link").get_attribute("href")
    candidate_id = int(re.search(r"/models/(\d+)/", href).group(1))

    # The registry says why it cannot be promoted and offers no button.
    _nav(page, "Models").click()
    row = page.locator(f"#model-{candidate_id}")
    refusal = row.locator(".cannot-promote").inner_text()
    assert "Cannot be promoted" in refusal
    # The run recorded how it was validated: a later time block of the same
    # three people, which says nothing about a new patient.
    assert "not on people it never saw" in refusal, refusal
    assert "same people" in row.locator("dd.protocol").inner_text()
    assert row.get_by_role("link", name="Promote…").count() == 0
    # Its promotion page neither: the reason, and no form to send.
    page.goto(f"{base}/models/{candidate_id}/promote/")
    assert "Cannot be promoted" in page.locator("#promotion-refused").inner_text()
    assert page.get_by_role("button", name="Promote").count() == 0
    # A form sent anyway (an old tab, a hand-made request) is refused by the
    # gate itself, which audits the refusal with the reason given.
    response = page.request.post(
        f"{base}/models/{candidate_id}/promote/",
        form={"reason": "It scored 1.00 on emgdb.", "confirm": "on"},
        headers={"X-CSRFToken": _csrf(page), "Referer": page.url},
    )
    assert response.ok and "cannot be promoted" in response.text()
    assert not ModelVersion.objects.get(pk=candidate_id).is_active

    # The held-out version: the page asks for a tick and a reason first.
    _nav(page, "Models").click()
    page.locator(f"#model-{held_out.pk}").get_by_role("link", name="Promote…").click()
    page.wait_for_url(f"**/models/{held_out.pk}/promote/")
    assert "subject-held-out" in page.locator("dd.protocol").inner_text()
    page.get_by_role("button", name="Promote").click()
    page.wait_for_selector("#id_confirm_error")
    page.wait_for_selector("#id_reason_error")
    page.fill("#id_reason", "Held-out evaluation on nine people passes the gate.")
    page.get_by_role("button", name="Promote").click()
    page.wait_for_selector("#id_confirm_error")  # a reason alone is not enough
    assert not ModelVersion.objects.get(pk=held_out.pk).is_active
    page.check("#id_confirm")
    page.get_by_role("button", name="Promote").click()
    page.wait_for_url(f"{base}/models/")
    assert "is now the active model" in page.content()
    assert page.locator(f"#model-{held_out.pk}").get_attribute("class") == "active"
    _both_widths(page, "admin-models")
    _logout(page)

    # The auditor's trail: both, with their reasons, objects named in words.
    _login(page, base, "auditor")
    _nav(page, "Audit trail").click()
    text = page.locator("main").inner_text()
    for expected in (
        "Promotion refused",
        "It scored 1.00 on emgdb.",
        "Promoted model",
        "Held-out evaluation on nine people passes the gate.",
        f"Model version {held_out.name} held-out-1 (disease)",
    ):
        assert expected in text, expected
    assert not re.search(r"modelversion \d|\{'|: None", text)
    _both_widths(page, "auditor-audit")
    export = page.request.get(f"{base}/audit/export.csv")
    rows = list(csv.DictReader(io.StringIO(export.text())))
    refused = [r for r in rows if r["action"] == "Promotion refused"]
    promoted = [r for r in rows if r["action"] == "Promoted model" and r["user"]]
    assert len(refused) == 1 and len(promoted) == 1
    assert "Reason given: It scored 1.00 on emgdb." in refused[0]["details"]
    assert "cannot be promoted" in refused[0]["details"]
    assert "Reason: Held-out evaluation" in promoted[0]["details"]
    assert (
        promoted[0]["object"] == f"Model version {held_out.name} held-out-1 (disease)"
    )
    for r in rows:
        assert not re.search(r"modelversion \d|\{'|: None", r["object"] + r["details"])
    context.close()
    assert errors == []


def _report_evaluation(page) -> tuple[str, str]:
    return (
        page.locator("#evaluation dd.protocol").inner_text(),
        page.locator("#evaluation table.metrics").inner_text(),
    )


def _evaluation_csv_rows(page, url: str) -> list[list[str]]:
    text = page.request.get(url).text()
    return [r for r in csv.reader(io.StringIO(text)) if r and r[0] == "evaluation"]


def test_auditor_curves_keep_the_cards_evaluation(
    live_server, active_held_out, browser
):
    base = live_server.url
    mv = active_held_out
    context = _context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, "auditor")
    _nav(page, "Models").click()
    card = page.locator("tr.active").inner_text()
    page.locator("tr.active").get_by_role("link", name="Per-class report").click()
    page.wait_for_url(f"**/models/{mv.pk}/report/")
    protocol, table = _report_evaluation(page)
    assert "subject-held-out" in protocol
    # The card's figures (tests/conftest.py): 0.90 sensitivity, 0.80 specificity.
    assert "0.90" in table and "0.80" in table
    csv_url = f"{base}/models/{mv.pk}/report.csv"
    before_csv = _evaluation_csv_rows(page, csv_url)
    assert any(r[2] == "sensitivity" and float(r[3]) == 0.9 for r in before_csv)

    page.get_by_role("button", name="Compute the curves on the evaluation set").click()
    page.wait_for_selector("[data-figure=evaluation-roc][data-rendered=true] svg")
    page.wait_for_selector(
        "[data-figure=evaluation-curves-reliability][data-rendered=true] svg"
    )
    # The card's evaluation is unchanged, on the page and in the CSV ...
    assert _report_evaluation(page) == (protocol, table)
    assert _evaluation_csv_rows(page, csv_url) == before_csv
    # ... and the curves say which data they were computed on.
    curves = page.locator("#curves-source").inner_text()
    assert "computed on" in curves and "n = " in curves
    _both_widths(page, "auditor-report-curves")
    # ... as is the registry's card of the version.
    _nav(page, "Models").click()
    assert page.locator("tr.active").inner_text() == card
    context.close()
    assert errors == []
    event = AuditEvent.objects.get(action=AuditEvent.Action.REPORT_COMPUTED)
    assert event.object_id == str(mv.pk)


def test_a_training_recording_says_so_beside_the_performance_sentence(
    live_server, active_held_out, browser, emgdb
):
    base = live_server.url
    context = _context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, "clinician")
    _nav(page, "New upload").click()
    page.fill("#id_patient_code", "P-0077")
    page.fill("#id_muscle", "biceps brachii")
    page.select_option("#id_side", "RIGHT")
    page.select_option("#id_electrode_type", "NEEDLE")
    page.set_input_files(
        "#id_files",
        [str(emgdb / "emg_healthy.hea"), str(emgdb / "emg_healthy.dat")],
    )
    page.get_by_role("button", name="Upload and analyse").click()
    page.wait_for_url("**/jobs/*/result/")
    page.wait_for_selector("#figure[data-rendered=true] svg")
    notice = page.locator("#training-recording-notice").inner_text()
    assert "one of this model's training recordings" in notice
    sentence = page.locator("#performance-sentence").inner_text()
    assert sentence.startswith("On people it has not seen, this model")
    assert page.input_value("#id_diagnosis") == ""
    _both_widths(page, "clinician-result-training-recording")
    context.close()
    assert errors == []
