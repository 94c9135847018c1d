"""/metrics: django-prometheus plus job and queue metrics, for allowed scrapers only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from clinic.errors import GENERIC_ANALYSIS_ERROR
from clinic.models import AnalysisJob, RetrainingRun
from clinic.stored_files import ALTERED, MISSING
from tests.clinic.factories import AnalysisJobFactory, RetrainingRunFactory

pytestmark = pytest.mark.django_db
Status = AnalysisJob.Status


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _jobs():
    now = timezone.now()
    AnalysisJobFactory.create_batch(2)  # QUEUED
    for seconds in (3, 40):
        AnalysisJobFactory(
            status=Status.SUCCEEDED,
            started_at=now - timedelta(seconds=seconds),
            finished_at=now,
        )
    for message in (
        MISSING.format(label='"a.dat"'),
        ALTERED.format(label='"b.dat"'),
        ALTERED.format(label='"c.dat"'),
        GENERIC_ANALYSIS_ERROR.format(job_id=9),
        "The file is not a WFDB header.",
    ):
        AnalysisJobFactory(status=Status.FAILED, error_message=message)
    RetrainingRunFactory(status=RetrainingRun.Status.RUNNING)


def test_a_scrape_reports_jobs_durations_failures_and_requests(client):
    _jobs()
    client.get("/health/")  # one request for django-prometheus to count
    response = client.get("/metrics")  # the test client is 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    m = _samples(response.content.decode())

    def jobs(kind, state):
        return m[("myolens_jobs", (("kind", kind), ("state", state)))]

    assert jobs("analysis", "QUEUED") == 2
    assert jobs("analysis", "SUCCEEDED") == 2
    assert jobs("analysis", "FAILED") == 5
    assert jobs("analysis", "RUNNING") == 0
    assert jobs("retraining", "RUNNING") == 1
    assert jobs("gesture", "QUEUED") == 0

    def failed(reason):
        key = (("kind", "analysis"), ("reason", reason))
        return m.get(("myolens_jobs_failed_total", key), 0)

    assert failed("storage_missing") == 1
    assert failed("integrity") == 2
    assert failed("application_error") == 1
    assert failed("input") == 1

    def duration(suffix, **labels):
        key = tuple(sorted({"kind": "analysis", **labels}.items()))
        return m[(f"myolens_job_duration_seconds{suffix}", key)]

    assert duration("_count") == 2
    assert duration("_sum") == pytest.approx(43, abs=1)
    assert duration("_bucket", le="5.0") == 1
    assert duration("_bucket", le="60.0") == 2
    # django-prometheus: request counts and latency histograms.
    assert any(
        name == "django_http_requests_total_by_view_transport_method_total"
        for name, _ in m
    )
    assert any(
        name == "django_http_requests_latency_seconds_by_view_method_count"
        for name, _ in m
    )


def test_queue_lengths_come_from_the_redis_broker(client, redis_url, monkeypatch):
    from kombu import Connection

    from clinic.celery import app

    # Three messages waiting on "celery", none on "training" (a Redis list each).
    with Connection(redis_url) as conn:
        conn.default_channel.client.delete("celery", "training")
        queue = conn.SimpleQueue("celery")
        for i in range(3):
            queue.put({"n": i})
        conn.SimpleQueue("training")
        monkeypatch.setattr(app.conf, "broker_url", redis_url)
        monkeypatch.setattr(app.conf, "broker_read_url", redis_url)
        try:
            m = _samples(client.get("/metrics").content.decode())
        finally:
            conn.default_channel.client.delete("celery", "training")
    assert m[("myolens_celery_queue_length", (("queue", "celery"),))] == 3
    assert m[("myolens_celery_queue_length", (("queue", "training"),))] == 0
    assert m[("myolens_celery_queue_up", (("queue", "celery"),))] == 1


def test_other_addresses_need_the_bearer_token(client, settings):
    settings.EMG_METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    settings.EMG_METRICS_TOKEN = "scrape-secret"
    outside = {"REMOTE_ADDR": "192.0.2.7"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 403
    assert b"myolens_jobs" not in refused.content
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside)
    assert wrong.status_code == 403
    token = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", **outside)
    assert token.status_code == 200 and b"myolens_jobs" in token.content
    inside = client.get("/metrics", REMOTE_ADDR="10.1.4.2")
    assert inside.status_code == 200
    # Without a token configured, a bearer header opens nothing.
    settings.EMG_METRICS_TOKEN = ""
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", **outside).status_code
        == 403
    )
