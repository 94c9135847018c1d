"""A SIGKILLed worker loses no retraining run and no gesture adaptation (real
Redis, PostgreSQL and workers), as tests/clinic/test_worker_kill.py shows for
analysis jobs.

Each job sleeps after its claim (EMG_TRAINING_TEST_DELAY_S) so it is RUNNING
when the kill comes; leases are 2 s, and the models and data are tiny (one
epoch), so a test takes seconds after its worker has started. The worker
consumes a private queue that stands in for ``training`` (EMG_TRAINING_QUEUE),
so its retries and sweeps reach it too.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from celery import Celery
from django.db.models import Model

from clinic.gestures.models import GestureSession
from clinic.models import AuditEvent, ModelVersion, RetrainingRun
from tests.clinic.factories import make_user
from tests.clinic.workers import celery_worker, pool_processes, this_tests_app_env
from tests.conftest import make_tiny_disease_checkpoint

# Fixtures: gesture_model, person_file.
pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
FINISHED = {"SUCCEEDED", "FAILED", "CANCELLED"}


@dataclass
class Job:
    """One queued job of a kind, and what "finished exactly once" means for it."""

    model: type[Model]
    pk: int
    queue: str
    env: dict[str, str]
    #: Checks the rows a successful run leaves: exactly one of each.
    assert_one_result: Callable[[Model], None]
    gave_up_text: str

    def wait_for(self, statuses: set[str], timeout: float = 120) -> Model:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.model.objects.get(pk=self.pk)
            if row.status in statuses:
                return row
            time.sleep(0.2)
        raise AssertionError(
            f"{self.model.__name__} {self.pk} stayed {row.status} "
            f"(progress {row.progress}, attempts {row.attempts})"
        )

    def assert_finished_once(self) -> None:
        row = self.wait_for(FINISHED)
        assert row.status == "SUCCEEDED", row.error_message
        assert row.attempts == 2  # the killed claim and the one that finished
        self.assert_one_result(row)


def _sender(redis_url: str, task_name: str, queue: str):
    client = Celery("clinic", broker=redis_url)
    return lambda pk: client.send_task(task_name, args=[pk], queue=queue)


def _retraining(redis_url, monkeypatch, model_dir, data_dir, queue) -> Job:
    from clinic.services import model_version_register, retraining_start
    from clinic.tasks import retraining_run_task

    monkeypatch.setattr(
        "clinic.services.retraining._retraining_send",
        _sender(redis_url, retraining_run_task.name, queue),
    )
    base = model_version_register(
        checkpoint_path=make_tiny_disease_checkpoint(model_dir / "base.pt")
    )
    run = retraining_start(
        user=make_user("admin"), base_model=base, epochs=1, method="scratch"
    )

    def one_candidate(run: RetrainingRun) -> None:
        assert run.candidate is not None
        # The base and one candidate: the killed attempt registered nothing.
        assert ModelVersion.objects.count() == 2
        retrained = AuditEvent.objects.filter(action=AuditEvent.Action.RETRAINED)
        assert retrained.count() == 1

    return Job(
        model=RetrainingRun,
        pk=run.pk,
        queue=queue,
        env={
            "EMG_DATA_DIR": str(data_dir),
            "EMG_RETRAIN_MAX_WINDOWS": "12",
            "EMG_EVAL_N_BOOT": "20",
        },
        assert_one_result=one_candidate,
        gave_up_text=f"Retraining {run.pk} stopped 1 times",
    )


def _gesture(redis_url, monkeypatch, gesture_model, person_file, queue) -> Job:
    from clinic.gestures.services import gesture_session_create
    from clinic.gestures.tasks import gesture_adaptation_run_task

    monkeypatch.setattr(
        "clinic.gestures.services._gesture_adaptation_send",
        _sender(redis_url, gesture_adaptation_run_task.name, queue),
    )
    session = gesture_session_create(
        user=make_user("clinician"),
        base_model=gesture_model,
        layout="myo-readings",
        files=[person_file()],
        person_code="G-KILL",
        k=1,
    )

    def one_adapted_model(session: GestureSession) -> None:
        from django.conf import settings

        assert session.adapted_sha256 and session.adapted_checkpoint
        # The killed attempt saved nothing: one adapted checkpoint on disk.
        adapted = list((settings.MEDIA_ROOT / "gestures" / "adapted").rglob("*.pt"))
        assert [p.name for p in adapted] == [f"{session.adapted_sha256}.pt"]
        adapted_audit = AuditEvent.objects.filter(action=AuditEvent.Action.ADAPTED)
        assert adapted_audit.count() == 1

    return Job(
        model=GestureSession,
        pk=session.pk,
        queue=queue,
        env={"EMG_GESTURE_ADAPT_EPOCHS": "1"},
        assert_one_result=one_adapted_model,
        gave_up_text=f"gesture session {session.pk} stopped 1 times",
    )


@pytest.fixture(params=["retraining", "gesture"])
def job(request, redis_url, tmp_path, monkeypatch, model_dir, data_dir) -> Job:
    """A QUEUED job of each kind, sent to a private queue, and its worker's env."""
    queue = f"test-kill-{request.param}-{uuid.uuid4().hex[:8]}"
    if request.param == "retraining":
        job = _retraining(redis_url, monkeypatch, model_dir, data_dir, queue)
    else:
        gesture_model = request.getfixturevalue("gesture_model")
        person_file = request.getfixturevalue("person_file")
        job = _gesture(redis_url, monkeypatch, gesture_model, person_file, queue)
    job.env = {
        **this_tests_app_env(redis_url, model_dir, tmp_path / "var"),
        **job.env,
        "EMG_JOB_LEASE_S": "2",
        "EMG_TRAINING_TEST_DELAY_S": "4",
        "EMG_TRAINING_QUEUE": queue,
        "EMG_WORKER_THREADS": "1",
    }
    assert job.model.objects.get(pk=job.pk).status == "QUEUED"
    return job


