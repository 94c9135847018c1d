"""Thin Celery tasks of the gesture section (STYLE.md §3)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError


# Adaptation is training: it runs on the separate `training` queue.
@shared_task(
    bind=True,
    acks_late=True,
    queue="training",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=getattr(settings, "EMG_TRAINING_SOFT_TIME_LIMIT", None),
    time_limit=getattr(settings, "EMG_TRAINING_TIME_LIMIT", None),
)
def gesture_adaptation_run_task(self, session_id: int) -> None:
    from clinic.gestures.services import gesture_adaptation_run

    gesture_adaptation_run(session_id=session_id)
