"""The job layer (clinic/services/jobs.py, clinic/job_model.py), once for each
kind of job: analysis jobs, retraining runs, gesture adaptation sessions."""

from __future__ import annotations

import io
import logging
import uuid

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.db import OperationalError

from clinic.errors import GENERIC_ANALYSIS_ERROR, GENERIC_JOB_ERROR, UserFacingError
from clinic.gestures.models import GestureModel, GestureSession
from clinic.job_model import TrackedJob
from clinic.models import AnalysisJob, RetrainingRun
from clinic.services import jobs, reports
from emgcore.errors import EmgCoreError
from tests.clinic.factories import (
    AnalysisJobFactory,
    ModelVersionFactory,
    RetrainingRunFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


def _analysis_job() -> AnalysisJob:
    return AnalysisJobFactory()


def _retraining_run() -> RetrainingRun:
    return RetrainingRunFactory()


def _gesture_session() -> GestureSession:
    # A registered row is enough: these tests never load the checkpoint.
    base = GestureModel.objects.create(
        name="tiny",
        dataset="myo-readings",
        layout="myo-readings",
        checkpoint_path="tiny.pt",
        sha256=uuid.uuid4().hex * 2,
    )
    return GestureSession.objects.create(
        person_code="G-1",
        base_model=base,
        layout="myo-readings",
        k=1,
        created_by=make_user("clinician"),
    )


@pytest.fixture(params=[_analysis_job, _retraining_run, _gesture_session])
def job(request) -> TrackedJob:
    """A QUEUED row of each kind in turn."""
    return request.param()


def _kind(job: TrackedJob) -> jobs.JobKind:
    return jobs.KINDS[job._meta.label]


def _reload(job: TrackedJob) -> TrackedJob:
    return type(job).objects.get(pk=job.pk)


def _run(job: TrackedJob, body) -> str:
    return jobs.job_run_claimed(type(job), job.pk, body)


def test_every_kind_is_a_tracked_job_with_a_kind(job):
    assert isinstance(job, TrackedJob)
    assert job.status == job.Status.QUEUED and job.progress == 0
    assert not job.is_finished
    assert type(job) in jobs.job_models()


def test_a_queue_that_is_down_ends_the_job_failed_with_a_plain_message(
    job, monkeypatch, django_capture_on_commit_callbacks
):
    def down(pk):
        raise ConnectionError("broker unreachable at redis://secret-host")

    monkeypatch.setattr(_kind(job).send.replace(":", "."), down)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_enqueue_after_commit(type(job), job.pk)
    job = _reload(job)
    assert job.status == job.Status.FAILED and job.finished_at and job.is_finished
    assert "task queue is unavailable" in job.error_message
    assert job.error_message.endswith(
        f"Reference: {_kind(job).reference.format(pk=job.pk)}."
    )
    assert "secret-host" not in job.error_message


def test_the_task_is_sent_after_the_commit_and_its_id_kept(
    job, monkeypatch, django_capture_on_commit_callbacks
):
    class _Sent:
        id = "task-7"

    sent = []
    monkeypatch.setattr(
        _kind(job).send.replace(":", "."), lambda pk: sent.append(pk) or _Sent()
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.job_enqueue_after_commit(type(job), job.pk)
    assert sent == []  # the worker must find the row: nothing before the commit
    callbacks[0]()
    job = _reload(job)
    assert sent == [job.pk] and job.task_id == "task-7"
    assert job.status == job.Status.QUEUED


@pytest.mark.parametrize(
    "error",
    [UserFacingError("Choose another file."), EmgCoreError("Choose another file.")],
)
def test_a_user_error_ends_the_job_failed_with_its_own_message(job, error):
    def body(pk):
        raise error

    assert _run(job, body) == jobs.CLAIMED
    job = _reload(job)
    assert job.status == job.Status.FAILED and job.finished_at
    assert job.error_message == "Choose another file."


def test_an_unexpected_error_is_logged_and_the_user_reads_a_generic_message(
    job, caplog
):
    def body(pk):
        raise RuntimeError("secret internal detail")

    kind = _kind(job)
    with caplog.at_level(logging.ERROR, logger=kind.logger.name):
        _run(job, body)
    job = _reload(job)
    assert job.status == job.Status.FAILED
    assert job.error_message == kind.message(GENERIC_JOB_ERROR, job.pk)
    if isinstance(job, AnalysisJob):  # the words analysis jobs always had
        assert job.error_message == GENERIC_ANALYSIS_ERROR.format(job_id=job.pk)
    assert "secret" not in job.error_message and "Traceback" not in job.error_message
    logged = [r for r in caplog.records if r.name == kind.logger.name]
    assert any("secret internal detail" in (r.exc_text or "") for r in logged)


def test_a_value_error_is_a_user_error_only_for_a_retraining(job):
    def body(pk):
        raise ValueError("Fewer epochs, please.")

    _run(job, body)
    job = _reload(job)
    assert job.status == job.Status.FAILED
    if isinstance(job, RetrainingRun):  # emgcore's settings that do not fit
        assert job.error_message == "Fewer epochs, please."
    else:
        assert job.error_message == _kind(job).message(GENERIC_JOB_ERROR, job.pk)


def test_a_job_out_of_time_ends_failed_naming_the_limit(job):
    def body(pk):
        raise SoftTimeLimitExceeded()

    _run(job, body)
    job = _reload(job)
    kind = _kind(job)
    assert job.status == job.Status.FAILED
    assert f"the {kind.soft_time_limit_s} s limit and was stopped" in job.error_message
    assert job.error_message.endswith(f"Reference: {kind.reference.format(pk=job.pk)}.")


def test_a_lost_database_gives_the_job_back_for_the_retry(job):
    def body(pk):
        jobs.job_progress(type(job), pk, 40)
        raise OperationalError("server closed the connection")

    with pytest.raises(OperationalError):
        _run(job, body)
    job = _reload(job)
    assert job.status == job.Status.QUEUED and job.progress == 0
    assert job.error_message == ""


def test_progress_moves_while_running_and_a_success_ends_at_100(job):
    seen = []

    def body(pk):
        model = type(job)
        assert jobs.job_progress(model, pk, 40) == 1
        seen.append(_reload(job).progress)
        assert jobs.job_succeed(model, pk) == 1

    assert _run(job, body) == jobs.CLAIMED
    job = _reload(job)
    assert seen == [40]
    assert job.status == job.Status.SUCCEEDED and job.progress == 100
    assert job.finished_at and job.attempts == 1 and job.is_finished
    # A finished job is never written again, nor claimed.
    assert jobs.job_progress(type(job), job.pk, 50) == 0
    assert jobs.job_fail(type(job), job.pk, "late") == 0
    assert _run(job, lambda pk: pytest.fail("ran again")) == jobs.DONE
    assert _reload(job).progress == 100


def test_a_cancelled_retraining_is_finished():
    run = RetrainingRunFactory(status=RetrainingRun.Status.CANCELLED)
    assert run.is_finished
    assert RetrainingRun.Status.CANCELLED in RetrainingRun.FINISHED_STATUSES


def test_the_shared_columns_need_no_migration():
    out = io.StringIO()
    # --check exits non-zero when the models and the migrations differ.
    call_command(
        "makemigrations", "clinic", "gestures", check=True, dry_run=True, stdout=out
    )
    assert "No changes detected" in out.getvalue()


# -- report jobs: their state lives in ModelVersion.report_cache, not on a job
# row, but they end with the same split of errors.
@pytest.mark.parametrize(
    "error, message",
    [
        (UserFacingError("The evaluation set is gone."), "The evaluation set is gone."),
        (RuntimeError("secret internal detail"), reports.REPORT_UNEXPECTED_ERROR),
    ],
)
def test_a_report_job_ends_failed_with_the_user_error_or_a_generic_message(
    monkeypatch, caplog, error, message
):
    mv = ModelVersionFactory()

    def compute(**kwargs):
        raise error

    monkeypatch.setattr(reports, "model_version_report_compute", compute)
    with caplog.at_level(logging.INFO, logger=reports.logger.name):
        reports.model_version_report_run(
            model_version_id=mv.pk, user_id=make_user("auditor").pk
        )
    mv.refresh_from_db()
    job = reports.report_job(mv)
    assert job["state"] == "failed" and job["message"] == message
    assert job["finished_at"]
    traced = any("secret" in (r.exc_text or "") for r in caplog.records)
    assert traced == isinstance(error, RuntimeError)  # only the unexpected
