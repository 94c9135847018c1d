"""Leases, attempts and the sweep of retraining runs and gesture adaptation
sessions (clinic/services/jobs.py), as for analysis jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from clinic import services
from clinic.gestures import services as gesture_services
from clinic.gestures.models import GestureSession
from clinic.gestures.tasks import gesture_adaptation_run_task
from clinic.models import AuditEvent, ModelVersion, RetrainingRun
from clinic.services import retraining
from clinic.services.jobs import gesture_sessions_sweep, retraining_runs_sweep
from clinic.tasks import retraining_run_task
from clinic.worker_sweep import _sweep_once
from tests.clinic.factories import make_user
from tests.conftest import make_tiny_disease_checkpoint

# Fixtures: gesture_model, person_file, fast_adaptation.
pytestmark = pytest.mark.django_db
Run = RetrainingRun.Status
Session = GestureSession.Status


def _ago(settings, extra_s: float = 1) -> datetime:
    return timezone.now() - timedelta(seconds=settings.EMG_JOB_LEASE_S + extra_s)


# -- retraining runs ---------------------------------------------------------------
@pytest.fixture
def train_calls(monkeypatch):
    """Stand in for the training (``retraining._train_candidate``): record, succeed."""
    calls = []

    def fake(run_id):
        calls.append(run_id)
        return RetrainingRun.objects.get(pk=run_id).base_model

    monkeypatch.setattr(retraining, "_train_candidate", fake)
    return calls


def _run(active_model) -> RetrainingRun:
    # No commit in these tests, so nothing is sent to the queue.
    return services.retraining_start(
        user=make_user("admin"), base_model=active_model, epochs=1, method="scratch"
    )


def test_a_retraining_that_kills_its_worker_every_time_ends_failed(
    active_model, train_calls, settings
):
    run = _run(active_model)
    RetrainingRun.objects.filter(pk=run.pk).update(
        status=Run.RUNNING,
        heartbeat_at=_ago(settings),
        attempts=settings.EMG_JOB_MAX_ATTEMPTS,
    )
    assert services.retraining_run(run_id=run.pk) == "gave_up"
    run.refresh_from_db()
    assert run.status == Run.FAILED and train_calls == [] and run.finished_at
    n = settings.EMG_JOB_MAX_ATTEMPTS
    assert f"Retraining {run.pk} stopped {n} times" in run.error_message
    assert f"Reference: retraining {run.pk}." in run.error_message
    assert "Traceback" not in run.error_message
    assert services.retraining_run(run_id=run.pk) == "done"  # and stays failed


def test_a_finished_retraining_is_not_run_again_by_a_redelivered_message(
    active_model, train_calls
):
    run = _run(active_model)
    retraining_run_task.run(run.pk)
    run.refresh_from_db()
    assert run.status == Run.SUCCEEDED, run.error_message
    assert run.attempts == 1 and run.heartbeat_at is not None
    before = (run.finished_at, run.candidate_id)
    assert services.retraining_run(run_id=run.pk) == "done"
    retraining_run_task.run(run.pk)
    run.refresh_from_db()
    assert train_calls == [run.pk] and (run.finished_at, run.candidate_id) == before
    assert run.attempts == 1


def test_a_cancelled_retraining_is_never_claimed_again(
    active_model, train_calls, settings
):
    run = _run(active_model)
    RetrainingRun.objects.filter(pk=run.pk).update(
        status=Run.CANCELLED, heartbeat_at=_ago(settings), created_at=_ago(settings)
    )
    assert services.retraining_run(run_id=run.pk) == "done"
    assert retraining_runs_sweep() == [] and train_calls == []
    assert RetrainingRun.objects.get(pk=run.pk).status == Run.CANCELLED


def test_a_retraining_whose_worker_died_after_a_cancel_ends_cancelled(
    active_model, train_calls, settings
):
    run = _run(active_model)
    RetrainingRun.objects.filter(pk=run.pk).update(
        status=Run.RUNNING,
        heartbeat_at=_ago(settings),
        attempts=1,
        cancel_requested=True,
    )
    assert services.retraining_run(run_id=run.pk) == "claimed"
    assert RetrainingRun.objects.get(pk=run.pk).status == Run.CANCELLED
    assert train_calls == []


def test_a_retraining_message_that_meets_a_live_lease_retries_after_a_lease(
    active_model, train_calls, settings, monkeypatch
):
    run = _run(active_model)
    RetrainingRun.objects.filter(pk=run.pk).update(
        status=Run.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )
    asked = []
    monkeypatch.setattr(
        retraining_run_task, "retry", lambda **kw: asked.append(kw) or Retry()
    )
    with pytest.raises(Retry):
        retraining_run_task.run(run.pk)
    assert asked[0]["countdown"] == settings.EMG_JOB_LEASE_S and train_calls == []


def test_the_sweep_resends_run_out_retraining_leases_and_old_queued_runs_only(
    active_model, settings, monkeypatch
):
    sent = []
    monkeypatch.setattr(retraining, "_retraining_send", sent.append)
    old = _ago(settings)
    dead, live, waiting, fresh, done = (_run(active_model) for _ in range(5))
    RetrainingRun.objects.filter(pk=dead.pk).update(
        status=Run.RUNNING, heartbeat_at=old
    )
    RetrainingRun.objects.filter(pk=live.pk).update(
        status=Run.RUNNING, heartbeat_at=timezone.now()
    )
    RetrainingRun.objects.filter(pk=waiting.pk).update(created_at=old)
    RetrainingRun.objects.filter(pk=done.pk).update(
        status=Run.SUCCEEDED, heartbeat_at=old, created_at=old
    )
    assert sorted(retraining_runs_sweep()) == sorted([dead.pk, waiting.pk])
    assert sorted(sent) == sorted([dead.pk, waiting.pk])


class _Killed(BaseException):
    """Stands in for a SIGKILL: no ``except Exception`` of the service stops it."""


@pytest.mark.parametrize("dies_in", ["job_succeed", "_audit_finished"])
def test_a_retraining_killed_after_registering_its_candidate_finishes_with_it(
    active_model, settings, monkeypatch, tmp_path, dies_in
):
    # Registering, marking the run SUCCEEDED and auditing it are separate steps;
    # a worker that dies between them must not leave a run that trains again and
    # is refused ("already registered"), nor a SUCCEEDED run with no audit entry.
    run = _run(active_model)
    trained = []

    def train(run_id):
        trained.append(run_id)
        path = make_tiny_disease_checkpoint(
            tmp_path / "candidate.pt", metrics={"retraining_run": run_id}
        )
        return services.model_version_register(
            checkpoint_path=path, version=f"retrain-{run_id}"
        )

    monkeypatch.setattr(retraining, "_train_candidate", train)
    real = getattr(retraining, dies_in)

    def dies(*args, **fields):
        raise _Killed  # while marking the run SUCCEEDED, or auditing it

    monkeypatch.setattr(retraining, dies_in, dies)
    with pytest.raises(_Killed):
        services.retraining_run(run_id=run.pk)
    assert RetrainingRun.objects.get(pk=run.pk).status == Run.RUNNING
    monkeypatch.setattr(retraining, dies_in, real)
    RetrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=_ago(settings))
    assert services.retraining_run(run_id=run.pk) == "claimed"
    run.refresh_from_db()
    assert run.status == Run.SUCCEEDED, run.error_message
    assert trained == [run.pk] and run.attempts == 2  # not trained again
    assert ModelVersion.objects.filter(version=f"retrain-{run.pk}").count() == 1
    assert run.candidate.version == f"retrain-{run.pk}"
    retrained = AuditEvent.objects.filter(action=AuditEvent.Action.RETRAINED)
    assert retrained.count() == 1


def test_the_retraining_service_enqueues_through_the_send_the_sweep_uses(
    active_model, django_capture_on_commit_callbacks, monkeypatch
):
    class _Result:
        id = "task-1"

    sent = []
    monkeypatch.setattr(
        retraining, "_retraining_send", lambda pk: sent.append(pk) or _Result()
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(active_model)
    assert sent == [run.pk] and RetrainingRun.objects.get(pk=run.pk).task_id == "task-1"


# -- gesture adaptation sessions ---------------------------------------------------
def _session(gesture_model, files) -> GestureSession:
    return gesture_services.gesture_session_create(
        user=make_user("clinician"),
        base_model=gesture_model,
        layout="myo-readings",
        files=files,
        person_code="G-44444",
        k=1,
    )


@pytest.fixture
def adapt_calls(monkeypatch):
    """Count the real adaptation calls (``gesture_services._adapt``)."""
    calls = []
    real = gesture_services._adapt

    def spy(session, checkpoint, workdir):
        calls.append(session.pk)
        return real(session, checkpoint, workdir)

    monkeypatch.setattr(gesture_services, "_adapt", spy)
    return calls


def test_a_gesture_session_that_kills_its_worker_every_time_ends_failed(
    gesture_model, person_file, adapt_calls, settings
):
    session = _session(gesture_model, [person_file()])
    GestureSession.objects.filter(pk=session.pk).update(
        status=Session.RUNNING,
        heartbeat_at=_ago(settings),
        attempts=settings.EMG_JOB_MAX_ATTEMPTS,
    )
    assert gesture_services.gesture_adaptation_run(session_id=session.pk) == "gave_up"
    session.refresh_from_db()
    assert session.status == Session.FAILED and adapt_calls == []
    n = settings.EMG_JOB_MAX_ATTEMPTS
    assert f"gesture session {session.pk} stopped {n} times" in session.error_message
    assert f"Reference: gesture session {session.pk}." in session.error_message
    assert "Traceback" not in session.error_message and session.finished_at
    assert gesture_services.gesture_adaptation_run(session_id=session.pk) == "done"


def test_a_finished_gesture_session_is_not_run_again_by_a_redelivered_message(
    gesture_model, person_file, fast_adaptation, adapt_calls
):
    session = _session(gesture_model, [person_file()])
    assert gesture_services.gesture_adaptation_run(session_id=session.pk) == "claimed"
    session.refresh_from_db()
    assert session.status == Session.SUCCEEDED, session.error_message
    first = (session.finished_at, session.adapted_sha256)
    gesture_adaptation_run_task.run(session.pk)
    session.refresh_from_db()
    assert (session.finished_at, session.adapted_sha256) == first
    assert adapt_calls == [session.pk] and session.attempts == 1


def test_a_gesture_message_that_meets_a_live_lease_retries_after_a_lease(
    gesture_model, person_file, adapt_calls, settings, monkeypatch
):
    session = _session(gesture_model, [person_file()])
    GestureSession.objects.filter(pk=session.pk).update(
        status=Session.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )
    asked = []
    monkeypatch.setattr(
        gesture_adaptation_run_task, "retry", lambda **kw: asked.append(kw) or Retry()
    )
    with pytest.raises(Retry):
        gesture_adaptation_run_task.run(session.pk)
    assert asked[0]["countdown"] == settings.EMG_JOB_LEASE_S and adapt_calls == []


def test_the_sweep_resends_run_out_gesture_leases_and_old_queued_sessions_only(
    gesture_model, person_file, settings, monkeypatch
):
    sent = []
    monkeypatch.setattr(gesture_services, "_gesture_adaptation_send", sent.append)
    old = _ago(settings)
    dead, live, waiting, fresh, done = (
        _session(gesture_model, [person_file()]) for _ in range(5)
    )
    GestureSession.objects.filter(pk=dead.pk).update(
        status=Session.RUNNING, heartbeat_at=old
    )
    GestureSession.objects.filter(pk=live.pk).update(
        status=Session.RUNNING, heartbeat_at=timezone.now()
    )
    GestureSession.objects.filter(pk=waiting.pk).update(created_at=old)
    GestureSession.objects.filter(pk=done.pk).update(
        status=Session.FAILED, heartbeat_at=old, created_at=old
    )
    assert sorted(gesture_sessions_sweep()) == sorted([dead.pk, waiting.pk])
    assert sorted(sent) == sorted([dead.pk, waiting.pk])


# -- the worker's sweep ------------------------------------------------------------
def test_the_worker_sweep_resends_lost_jobs_of_every_kind(
    active_model, gesture_model, person_file, uploaded_files, settings, monkeypatch
):
    from clinic.models import AnalysisJob, Upload

    sent = []
    for target, kind in (
        ("clinic.services.analysis._analysis_send", "analysis"),
        ("clinic.services.retraining._retraining_send", "retraining"),
        ("clinic.gestures.services._gesture_adaptation_send", "gesture"),
    ):
        monkeypatch.setattr(target, lambda pk, kind=kind: sent.append((kind, pk)))
    job = services.upload_create(
        user=make_user("clinician"),
        files=uploaded_files("emg_healthy"),
        patient_code="P-L",
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )
    run = _run(active_model)
    session = _session(gesture_model, [person_file()])
    old = _ago(settings)
    for model, pk in ((AnalysisJob, job.pk), (RetrainingRun, run.pk)):
        model.objects.filter(pk=pk).update(status="RUNNING", heartbeat_at=old)
    GestureSession.objects.filter(pk=session.pk).update(created_at=old)
    # It would close the test's connection, inside the test's transaction.
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    _sweep_once()
    assert sorted(sent) == sorted(
        [("analysis", job.pk), ("retraining", run.pk), ("gesture", session.pk)]
    )
