from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render

from clinic import services
from clinic.models import WorkerHeartbeat


def health(request: HttpRequest):
    """Liveness for load balancers (JSON) and people (HTML)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # any DB failure means "not healthy"; details go to logs
        database = "unavailable"
    worker = None
    if database == "ok":
        services.worker_heartbeat_request(queue="celery")
        beat = WorkerHeartbeat.objects.filter(queue="celery").first()
        worker = beat.seen_at.isoformat() if beat else None
    payload = {
        "status": "ok" if database == "ok" else "error",
        "database": database,
        "worker_last_seen": worker,
    }
    status = 200 if database == "ok" else 503
    if "text/html" in request.headers.get("Accept", ""):
        return render(request, "clinic/health.html", payload, status=status)
    return JsonResponse(payload, status=status)
