from __future__ import annotations

import pytest
from django.db import connection

from clinic.models import WorkerHeartbeat
from clinic.services import worker_heartbeat_record


@pytest.mark.django_db
def test_the_test_database_is_postgresql_when_asked(settings):
    # `make test` points DATABASE_URL at the local PostgreSQL server.
    if "postgres" in (settings.DATABASES["default"]["ENGINE"]):
        assert connection.vendor == "postgresql"
        assert connection.settings_dict["NAME"].startswith("test_")


@pytest.mark.django_db
def test_health_reports_database_ok_and_queues_a_heartbeat(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["worker_last_seen"] is None
    assert len(callbacks) == 1  # the heartbeat task, sent only after commit


@pytest.mark.django_db
def test_health_shows_the_last_worker_heartbeat(
    client, django_capture_on_commit_callbacks
):
    row = worker_heartbeat_record(queue="celery", hostname="w1")
    with django_capture_on_commit_callbacks() as callbacks:
        body = client.get("/health/").json()
    assert body["worker_last_seen"] == row.seen_at.isoformat()
    assert callbacks == []  # fresh heartbeat: nothing new is queued
    assert WorkerHeartbeat.objects.count() == 1


@pytest.mark.django_db
def test_health_page_renders_html_for_browsers(client):
    response = client.get("/health/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Service health" in response.content
    assert b"not a diagnosis" in response.content


@pytest.mark.django_db
def test_health_reports_an_unreachable_broker_instead_of_failing(client, monkeypatch):
    from kombu.exceptions import OperationalError

    from clinic import services

    def broker_down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "worker_heartbeat_request", broker_down)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["database"] == "ok"