def _kill_pool(proc) -> None:
    children = pool_processes(proc.pid)
    assert children, "the prefork worker has no pool process"
    for pid in children:
        os.kill(pid, signal.SIGKILL)


def test_a_killed_pool_process_loses_no_training_job(job, tmp_path):
    with celery_worker(job.queue, tmp_path / "w1.log", pool="prefork", **job.env) as w:
        job.wait_for({"RUNNING"})
        time.sleep(1)  # inside the test delay, after the claim
        _kill_pool(w)
        # A new pool process gets the message back (reject_on_worker_lost) or
        # the sweep sends it again once the lease has run out.
        job.assert_finished_once()


def test_a_killed_worker_loses_no_training_job_once_another_starts(job, tmp_path):
    with celery_worker(job.queue, tmp_path / "w1.log", pool="prefork", **job.env) as w:
        job.wait_for({"RUNNING"})
        time.sleep(1)
        for pid in [*pool_processes(w.pid), w.pid]:
            os.kill(pid, signal.SIGKILL)
        w.wait(timeout=10)
    assert job.model.objects.get(pk=job.pk).status == "RUNNING"
    with celery_worker(job.queue, tmp_path / "w2.log", **job.env):
        # Its start-up sweep sends the job again once the dead lease ran out.
        job.assert_finished_once()


def test_a_training_job_that_kills_its_worker_each_time_ends_failed(job, tmp_path):
    # One attempt allowed: the kill of the first is "every time".
    env = {**job.env, "EMG_JOB_MAX_ATTEMPTS": "1"}
    with celery_worker(job.queue, tmp_path / "w1.log", pool="prefork", **env) as w:
        job.wait_for({"RUNNING"})
        time.sleep(1)
        _kill_pool(w)
        row = job.wait_for(FINISHED)
        assert row.status == "FAILED" and row.finished_at
        assert job.gave_up_text in row.error_message
        assert "Traceback" not in row.error_message
        assert row.attempts == 2  # the killed one, and the claim that gave up
        time.sleep(3)  # a lease and more: a late copy of the message runs nothing
    row = job.model.objects.get(pk=job.pk)
    assert row.status == "FAILED" and row.attempts == 2
