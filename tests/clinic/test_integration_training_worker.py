"""A retraining runs in a real Celery worker process (on Redis, the worker
consuming a private stand-in for the ``training`` queue); the web page's cancel
reaches it between epochs."""

from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery

from clinic.celery import app as clinic_app
from clinic.models import ModelVersion, RetrainingRun
from clinic.services import model_version_register
from clinic.tasks import retraining_run_task
from tests.clinic.factories import make_user
from tests.clinic.workers import celery_worker, this_tests_app_env
from tests.conftest import make_tiny_disease_checkpoint


@pytest.fixture
def training_worker(redis_url, tmp_path, monkeypatch, model_dir, data_dir):
    queue = f"test-training-{uuid.uuid4().hex[:8]}"
    client = Celery("clinic", broker=redis_url)

    def delay(run_id: int):
        return client.send_task(retraining_run_task.name, args=[run_id], queue=queue)

    monkeypatch.setattr("clinic.services.retraining.retraining_run_task.delay", delay)
    with celery_worker(
        queue,
        tmp_path / "worker.log",
        **this_tests_app_env(redis_url, model_dir, tmp_path / "var"),
        EMG_DATA_DIR=str(data_dir),
        EMG_RETRAIN_MAX_WINDOWS="12",
        EMG_EVAL_N_BOOT="20",
    ):
        yield


def _wait(run_id: int, condition, seconds: float = 150) -> RetrainingRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = RetrainingRun.objects.get(pk=run_id)
        if condition(run):
            return run
        time.sleep(0.5)
    raise AssertionError(f"timed out: {run.status} {run.history} {run.error_message}")


def test_the_training_task_is_routed_to_the_training_queue():
    assert clinic_app.amqp.router.route({}, retraining_run_task.name)["queue"].name == (
        "training"
    )


def test_the_report_curves_task_is_routed_to_the_training_queue():
    # heavy (the model over its evaluation recordings): kept off the analysis queue
    from clinic.tasks import model_report_compute_training_task

    task = model_report_compute_training_task
    route = clinic_app.amqp.router.route(task._get_exec_options(), task.name)
    assert route["queue"].name == "training"


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_trains_reports_epochs_and_stops_when_cancelled(
    client, training_worker, model_dir
):
    path = make_tiny_disease_checkpoint(model_dir / "base.pt")
    base = model_version_register(checkpoint_path=path)
    admin = make_user("admin")
    client.force_login(admin)
    response = client.post(
        "/api/v1/retraining",
        {"base_model": base.pk, "method": "scratch", "epochs": 50},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    run_id = response.json()["run_id"]
    run = _wait(run_id, lambda r: len(r.history) >= 1 or r.is_finished)
    assert run.status == RetrainingRun.Status.RUNNING, run.error_message
    assert run.task_id and run.history[0]["train_loss"] > 0
    cancel = f"/retraining/{run_id}/cancel/"
    assert client.post(cancel, {"confirm": "on"}).status_code == 302
    run = _wait(run_id, lambda r: r.is_finished)
    assert run.status == RetrainingRun.Status.CANCELLED
    assert len(run.history) < 50 and run.candidate is None
    assert ModelVersion.objects.count() == 1
