"""The write side of the clinic. The only place that enqueues Celery tasks."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from clinic.models import WorkerHeartbeat

HEARTBEAT_INTERVAL = timedelta(seconds=30)


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
