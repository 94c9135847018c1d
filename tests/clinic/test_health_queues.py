"""/health/ per queue: waiting messages, live workers, oldest job, and its 503."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import AnalysisJob, Upload, WorkerHeartbeat
from clinic.services import health as health_service
from clinic.services import upload_create, worker_heartbeat_record
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db


def _queued_job(files, age_s: float) -> AnalysisJob:
    job = upload_create(
        user=make_user("clinician"),
        files=files,
        patient_code="P-H",
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )
    AnalysisJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=age_s)
    )
    return job


def _fresh_beats():
    for queue in ("celery", "training"):
        worker_heartbeat_record(queue=queue, hostname="w1")


def test_health_reports_each_queue_and_the_oldest_unfinished_job(
    client, uploaded_files, settings
):
    _fresh_beats()
    job = _queued_job(uploaded_files("emg_healthy"), age_s=42)
    body = client.get("/health/").json()
    assert body["status"] == "ok" and body["failing_queues"] == []
    celery = body["queues"]["celery"]
    assert celery["status"] == "ok"
    assert celery["oldest_job"]["kind"] == "analysis"
    assert celery["oldest_job"]["id"] == job.pk
    assert 41 <= celery["oldest_job"]["age_s"] < 100
    assert body["queues"]["training"]["oldest_job"] is None
    assert body["worker_limit_s"] == settings.EMG_HEALTH_WORKER_LIMIT_S


def test_health_fails_when_the_worker_of_a_queue_went_away(client, settings):
    _fresh_beats()
    gone = timezone.now() - timedelta(seconds=settings.EMG_HEALTH_WORKER_LIMIT_S + 5)
    WorkerHeartbeat.objects.filter(queue="training").update(seen_at=gone)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing_queues"] == ["training"]
    assert "No worker has served this queue" in body["queues"]["training"]["reason"]
    assert body["queues"]["celery"]["status"] == "ok"


def test_health_fails_when_jobs_wait_longer_than_the_limit_with_no_worker(
    client, uploaded_files, settings
):
    limit = settings.EMG_HEALTH_WORKER_LIMIT_S
    job = _queued_job(uploaded_files("emg_healthy"), age_s=limit / 2)
    # Never a worker, but the job is young: not yet a failure (a worker may be
    # starting).
    assert client.get("/health/").status_code == 200
    AnalysisJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=limit + 5)
    )
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["failing_queues"] == ["celery"]
    assert "jobs are waiting" in response.json()["queues"]["celery"]["reason"]
    html = client.get("/health/", HTTP_ACCEPT="text/html")
    assert html.status_code == 503 and b"jobs are waiting" in html.content


def test_the_queue_length_is_read_from_the_real_redis_broker(redis_url, monkeypatch):
    import redis
    from kombu import Connection

    from clinic.celery import app

    queue = "health-test-queue"
    redis.Redis.from_url(redis_url).delete(queue)
    with Connection(redis_url) as conn:
        q = conn.SimpleQueue(queue)
        for i in range(3):
            q.put({"n": i})
        q.close()
    monkeypatch.setattr(app.conf, "broker_url", redis_url)
    monkeypatch.setattr(app.conf, "broker_read_url", redis_url)
    try:
        assert health_service._queue_length(queue) == 3
    finally:
        redis.Redis.from_url(redis_url).delete(queue)


def test_a_worker_records_a_heartbeat_for_every_queue_it_consumes(monkeypatch):
    import django.db

    from clinic import worker_sweep

    # The worker's thread drops stale connections; the test's one must stay open.
    monkeypatch.setattr(django.db, "close_old_connections", lambda: None)

    class _Q:
        def __init__(self, name):
            self.name = name

    class _Consumer:
        hostname = "celery@box"

        class task_consumer:
            queues = [_Q("training"), _Q("celery")]

    queues = worker_sweep._consumed_queues(_Consumer())
    assert queues == ["celery", "training"]
    worker_sweep._beat_once(queues, "celery@box")
    beats = {b.queue: b.hostname for b in WorkerHeartbeat.objects.all()}
    assert beats == {"celery": "celery@box", "training": "celery@box"}
