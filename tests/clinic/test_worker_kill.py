"""A SIGKILLed worker loses no analysis job (real Redis, PostgreSQL and workers).

The job is slowed down after its claim (EMG_ANALYSIS_TEST_DELAY_S) so it is
RUNNING when the kill comes; leases are 2 s so the test is short.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from celery import Celery

from clinic.models import AnalysisJob, AuditEvent, Result, Upload
from clinic.services import model_version_register, upload_create
from tests.clinic.factories import make_user
from tests.clinic.workers import celery_worker, pool_processes, this_tests_app_env

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
Status = AnalysisJob.Status


def _wait_for(job_id: int, statuses: set[str], timeout: float = 90) -> AnalysisJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = AnalysisJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} stayed {job.status} (progress {job.progress})")


@pytest.fixture
def kill_setup(
    redis_url, tmp_path, monkeypatch, model_dir, uploaded_files, tiny_clinic_checkpoint
):
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    client = Celery("clinic", broker=redis_url)
    monkeypatch.setattr(
        "clinic.services.analysis._analysis_send",
        lambda job_id: client.send_task(
            "clinic.tasks.analysis_run_task", args=[job_id], queue=queue
        ),
    )
    model_version_register(checkpoint_path=tiny_clinic_checkpoint, activate=True)
    env = this_tests_app_env(redis_url, model_dir, tmp_path / "var")
    env.update(
        EMG_JOB_LEASE_S="2",
        EMG_ANALYSIS_TEST_DELAY_S="4",
        EMG_ANALYSIS_QUEUE=queue,
        EMG_WORKER_THREADS="1",
    )
    job = upload_create(
        user=make_user("clinician"),
        files=uploaded_files("emg_healthy"),
        patient_code="KILL-1",
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )
    return queue, env, job


def _assert_finished_once(job: AnalysisJob) -> None:
    job = _wait_for(job.pk, {Status.SUCCEEDED, Status.FAILED})
    assert job.status == Status.SUCCEEDED, job.error_message
    assert Result.objects.filter(job=job).count() == 1
    assert job.attempts == 2  # the killed claim and the one that finished
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPLOADED).count() == 1


def test_a_killed_pool_process_loses_no_job(kill_setup, tmp_path):
    queue, env, job = kill_setup
    with celery_worker(queue, tmp_path / "w1.log", pool="prefork", **env) as proc:
        _wait_for(job.pk, {Status.RUNNING})
        time.sleep(1)  # inside the test delay, after the claim
        children = pool_processes(proc.pid)
        assert children, "the prefork worker has no pool process"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        # The worker's main process starts a new pool process; the message comes
        # back (reject_on_worker_lost) or the sweep sends it once the lease runs out.
        _assert_finished_once(job)


def test_a_killed_worker_loses_no_job_once_another_starts(kill_setup, tmp_path):
    queue, env, job = kill_setup
    with celery_worker(queue, tmp_path / "w1.log", pool="prefork", **env) as proc:
        _wait_for(job.pk, {Status.RUNNING})
        time.sleep(1)
        for pid in [*pool_processes(proc.pid), proc.pid]:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert AnalysisJob.objects.get(pk=job.pk).status == Status.RUNNING
    with celery_worker(queue, tmp_path / "w2.log", **env):
        # Its start-up sweep sends the job again once the dead lease ran out.
        _assert_finished_once(job)


def test_a_job_that_kills_its_worker_each_time_ends_failed(kill_setup, tmp_path):
    queue, env, job = kill_setup
    # One attempt allowed: the kill of the first is "each time".
    env = {**env, "EMG_JOB_MAX_ATTEMPTS": "1"}
    with celery_worker(queue, tmp_path / "w1.log", pool="prefork", **env) as proc:
        _wait_for(job.pk, {Status.RUNNING})
        time.sleep(1)
        for pid in pool_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
        job = _wait_for(job.pk, {Status.SUCCEEDED, Status.FAILED})
        assert job.status == Status.FAILED and job.attempts == 2
        assert "The analysis stopped 1 times" in job.error_message
        assert f"Reference: job {job.pk}." in job.error_message
        time.sleep(3)  # a lease and more: a late copy of the message runs nothing
    job.refresh_from_db()
    assert job.status == Status.FAILED and not Result.objects.filter(job=job).exists()
