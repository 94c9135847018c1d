"""Job pages: elapsed time and an estimate, failed jobs' next steps, and the
retraining cancel that asks first and ends "Cancelled"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.job_timing import NO_ESTIMATE, duration_words
from clinic.models import AnalysisJob, AuditEvent, RetrainingRun
from tests.clinic.factories import (
    AnalysisJobFactory,
    RetrainingRunFactory,
    UploadFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


#: The clock the pages read (frozen, so that "30 s" is not "31 s" on a busy CPU).
NOW = timezone.now()


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    import clinic.job_timing

    monkeypatch.setattr(
        clinic.job_timing,
        "timezone",
        type("Clock", (), {"now": staticmethod(lambda: NOW)}),
    )


def _ran(obj, seconds: float, *, ago: float = 0.0, finished: bool = True) -> None:
    """Give ``obj`` a start ``seconds + ago`` s before NOW and (if finished) an end."""
    start = NOW - timedelta(seconds=seconds + ago)
    fields = {"started_at": start}
    if finished:
        fields["finished_at"] = start + timedelta(seconds=seconds)
    type(obj).objects.filter(pk=obj.pk).update(**fields)
    obj.refresh_from_db()


@pytest.mark.parametrize(
    "seconds,words",
    [
        (0, "0 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (7260, "2 h 1 min"),
    ],
)
def test_durations_read_in_words(seconds, words):
    assert duration_words(seconds) == words


def test_a_running_analysis_shows_elapsed_time_and_no_estimate_yet(client):
    user = make_user("clinician")
    job = AnalysisJobFactory(
        upload=UploadFactory(uploaded_by=user), status=AnalysisJob.Status.RUNNING
    )
    _ran(job, 30, finished=False)
    client.force_login(user)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert '<span id="job-elapsed">30 s</span>' in html
    assert f'<span id="job-remaining">{NO_ESTIMATE}</span>' in html
    status = client.get(f"/jobs/{job.pk}/status/").json()
    assert status["timing"]["remaining"] == NO_ESTIMATE
    assert status["timing"]["elapsed_s"] == pytest.approx(30)


def test_the_estimate_is_the_median_of_earlier_successful_analyses(client):
    user = make_user("clinician")
    # 60, 100 and 200 s succeeded (median 100 s); a failed 900 s job is ignored.
    for seconds, status in ((60, "SUCCEEDED"), (100, "SUCCEEDED"), (200, "SUCCEEDED")):
        _ran(AnalysisJobFactory(status=status), seconds, ago=1000)
    _ran(AnalysisJobFactory(status=AnalysisJob.Status.FAILED), 900, ago=1000)
    job = AnalysisJobFactory(
        upload=UploadFactory(uploaded_by=user), status=AnalysisJob.Status.RUNNING
    )
    _ran(job, 30, finished=False)
    client.force_login(user)
    timing = client.get(f"/jobs/{job.pk}/status/").json()["timing"]
    assert timing["expected_s"] == pytest.approx(100)
    assert timing["basis_n"] == 3
    assert timing["remaining"] == "about 1 min 10 s left"
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "about 1 min 10 s left" in html and "median of 3 earlier jobs" in html


def test_a_failed_analysis_shows_its_message_and_next_steps_not_a_bar(client):
    user = make_user("clinician")
    upload = UploadFactory(uploaded_by=user, patient_code="F-1")
    job = AnalysisJobFactory(
        upload=upload,
        status=AnalysisJob.Status.FAILED,
        progress=15,
        error_message="Line 3: 'abc' is not a number.",
    )
    _ran(job, 4)
    client.force_login(user)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Line 3: &#x27;abc&#x27; is not a number." in html
    assert '<div id="job-running" hidden>' in html  # the stalled 15 % bar
    assert '<div id="job-failed" class="next-steps">' in html
    assert 'href="/uploads/new/">upload it again</a>' in html
    assert "check the electrode" in html
    assert 'href="/">Back to recordings</a>' in html
    assert f'href="/uploads/{upload.pk}/remove/"' in html
    assert 'id="job-remaining-box" hidden' in html  # no estimate once finished
    # A running job's page keeps its next steps hidden until the job fails.
    running = AnalysisJobFactory(upload=upload, status=AnalysisJob.Status.RUNNING)
    html = client.get(f"/jobs/{running.pk}/").content.decode()
    assert '<div id="job-failed" class="next-steps" hidden>' in html


def test_retraining_estimates_from_seconds_per_epoch_of_earlier_runs(client):
    admin = make_user("admin")
    _ran(RetrainingRunFactory(status="SUCCEEDED", epochs=2), 100, ago=500)  # 50 s/ep
    run = RetrainingRunFactory(status=RetrainingRun.Status.RUNNING, epochs=4)
    _ran(run, 60, finished=False)
    client.force_login(admin)
    timing = client.get(f"/retraining/{run.pk}/status/").json()["timing"]
    assert timing["expected_s"] == pytest.approx(200)
    assert timing["remaining"] == "about 2 min 20 s left"
    html = client.get(f"/retraining/{run.pk}/").content.decode()
    assert '<span id="job-elapsed">1 min</span>' in html
    assert "about 2 min 20 s left" in html


def test_cancel_asks_for_confirmation_and_then_reads_cancelled(client):
    admin = make_user("admin")
    run = RetrainingRunFactory(started_by=admin)
    client.force_login(admin)
    html = client.get(f"/retraining/{run.pk}/").content.decode()
    # The run page links to a confirmation page; no form posts straight away.
    assert f'href="/retraining/{run.pk}/cancel/">Cancel the run…</a>' in html
    assert f'action="/retraining/{run.pk}/cancel/"' not in html
    page = client.get(f"/retraining/{run.pk}/cancel/").content.decode()
    assert 'type="checkbox" name="confirm"' in page and "confirm(" not in page
    assert "cancelled at once" in page
    assert client.post(f"/retraining/{run.pk}/cancel/").status_code == 400
    assert not AuditEvent.objects.filter(action="RETRAINING_CANCELLED").exists()
    response = client.post(f"/retraining/{run.pk}/cancel/", {"confirm": "on"})
    assert response.status_code == 302
    html = client.get(f"/retraining/{run.pk}/").content.decode()
    assert (
        '<strong id="run-status">Cancelled</strong><span id="run-cancel-note" hidden>'
        in html
    )
    assert "Cancel the run…" not in html.split('id="run-cancel"')[0]
    again = client.get(f"/retraining/{run.pk}/cancel/").content.decode()
    assert "already finished" in again and 'name="confirm"' not in again


def test_a_running_run_being_cancelled_says_cancellation_requested(client):
    admin = make_user("admin")
    run = RetrainingRunFactory(
        started_by=admin, status=RetrainingRun.Status.RUNNING, cancel_requested=True
    )
    client.force_login(admin)
    html = client.get(f"/retraining/{run.pk}/").content.decode()
    assert '<strong id="run-status">Running</strong><span id="run-cancel-note">' in html
    assert "cancellation requested" in html
    assert client.get(f"/retraining/{run.pk}/status/").json()["cancel_requested"]


def test_a_failed_run_shows_its_message_and_a_next_step(client):
    admin = make_user("admin")
    run = RetrainingRunFactory(
        started_by=admin,
        status=RetrainingRun.Status.FAILED,
        error_message="N2001 is not in the data folder.",
    )
    client.force_login(admin)
    html = client.get(f"/retraining/{run.pk}/").content.decode()
    assert "N2001 is not in the data folder." in html
    assert '<div id="run-running" hidden>' in html
    assert 'href="/retraining/new/">start a new retraining</a>' in html
    assert 'href="/retraining/">Back to the retraining runs</a>' in html


def test_a_gesture_session_shows_elapsed_time_and_an_estimate_by_k(
    client, gesture_model, make_gesture_session
):
    user = make_user("clinician")
    for k, seconds in ((1, 300), (3, 900)):
        done = make_gesture_session(
            user=user, gesture_model=gesture_model, status="SUCCEEDED", k=k
        )
        _ran(done, seconds, ago=100)
    running = make_gesture_session(
        user=user, gesture_model=gesture_model, status="RUNNING", k=1
    )
    _ran(running, 100, finished=False)
    client.force_login(user)
    timing = client.get(f"/gestures/{running.pk}/status/").json()["timing"]
    assert timing["expected_s"] == pytest.approx(300)  # the k = 1 session only
    assert timing["remaining"] == "about 3 min 20 s left"
    html = client.get(f"/gestures/{running.pk}/").content.decode()
    assert '<span id="job-elapsed">1 min 40 s</span>' in html
    failed = make_gesture_session(
        user=user, gesture_model=gesture_model, status="FAILED", error_message="x"
    )
    html = client.get(f"/gestures/{failed.pk}/").content.decode()
    assert '<div id="job-running" hidden>' in html
    assert "record the calibration again" in html
    assert 'href="/gestures/">Back to the gesture sessions</a>' in html
