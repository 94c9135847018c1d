"""The job layer: send a worker job, claim it, run it under a lease, end it.

Three kinds of job share it (:data:`KINDS`): analysis jobs, retraining runs and
gesture adaptation sessions. Each keeps its state on its own row, with the
columns of :class:`clinic.job_model.TrackedJob`: ``status`` (QUEUED, RUNNING,
then a finished value), ``progress``, ``error_message``, ``heartbeat_at`` and
``attempts``. A service creates the row and calls
:func:`job_enqueue_after_commit`; its task calls :func:`job_run_claimed` with
the work, which moves the bar with :func:`job_progress` and ends with
:func:`job_succeed`. What the user reads when a job cannot finish is decided
here, the same way for every kind: the message of a user error, otherwise a
generic message with a reference (the traceback goes to the log).

How a job survives a killed worker (docs/OPERATIONS.md):

- A worker *claims* a job with one conditional UPDATE: QUEUED, or RUNNING with a
  lease that has run out (``heartbeat_at`` older than ``EMG_JOB_LEASE_S``). The
  claim counts an attempt and sets the lease. Every other status (SUCCEEDED,
  FAILED, a retraining's CANCELLED) is finished: it is never claimed again.
- While the job runs, a daemon thread renews the lease every quarter lease, so a
  live job never looks stale, however long its model call or training takes.
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
import contextvars
import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from clinic.errors import GENERIC_JOB_ERROR, UserFacingError
from clinic.logging_context import job_log_context
from clinic.models import AnalysisJob, RetrainingRun

logger = logging.getLogger(__name__)

#: What a claim found.
CLAIMED, BUSY, DONE, GAVE_UP = "claimed", "busy", "done", "gave_up"

_DIED = (
    "(the worker ended unexpectedly each time, for example for lack of memory), "
    "so it was not tried again."
)
TOO_MANY_ATTEMPTS = (
    "The analysis stopped {n} times before it could finish " + _DIED + " Try a "
    "shorter recording, or ask the operator to check the workers. "
    "Reference: job {pk}."
)
RETRAINING_TOO_MANY_ATTEMPTS = (
    "Retraining {pk} stopped {n} times before it could finish " + _DIED + " Start "
    "a new run with fewer epochs or less training data, or ask the operator to "
    "check the training workers. Reference: retraining {pk}."
)
GESTURE_TOO_MANY_ATTEMPTS = (
    "The adaptation of gesture session {pk} stopped {n} times before it could "
    "finish " + _DIED + " Submit the recordings again (fewer or shorter files "
    "need less memory), or ask the operator to check the training workers. "
    "Reference: gesture session {pk}."
)


@dataclass(frozen=True)
class JobKind:
    """One kind of job: its row, what a claim resets, how to send it again, and
    the words of what its user reads when it cannot finish."""

    noun: str
    #: Besides status, lease and attempt: a claim starts the progress bar anew
    #: and drops the epochs of an attempt whose worker died.
    on_claim: dict[str, Any]
    gave_up: str
    #: "module:function" that sends the task, the one the service enqueues with;
    #: looked up at each send, so it can be replaced in tests. The module's
    #: logger also writes the job's failures, as the service's own lines.
    send: str
    #: ``job_kind`` of its log lines and metrics (clinic.logging_context).
    log_kind: str
    #: The work and the job as the user's messages name them:
    #: "Analysis failed ... Reference: job 7."
    work: str
    reference: str
    #: What the user can do when the task queue was down.
    retry_advice: str
    #: On the training queue: the training time limit, and the test delay of
    #: the training worker-kill tests (EMG_TRAINING_TEST_DELAY_S).
    training: bool = True
    #: Besides UserFacingError and EmgCoreError: errors whose message is
    #: written for the user.
    user_errors: tuple[type[Exception], ...] = ()

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(self.send.split(":")[0])

    @property
    def test_delay_s(self) -> float:
        """Seconds to sleep after the claim (0 outside the worker-kill tests),
        so a test finds the job RUNNING when it kills."""
        name = (
            "EMG_TRAINING_TEST_DELAY_S"
            if self.training
            else "EMG_ANALYSIS_TEST_DELAY_S"
        )
        return getattr(settings, name, 0)

    @property
    def soft_time_limit_s(self) -> int:
        """The task's soft time limit (clinic/tasks.py, clinic/gestures/tasks.py)."""
        training = getattr(settings, "EMG_TRAINING_SOFT_TIME_LIMIT", None)
        if self.training and training:
            return training
        return settings.CELERY_TASK_SOFT_TIME_LIMIT

    def message(self, template: str, pk: int) -> str:
        """``template`` (one of the job messages) for job ``pk`` of this kind."""
        return template.format(
            work=self.work,
            work_lower=self.work.lower(),
            reference=self.reference.format(pk=pk),
            retry_advice=self.retry_advice,
            limit=self.soft_time_limit_s,
        )


