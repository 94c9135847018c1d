"""Thin Celery tasks of the gesture section (STYLE.md §3)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from clinic.tasks import RETRY_ON_DB_ERRORS, retry_when_busy


# Adaptation is training: it runs on the separate training queue.
@shared_task(
    **RETRY_ON_DB_ERRORS,
    queue=settings.EMG_TRAINING_QUEUE,
    soft_time_limit=getattr(settings, "EMG_TRAINING_SOFT_TIME_LIMIT", None),
    time_limit=getattr(settings, "EMG_TRAINING_TIME_LIMIT", None),
)
def gesture_adaptation_run_task(self, session_id: int) -> None:
    from clinic.gestures.services import gesture_adaptation_run

    retry_when_busy(self, gesture_adaptation_run(session_id=session_id))
