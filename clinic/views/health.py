"""``/health/``: liveness of the database, broker and workers, as JSON or HTML."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render

from clinic import services
from clinic.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def health(request: HttpRequest):
    """Liveness for load balancers (JSON) and people (HTML)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # any DB failure means "not healthy"; details go to logs
        database = "unavailable"
    worker = None
    broker = "unknown"
    queues: dict = {}
    if database == "ok":
        try:
            services.worker_heartbeat_request(queue="celery")
            broker = "ok"
        except Exception:  # broker down: report it, the page itself must not fail
            logger.exception("Health check could not reach the Celery broker")
            broker = "unavailable"
        beat = WorkerHeartbeat.objects.filter(queue="celery").first()
        worker = beat.seen_at.isoformat() if beat else None
        if broker == "ok":
            queues = services.queues_report()
    failing = [n for n, q in queues.get("queues", {}).items() if q["status"] != "ok"]
    healthy = database == "ok" and broker != "unavailable" and not failing
    payload = {
        "status": "ok" if healthy else "error",
        "database": database,
        "broker": broker,
        "worker_last_seen": worker,
        "worker_limit_s": queues.get("limit_s"),
        "queues": queues.get("queues", {}),
        "failing_queues": failing,
    }
    status = 200 if payload["status"] == "ok" else 503
    if "text/html" in request.headers.get("Accept", ""):
        return render(request, "clinic/health.html", payload, status=status)
    return JsonResponse(payload, status=status)