#: What the user reads, for every kind (JobKind.message fills them in).
QUEUE_UNAVAILABLE = (
    "The {work_lower} could not be started because the task queue is unavailable; "
    "{retry_advice}. Reference: {reference}."
)
OUT_OF_TIME = (
    "{work} took longer than the {limit} s limit and was stopped. "
    "Reference: {reference}."
)

#: Keyed by the model's label; the models are looked up lazily (clinic.gestures
#: is its own app, loaded after clinic).
KINDS: dict[str, JobKind] = {
    "clinic.AnalysisJob": JobKind(
        noun="analysis job",
        on_claim={"progress": 5},
        gave_up=TOO_MANY_ATTEMPTS,
        send="clinic.services.analysis:_analysis_send",
        log_kind="analysis",
        work="Analysis",
        reference="job {pk}",
        retry_advice="please upload the recording again later",
        training=False,
    ),
    "clinic.RetrainingRun": JobKind(
        noun="retraining run",
        on_claim={"progress": 2, "history": []},
        gave_up=RETRAINING_TOO_MANY_ATTEMPTS,
        send="clinic.services.retraining:_retraining_send",
        log_kind="retraining",
        work="Retraining",
        reference="retraining {pk}",
        retry_advice="start it again later",
        # emgcore raises ValueError for settings that do not fit the data.
        user_errors=(ValueError,),
    ),
    "gestures.GestureSession": JobKind(
        noun="gesture session",
        on_claim={"progress": 5, "history": []},
        gave_up=GESTURE_TOO_MANY_ATTEMPTS,
        send="clinic.gestures.services:_gesture_adaptation_send",
        log_kind="gesture",
        work="Adaptation",
        reference="gesture session {pk}",
        retry_advice="please submit the recordings again later",
    ),
}


def _kind(model: type[Model]) -> JobKind:
    return KINDS[model._meta.label]


def job_models() -> list[type[Model]]:
    """The models of every kind of leased job."""
    return [apps.get_model(label) for label in KINDS]


def _expired_before():
    return timezone.now() - timedelta(seconds=settings.EMG_JOB_LEASE_S)


def job_claim(model: type[Model], pk: int) -> str:
    """Claim job ``pk`` of ``model`` for this worker; CLAIMED, BUSY, DONE or GAVE_UP."""
    kind, status = _kind(model), model.Status
    now = timezone.now()
    claimable = Q(status=status.QUEUED) | Q(
        # No heartbeat: a row left RUNNING by code from before the lease.
        Q(heartbeat_at__lt=_expired_before()) | Q(heartbeat_at__isnull=True),
        status=status.RUNNING,
    )
    claimed = (
        model.objects.filter(pk=pk)
        .filter(claimable)
        .update(
            status=status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            **kind.on_claim,
        )
    )
    if claimed != 1:
        row = model.objects.filter(pk=pk).values("status").first()
        if row is not None and row["status"] == status.RUNNING:
            return BUSY
        return DONE  # finished (cancelled included) or deleted
    attempts = model.objects.values_list("attempts", flat=True).get(pk=pk)
    if attempts > settings.EMG_JOB_MAX_ATTEMPTS:
        n = attempts - 1
        logger.error("%s %s gave up after %s attempts", kind.noun, pk, n)
        model.objects.filter(pk=pk, status=status.RUNNING).update(
            status=status.FAILED,
            error_message=kind.gave_up.format(n=n, pk=pk),
            finished_at=timezone.now(),
        )
        return GAVE_UP
    return CLAIMED


