"""Leases on analysis jobs, so a job whose worker died is run again, exactly once.

How a job survives a killed worker (docs/OPERATIONS.md):

- A worker *claims* a job with one conditional UPDATE: QUEUED, or RUNNING with a
  lease that has run out (``heartbeat_at`` older than ``EMG_JOB_LEASE_S``). The
  claim counts an attempt and sets the lease.
- While the job runs, a daemon thread renews the lease every quarter lease, so a
  live job never looks stale, however long its model call takes.
- When the worker (or only its pool process) is SIGKILLed, the lease stops being
  renewed. Celery gives the message back (``acks_late`` with
  ``task_reject_on_worker_lost``; a whole dead worker's unacknowledged message
  returns after Redis's ``visibility_timeout``), and every worker also sweeps at
  start-up and then every lease: jobs with a run-out lease, and QUEUED jobs
  whose message may be gone, are sent again. A duplicate message is harmless:
  the claim lets one through, and a message that finds a live lease retries
  after a lease instead of being dropped.
- A job claimed ``EMG_JOB_MAX_ATTEMPTS`` times without finishing (it kills its
  worker each time, e.g. out of memory) ends FAILED with a message, not a loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from clinic.models import AnalysisJob

logger = logging.getLogger(__name__)
Status = AnalysisJob.Status

#: What a claim found.
CLAIMED, BUSY, DONE, GAVE_UP = "claimed", "busy", "done", "gave_up"

TOO_MANY_ATTEMPTS = (
    "The analysis stopped {n} times before it could finish (the worker ended "
    "unexpectedly each time, for example for lack of memory), so it was not "
    "tried again. Try a shorter recording, or ask the operator to check the "
    "workers. Reference: job {job_id}."
)


def _expired_before():
    return timezone.now() - timedelta(seconds=settings.EMG_JOB_LEASE_S)


def analysis_job_claim(job_id: int) -> str:
    """Claim ``job_id`` for this worker; CLAIMED, BUSY, DONE or GAVE_UP."""
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) | Q(
        Q(heartbeat_at__lt=_expired_before()) | Q(heartbeat_at__isnull=True),
        status=Status.RUNNING,
    )
    claimed = (
        AnalysisJob.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            status=Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            progress=5,
            attempts=F("attempts") + 1,
        )
    )
    if claimed != 1:
        job = AnalysisJob.objects.filter(pk=job_id).values("status").first()
        if job is not None and job["status"] == Status.RUNNING:
            return BUSY
        return DONE
    attempts = AnalysisJob.objects.values_list("attempts", flat=True).get(pk=job_id)
    if attempts > settings.EMG_JOB_MAX_ATTEMPTS:
        n = attempts - 1
        logger.error("Analysis job %s gave up after %s attempts", job_id, n)
        AnalysisJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=Status.FAILED,
            error_message=TOO_MANY_ATTEMPTS.format(n=n, job_id=job_id),
            finished_at=timezone.now(),
        )
        return GAVE_UP
    return CLAIMED


@contextlib.contextmanager
def analysis_job_lease(job_id: int) -> Iterator[None]:
    """Renew the job's lease from a daemon thread while the block runs."""
    stop = threading.Event()
    every = max(settings.EMG_JOB_LEASE_S / 4, 0.2)

    def renew() -> None:
        try:
            while not stop.wait(every):
                AnalysisJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:  # a renewal that fails only shortens the lease
            logger.exception("Lease of analysis job %s could not be renewed", job_id)
        finally:
            connection.close()  # this thread's own database connection

    thread = threading.Thread(target=renew, name=f"lease-job{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def analysis_jobs_sweep() -> list[int]:
    """Send again every job whose lease ran out and every long-QUEUED job."""
    from clinic.services.analysis import _analysis_send

    expired = _expired_before()
    stale = AnalysisJob.objects.filter(
        Q(status=Status.RUNNING, heartbeat_at__lt=expired)
        | Q(status=Status.RUNNING, heartbeat_at__isnull=True)
        | Q(status=Status.QUEUED, created_at__lt=expired)
    ).values_list("pk", flat=True)
    ids = list(stale[:500])
    for job_id in ids:
        logger.warning("Sweep: analysis job %s is sent again", job_id)
        _analysis_send(job_id)
    return ids
