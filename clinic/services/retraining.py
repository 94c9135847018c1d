"""Retraining runs: start one (admins), run it on the ``training`` queue, cancel it.

A run fine-tunes (or retrains from scratch) the base model's architecture on
the built-in datasets and/or clinician-confirmed uploads, records every epoch
on its row, and ends with a candidate ModelVersion that carries its own
evaluation (per-class metrics with CIs), so the promotion rules apply to it.

The training itself (:func:`_train_candidate`) is in
:mod:`clinic.services.retraining_candidate`.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from clinic.errors import UserFacingError
from clinic.models import AuditEvent, ModelVersion, RetrainingRun
from clinic.selectors import retraining_candidate_registered
from clinic.services.audit import audit_record
from clinic.services.jobs import (
    job_enqueue_after_commit,
    job_run_claimed,
    job_succeed,
    job_update,
)
from clinic.services.retraining_candidate import _cancel_requested, _train_candidate
from clinic.services.training_data import (  # noqa: F401 (re-exported)
    CONFIRMED_CLASSES,
    VAL_FRACTION,
    cap_windows,
    confirmed_uploads_for_training,
    split_by_subject,
    training_windows,
)
from clinic.tasks import retraining_run_task

logger = logging.getLogger(__name__)

Status = RetrainingRun.Status


class RetrainingCancelledError(Exception):
    """Raised inside a run when an admin asked to cancel it."""


# --------------------------------------------------------------------------
# Start and cancel (web side)
# --------------------------------------------------------------------------


#: Architectures this service cannot retrain: it fine-tunes networks by
#: gradient descent on windows in the base model's preprocessing, while the
#: shipped ``feature_linear`` model is a logistic regression on microvolt
#: features, refitted by the study code.
NOT_RETRAINABLE = ("feature_linear",)


def retraining_start(
    *,
    user,
    base_model: ModelVersion,
    use_emgdb: bool = True,
    use_n2001: bool = False,
    use_confirmed: bool = False,
    method: str = RetrainingRun.Method.TL,
    epochs: int = 5,
    learning_rate: float = 1e-4,
    seed: int = 0,
) -> RetrainingRun:
    """Create a QUEUED run and send it to the ``training`` queue after commit."""
    if base_model.kind != ModelVersion.Kind.DISEASE:
        raise UserFacingError(f"{base_model} is not a disease model.")
    if (base_model.metadata or {}).get("model_name") in NOT_RETRAINABLE:
        raise UserFacingError(
            f"{base_model} is a window-feature model: it is refitted from the "
            "clinical study (make results-clinical, studies/shipped_model.py), "
            "not fine-tuned here. Choose a CNN-TCN version as the base model."
        )
    if not (use_emgdb or use_n2001 or use_confirmed):
        raise UserFacingError("Choose at least one source of training data.")
    with transaction.atomic():
        run = RetrainingRun.objects.create(
            base_model=base_model,
            use_emgdb=use_emgdb,
            use_n2001=use_n2001,
            use_confirmed=use_confirmed,
            method=method,
            epochs=epochs,
            learning_rate=learning_rate,
            seed=seed,
            started_by=user,
        )
        audit_record(
            actor=user,
            action=AuditEvent.Action.RETRAINING_STARTED,
            obj=run,
            details={
                "base_model": str(base_model),
                "data": run.data_sources,
                "method": method,
                "epochs": epochs,
                "learning_rate": learning_rate,
                "seed": seed,
            },
        )
        job_enqueue_after_commit(RetrainingRun, run.pk)
    return run


def _retraining_send(run_id: int):
    """Send the run's task (clinic.services.jobs: the enqueue and the sweep)."""
    return retraining_run_task.delay(run_id)


def retraining_cancel(*, user, run: RetrainingRun) -> RetrainingRun:
    """Ask a run to stop: a queued run ends now, a running one after its epoch."""
    if run.is_finished:
        raise UserFacingError(f"{run} has already finished.")
    RetrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    # A run that no worker has claimed yet is cancelled at once.
    run_was_queued = bool(
        RetrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED, finished_at=timezone.now()
        )
    )
    audit_record(
        actor=user,
        action=AuditEvent.Action.RETRAINING_CANCELLED,
        obj=run,
        # A running run stops only after its current epoch; say which case it was.
        details={
            "stops": "at once (it was queued)"
            if run_was_queued
            else "after its current epoch"
        },
    )
    run.refresh_from_db()
    return run


# --------------------------------------------------------------------------
# The run (worker side)
# --------------------------------------------------------------------------


def retraining_run(*, run_id: int) -> str:
    """Run one retraining in a worker; a second call for the same run does nothing.

    Returns the claim's outcome (clinic.services.jobs): ``"claimed"`` when
    this call ran it, ``"busy"`` when a live worker holds it, ``"done"`` (also
    when it was cancelled), ``"gave_up"``.

    User errors (unusable data, a missing base checkpoint) end it FAILED with
    their message; anything unexpected is logged and ends FAILED with a
    generic message and a reference.
    """
    return job_run_claimed(RetrainingRun, run_id, _retraining_body)


def _audit_finished(run_id: int, candidate: ModelVersion) -> None:
    """RETRAINED names a finished run only; start and cancel have their own."""
    run = RetrainingRun.objects.select_related("started_by").get(pk=run_id)
    audit_record(
        actor=run.started_by,
        action=AuditEvent.Action.RETRAINED,
        obj=run,
        details={"candidate": str(candidate), "data": run.data_sources},
    )


def _retraining_body(run_id: int) -> None:
    # Failures (user errors, the time limit, the rest) end the run as every
    # job ends (clinic.services.jobs); a cancellation is the run's own.
    try:
        if _cancel_requested(run_id):
            raise RetrainingCancelledError
        # An attempt whose worker died after registering its candidate left it
        # registered (a second registration is refused): finish with that one.
        earlier = retraining_candidate_registered(run_id=run_id)
        candidate = earlier or _train_candidate(run_id)
        if candidate is None:
            raise RetrainingCancelledError
        with transaction.atomic():  # SUCCEEDED and its audit entry, or neither
            if job_succeed(RetrainingRun, run_id, candidate=candidate):
                _audit_finished(run_id, candidate)
    except RetrainingCancelledError:
        logger.info("Retraining %s was cancelled", run_id)
        job_update(
            RetrainingRun, run_id, status=Status.CANCELLED, finished_at=timezone.now()
        )