@contextlib.contextmanager
def job_lease(model: type[Model], pk: int) -> Iterator[None]:
    """Renew the job's lease from a daemon thread while the block runs."""
    kind, running = _kind(model), model.Status.RUNNING
    stop = threading.Event()
    every = max(settings.EMG_JOB_LEASE_S / 4, 0.2)

    def renew() -> None:
        try:
            while not stop.wait(every):
                model.objects.filter(pk=pk, status=running).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:  # a renewal that fails only shortens the lease
            logger.exception("Lease of %s %s could not be renewed", kind.noun, pk)
        finally:
            connection.close()  # this thread's own database connection

    name = f"lease-{model._meta.model_name}{pk}"
    # The thread's log lines carry the job id too (a copy of this context).
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(renew,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def job_run_claimed(model: type[Model], pk: int, body: Callable[[int], None]) -> str:
    """Claim the job and, if this worker got it, run ``body(pk)`` under its lease.

    Returns the claim's outcome. Not claimed means BUSY (another live worker
    holds the lease; the task retries later), DONE (finished, cancelled or gone)
    or GAVE_UP (failed after too many attempts): ``body`` is not run.
    What ``body`` raises ends the job as :func:`_failures_handled` says.
    """
    kind = _kind(model)
    # Every log line of the claim and the work carries the job id.
    with job_log_context(kind.log_kind, pk):
        outcome = job_claim(model, pk)
        if outcome != CLAIMED:
            logger.info("%s %s was not claimed (%s)", kind.noun, pk, outcome)
            return outcome
        logger.info("%s %s claimed", kind.noun, pk)
        with job_lease(model, pk):
            delay = kind.test_delay_s
            if delay:
                # Only the worker-kill tests set it: a job that stays RUNNING,
                # with its lease renewed, as a long model call or training would.
                time.sleep(delay)
            with _failures_handled(model, pk):
                body(pk)
        logger.info("%s %s finished", kind.noun, pk)
    return outcome


@contextlib.contextmanager
def _failures_handled(model: type[Model], pk: int) -> Iterator[None]:
    """End the job FAILED with what its user may read; the rest goes to the log.

    A user error (UserFacingError, emgcore's EmgCoreError, the kind's own) is
    written for the user: its message is shown. A lost database gives the job
    back (QUEUED) and is raised again, for the task's retry. Anything else is
    logged with its traceback; the user reads a generic message with a
    reference, never the traceback.
    """
    from emgcore.errors import EmgCoreError

    kind = _kind(model)
    what = f"{kind.noun.capitalize()} {pk}"
    try:
        yield
    except OperationalError:
        # Only if the database is reachable enough for this.
        with contextlib.suppress(OperationalError):
            job_update(model, pk, status=model.Status.QUEUED, progress=0)
        raise
    except SoftTimeLimitExceeded:
        kind.logger.error("%s ran out of time", what)
        job_fail(model, pk, kind.message(OUT_OF_TIME, pk))
    except Exception as exc:
        user_errors = (EmgCoreError, UserFacingError, *kind.user_errors)
        generic = kind.message(GENERIC_JOB_ERROR, pk)
        message = failure_message(exc, user_errors, generic, log=kind.logger, what=what)
        job_fail(model, pk, message)


def failure_message(
    exc: Exception,
    user_errors: tuple[type[Exception], ...],
    generic: str,
    *,
    log: logging.Logger,
    what: str,
) -> str:
    """What the user reads about ``exc``, raised by ``what`` (call it in the
    ``except``): the message of one of ``user_errors``, written for the user;
    for anything else ``generic``, and its traceback goes to ``log``."""
    if isinstance(exc, user_errors):
        log.info("%s failed: %s", what, exc)
        return str(exc)
    log.exception("%s failed with an application error", what)
    return generic


# -- the row while the job runs ------------------------------------------------
def job_running(model: type[Model], pk: int) -> QuerySet:
    """The job's row while it is RUNNING; empty once it finished, was
    cancelled, or was given back."""
    return model.objects.filter(pk=pk, status=model.Status.RUNNING)


def job_update(model: type[Model], pk: int, **fields: Any) -> int:
    """Write ``fields`` on the job while it runs; 0 when it no longer does, so
    a job failed or cancelled elsewhere is never brought back."""
    return job_running(model, pk).update(**fields)


def job_progress(model: type[Model], pk: int, progress: int, **fields: Any) -> int:
    """Move the job's progress bar (and write ``fields``, e.g. its history)."""
    return job_update(model, pk, progress=progress, **fields)


def job_succeed(model: type[Model], pk: int, **fields: Any) -> int:
    """End the job SUCCEEDED with ``fields`` (its result columns)."""
    return job_update(
        model,
        pk,
        status=model.Status.SUCCEEDED,
        progress=100,
        finished_at=timezone.now(),
        **fields,
    )


def job_fail(model: type[Model], pk: int, message: str) -> int:
    """End the job FAILED; ``message`` is what its user reads."""
    return job_update(
        model,
        pk,
        status=model.Status.FAILED,
        error_message=message,
        finished_at=timezone.now(),
    )


# -- sending -----------------------------------------------------------------
def job_enqueue_after_commit(model: type[Model], pk: int) -> None:
    """Send the job's task once the transaction that made its row commits,
    so the worker finds the row."""
    transaction.on_commit(lambda: job_enqueue(model, pk))


def job_enqueue(model: type[Model], pk: int) -> None:
    """Send the job's task; with the broker down or misconfigured, the job
    ends FAILED with a plain message."""
    kind, status = _kind(model), model.Status

    def fail() -> None:
        model.objects.filter(pk=pk, status=status.QUEUED).update(
            status=status.FAILED,
            error_message=kind.message(QUEUE_UNAVAILABLE, pk),
            finished_at=timezone.now(),
        )

    what = f"{kind.noun.capitalize()} {pk}"
    sent = task_send_or_fail(
        lambda: _sender(kind)(pk), fail, log=kind.logger, what=what
    )
    if sent is not None:
        model.objects.filter(pk=pk, task_id="").update(task_id=sent.id or "")


def task_send_or_fail(
    send: Callable[[], Any], fail: Callable[[], None], *, log: logging.Logger, what: str
) -> Any | None:
    """``send()`` a task and return its result handle; when the broker is down
    or misconfigured, log it and ``fail()`` instead (record on the job that it
    could not start, so its page says so rather than a 500), and return None."""
    try:
        return send()
    except Exception:
        log.exception("%s could not be sent to the task queue", what)
        fail()
        return None


def _sender(kind: JobKind):
    module, name = kind.send.split(":")
    return getattr(importlib.import_module(module), name)


def jobs_sweep(model: type[Model]) -> list[int]:
    """Send again every job of ``model`` whose lease ran out or that waits long."""
    kind, status = _kind(model), model.Status
    expired = _expired_before()
    stale = model.objects.filter(
        Q(status=status.RUNNING, heartbeat_at__lt=expired)
        | Q(status=status.RUNNING, heartbeat_at__isnull=True)
        | Q(status=status.QUEUED, created_at__lt=expired)
    ).values_list("pk", flat=True)
    ids = list(stale[:500])
    send = _sender(kind)
    for pk in ids:
        logger.warning("Sweep: %s %s is sent again", kind.noun, pk)
        send(pk)
    return ids


# The analysis names that came first; the other kinds use the generic ones.
def analysis_job_claim(job_id: int) -> str:
    """Claim analysis job ``job_id``; see :func:`job_claim`."""
    return job_claim(AnalysisJob, job_id)


def analysis_job_lease(job_id: int) -> contextlib.AbstractContextManager[None]:
    return job_lease(AnalysisJob, job_id)


def analysis_jobs_sweep() -> list[int]:
    return jobs_sweep(AnalysisJob)


def retraining_runs_sweep() -> list[int]:
    return jobs_sweep(RetrainingRun)


def gesture_sessions_sweep() -> list[int]:
    return jobs_sweep(apps.get_model("gestures.GestureSession"))
