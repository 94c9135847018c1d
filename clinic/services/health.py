"""Service health: worker heartbeats and the per-queue report behind /health/."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.models import WorkerHeartbeat

HEARTBEAT_INTERVAL = timedelta(seconds=30)
logger = logging.getLogger(__name__)


def worker_heartbeat_request(*, queue: str = "celery") -> bool:
    """Ask a worker to prove it is alive, unless one did so recently.

    Returns True when a heartbeat task was enqueued.
    """
    from clinic.tasks import worker_heartbeat_record_task

    last = WorkerHeartbeat.objects.filter(queue=queue).first()
    if last and timezone.now() - last.seen_at < HEARTBEAT_INTERVAL:
        return False
    transaction.on_commit(
        lambda: worker_heartbeat_record_task.apply_async(args=[queue], queue=queue)
    )
    return True


def worker_heartbeat_record(*, queue: str, hostname: str) -> WorkerHeartbeat:
    row, _ = WorkerHeartbeat.objects.update_or_create(
        queue=queue, defaults={"seen_at": timezone.now(), "hostname": hostname}
    )
    return row


def _queue_length(queue: str) -> int | None:
    """Messages waiting on ``queue`` in the broker; None when it cannot be read."""
    from clinic.celery import app

    try:
        with app.connection_for_read() as conn:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True)[1])
    except Exception:  # a queue never declared, or the broker down: unknown
        logger.info("Could not read the length of queue %r", queue, exc_info=True)
        return None


def _oldest_waiting(queue: str) -> dict[str, Any] | None:
    """The oldest QUEUED or RUNNING job of any kind that ``queue`` serves."""
    from django.apps import apps

    candidates = []
    for label, model_name, kind in _JOB_MODELS:
        if _job_queue(kind) != queue:
            continue
        model = apps.get_model(label, model_name)
        row = (
            model.objects.filter(status__in=("QUEUED", "RUNNING"))
            .order_by("created_at")
            .values("pk", "status", "created_at")
            .first()
        )
        if row:
            candidates.append({**row, "kind": kind})
    if not candidates:
        return None
    oldest = min(candidates, key=lambda r: r["created_at"])
    return {
        "kind": oldest["kind"],
        "id": oldest["pk"],
        "status": oldest["status"],
        "age_s": round((timezone.now() - oldest["created_at"]).total_seconds(), 1),
    }


#: (app label, model, kind) of every job table; kind -> queue in _job_queue.
_JOB_MODELS = (
    ("clinic", "AnalysisJob", "analysis"),
    ("clinic", "RetrainingRun", "retraining"),
    ("gestures", "GestureSession", "gesture"),
)


def _job_queue(kind: str) -> str:
    from django.conf import settings

    if kind == "analysis":
        return settings.EMG_ANALYSIS_QUEUE or settings.CELERY_TASK_DEFAULT_QUEUE
    return settings.EMG_TRAINING_QUEUE


def queues_report() -> dict[str, Any]:
    """Per queue: waiting messages, last live worker, oldest unfinished job, verdict.

    A queue is **failing** when no worker has been seen on it for longer than
    ``EMG_HEALTH_WORKER_LIMIT_S`` and either a worker used to serve it (it went
    away) or work has been waiting on it for longer than that limit (none came).
    Workers record their liveness per queue from a thread, every
    ``EMG_WORKER_BEAT_S`` (clinic/worker_sweep.py), so a long job does not make
    a busy worker look dead.
    """
    from django.conf import settings

    limit = float(settings.EMG_HEALTH_WORKER_LIMIT_S)
    now = timezone.now()
    names = sorted({_job_queue(kind) for _, _, kind in _JOB_MODELS})
    beats = {b.queue: b for b in WorkerHeartbeat.objects.filter(queue__in=names)}
    out = {}
    for name in names:
        beat = beats.get(name)
        seen_s = (now - beat.seen_at).total_seconds() if beat else None
        length = _queue_length(name)
        oldest = _oldest_waiting(name)
        waiting_too_long = bool(
            (oldest and oldest["age_s"] > limit) or (length and seen_s is None)
        )
        no_worker = seen_s is None or seen_s > limit
        failing = no_worker and (beat is not None or waiting_too_long)
        out[name] = {
            "messages": length,
            "worker_last_seen": beat.seen_at.isoformat() if beat else None,
            "worker_seen_s_ago": None if seen_s is None else round(seen_s, 1),
            "oldest_job": oldest,
            "status": "failing" if failing else "ok",
        }
        if failing:
            out[name]["reason"] = (
                f"No worker has served this queue for more than {limit:g} s"
                + (" and jobs are waiting." if waiting_too_long else ".")
            )
    return {"limit_s": limit, "queues": out}
