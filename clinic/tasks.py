"""Thin Celery tasks: each calls one service (STYLE.md §3)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError


@shared_task(bind=True, acks_late=True)
def worker_heartbeat_record_task(self, queue: str) -> str:
    from clinic.services import worker_heartbeat_record

    row = worker_heartbeat_record(queue=queue, hostname=self.request.hostname or "")
    return row.seen_at.isoformat()


#: Long jobs: acknowledged after they finish, retried when the database blips.
RETRY_ON_DB_ERRORS = dict(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)


def retry_when_busy(task, outcome: str) -> None:
    """Retry ``task`` later when its claim found a live lease ("busy").

    Maybe a redelivered copy of a running job, maybe a job whose worker just
    died: look again once the lease could have run out, instead of dropping it.
    """
    if outcome == "busy":
        raise task.retry(
            countdown=settings.EMG_JOB_LEASE_S,
            max_retries=settings.EMG_JOB_MAX_ATTEMPTS * 4,
        )


@shared_task
def ping_task(value: str) -> str:
    """Echo for broker round-trip checks (tests, operators)."""
    return f"pong:{value}"


@shared_task(**RETRY_ON_DB_ERRORS)
def analysis_run_task(self, job_id: int) -> None:
    from clinic.services import analysis_run

    retry_when_busy(self, analysis_run(job_id=job_id))


@shared_task(
    **RETRY_ON_DB_ERRORS,
    soft_time_limit=settings.EMG_TRAINING_SOFT_TIME_LIMIT,
    time_limit=settings.EMG_TRAINING_TIME_LIMIT,
)
def retraining_run_task(self, run_id: int) -> None:
    """Routed to the ``training`` queue (CELERY_TASK_ROUTES: ``*training*``)."""
    from clinic.services import retraining_run

    retry_when_busy(self, retraining_run(run_id=run_id))


@shared_task(**RETRY_ON_DB_ERRORS)
def model_report_compute_training_task(
    self, model_version_id: int, user_id: int
) -> None:
    """Evaluation-set curves of a model version; heavy, so on the ``training`` queue."""
    from clinic.services import model_version_report_run

    model_version_report_run(model_version_id=model_version_id, user_id=user_id)
