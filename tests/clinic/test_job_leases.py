"""Leases, attempts and the sweep of analysis jobs (clinic/services/jobs.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import AnalysisJob, Result, Upload
from clinic.services import analysis_run, upload_create
from clinic.services.jobs import analysis_jobs_sweep
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db
Status = AnalysisJob.Status


def _job(files) -> AnalysisJob:
    return upload_create(
        user=make_user("clinician"),
        files=files,
        patient_code="P-L",
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )


def test_a_job_that_kills_its_worker_every_time_ends_failed_not_in_a_loop(
    uploaded_files, active_model, predict_calls, settings
):
    job = _job(uploaded_files("emg_healthy"))
    long_ago = timezone.now() - timedelta(seconds=settings.EMG_JOB_LEASE_S + 1)
    # Three claims whose worker died (lease run out each time): the next gives up.
    AnalysisJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING,
        heartbeat_at=long_ago,
        attempts=settings.EMG_JOB_MAX_ATTEMPTS,
    )
    assert analysis_run(job_id=job.pk) == "gave_up"
    job.refresh_from_db()
    assert job.status == Status.FAILED and predict_calls == []
    assert f"stopped {settings.EMG_JOB_MAX_ATTEMPTS} times" in job.error_message
    assert "Traceback" not in job.error_message
    assert analysis_run(job_id=job.pk) == "done"  # and stays failed


def test_a_finished_job_is_not_run_again_by_a_redelivered_message(
    uploaded_files, active_model, predict_calls
):
    job = _job(uploaded_files("emg_healthy"))
    assert analysis_run(job_id=job.pk) == "claimed"
    assert analysis_run(job_id=job.pk) == "done"
    assert Result.objects.filter(job=job).count() == 1 and len(predict_calls) == 1
    assert AnalysisJob.objects.get(pk=job.pk).attempts == 1


def test_the_sweep_resends_run_out_leases_and_old_queued_jobs_only(
    uploaded_files, settings, monkeypatch
):
    sent = []
    monkeypatch.setattr("clinic.services.analysis._analysis_send", sent.append)
    now = timezone.now()
    old = now - timedelta(seconds=settings.EMG_JOB_LEASE_S + 1)
    dead, live, waiting, fresh = (_job(uploaded_files("emg_healthy")) for _ in range(4))
    AnalysisJob.objects.filter(pk=dead.pk).update(
        status=Status.RUNNING, heartbeat_at=old
    )
    AnalysisJob.objects.filter(pk=live.pk).update(
        status=Status.RUNNING, heartbeat_at=now
    )
    AnalysisJob.objects.filter(pk=waiting.pk).update(created_at=old)
    assert sorted(analysis_jobs_sweep()) == sorted([dead.pk, waiting.pk])
    assert sorted(sent) == sorted([dead.pk, waiting.pk])
    assert fresh.pk not in sent
