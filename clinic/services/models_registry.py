"""The model registry: register checkpoints, promote, roll back (all audited)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic import provenance
from clinic.errors import UserFacingError
from clinic.models import AuditEvent, ModelVersion
from clinic.selectors import model_version_class_metrics
from clinic.services.audit import audit_record
from clinic.stored_files import model_dir_name
from emgcore.digest import file_sha256

logger = logging.getLogger(__name__)


def _sidecar_sha256(path: Path) -> str:
    """The sha256 written beside a checkpoint (``X.pt.sha256`` or ``X.sha256``)."""
    for sidecar in (path.with_name(path.name + ".sha256"),):
        if sidecar.is_file():
            text = sidecar.read_text().split()
            if text and len(text[0]) == 64:
                return text[0].lower()
            raise UserFacingError(f"{sidecar} does not start with a sha256 hex digest.")
    raise UserFacingError(
        f"No sha256 sidecar found for {path} (expected {path.name}.sha256, as "
        f"written by `sha256sum {path.name} > {path.name}.sha256`)."
    )


def _checkpoint_metadata(path: Path, sha256: str) -> dict[str, Any]:
    """The checkpoint's metadata, read (and checked) by emgcore."""
    from emgcore.checkpoint import load_checkpoint

    _model, metadata = load_checkpoint(path, expected_sha256=sha256)
    return dict(metadata)


def _model_card(path: Path, metadata: dict[str, Any]) -> str:
    for card in (path.with_suffix(".md"), path.with_name(path.name + ".md")):
        if card.is_file():
            return card.read_text()
    lines = [
        f"Model: {metadata.get('model_name', 'unknown')}",
        f"Classes: {', '.join(metadata.get('class_names', []))}",
        f"Input: {metadata.get('n_chans', '?')} channel(s) at "
        f"{metadata.get('sfreq', '?')} Hz, {metadata.get('n_times', '?')} samples "
        "per window",
        f"Training data: {metadata.get('dataset', {})}",
        f"Minimum confidence for a decision: {metadata.get('min_confidence', '?')}",
        f"Created: {metadata.get('created_at', '?')}",
        "Intended use: decision support for EMG review, not a diagnosis.",
    ]
    return "\n".join(lines)


@transaction.atomic
def model_version_register(
    *,
    checkpoint_path: Path | str,
    actor=None,
    kind: str = ModelVersion.Kind.DISEASE,
    version: str | None = None,
    activate: bool = False,
) -> ModelVersion:
    """Register a checkpoint after checking it against its sha256 sidecar."""
    path = Path(checkpoint_path)
    if not path.is_absolute() and not path.exists():
        path = Path(settings.EMG_MODEL_DIR) / path
    if not path.is_file():
        raise UserFacingError(f"Checkpoint {path} does not exist.")
    expected = _sidecar_sha256(path)
    actual = file_sha256(path)
    if actual != expected:
        raise UserFacingError(
            f"{path} has sha256 {actual}, but its sidecar says {expected}; the file "
            "is corrupt or was changed, so it was not registered."
        )
    metadata = _checkpoint_metadata(path, actual)
    name = str(metadata.get("model_name") or path.stem)
    version = version or str(metadata.get("version") or actual[:12])
    if ModelVersion.objects.filter(name=name, version=version).exists():
        raise UserFacingError(f"Model {name} {version} is already registered.")
    mv = ModelVersion.objects.create(
        name=name,
        version=version,
        kind=kind,
        checkpoint_path=model_dir_name(path),
        sha256=actual,
        metadata=metadata,
        model_card=_model_card(path, metadata),
        evaluation=provenance.derive_evaluation(metadata),
        training_data=provenance.derive_training_data(metadata),
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REGISTERED,
        obj=mv,
        details={"name": name, "version": version, "sha256": actual},
    )
    if activate:
        mv = model_version_promote(actor=actor, model_version=mv)
    return mv


def _evaluation_problems(model_version: ModelVersion) -> list[str]:
    """Why the version's evaluation says nothing about new people (or too few)."""
    evaluation = provenance.evaluation_of(model_version)
    protocol = evaluation.get("protocol")
    if protocol == provenance.UNKNOWN:
        return [
            "Its evaluation does not record how it was made (protocol, people "
            "and recordings), so its performance on new people is unknown."
        ]
    if not provenance.evaluated_on_new_people(evaluation):
        return [
            "It was evaluated on "
            f"{provenance.protocol_words(protocol)}, not on people it never saw "
            "in training, so its figures do not show how it does on a new patient."
        ]
    minimum = settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS
    people = evaluation.get("people_per_class") or {}
    classes = list((model_version.metadata or {}).get("class_names") or people)
    short = [c for c in classes if int(people.get(c, 0)) < minimum]
    if short:
        return [
            f"Its evaluation holds {provenance.people_text(people) if people else 'no recorded people'} "
            f"person(s) per class; at least {minimum} per class are needed "
            "(EMG_MIN_EVAL_PEOPLE_PER_CLASS)."
        ]
    return []


def model_version_promotion_problems(model_version: ModelVersion) -> list[str]:
    """Why ``model_version`` may not be promoted (empty when it may).

    Promotion needs a subject-held-out evaluation with at least
    EMG_MIN_EVAL_PEOPLE_PER_CLASS people per class, every class at the
    minimum sensitivity and specificity of that evaluation, and a
    site-standardised model calibrated to the laboratory.
    """
    from emgcore.site_calibration import UNCALIBRATED_MESSAGE, needs_site_calibration

    min_sens = settings.EMG_MIN_SENSITIVITY
    min_spec = settings.EMG_MIN_SPECIFICITY
    # An uncalibrated site model refuses every recording (emgcore.inference).
    site = (
        [UNCALIBRATED_MESSAGE]
        if needs_site_calibration(model_version.metadata or {})
        else []
    )
    metrics = model_version_class_metrics(model_version)
    if not metrics:
        return [f"{model_version} has no per-class evaluation metrics.", *site]
    problems = [*site, *_evaluation_problems(model_version)]
    for cls, values in metrics.items():
        for metric, limit in (("sensitivity", min_sens), ("specificity", min_spec)):
            value = (values.get(metric) or {}).get("value")
            if value is None:
                problems.append(f"{cls}: {metric} was not evaluated.")
            elif value < limit:
                problems.append(
                    f"{cls}: {metric} {value:.2f} is below the minimum {limit:.2f}."
                )
    return problems


def model_version_promote(
    *,
    actor,
    model_version: ModelVersion,
    reason: str = "",
    override_reason: str | None = None,
) -> ModelVersion:
    """Make ``model_version`` the active model of its kind, if its metrics allow.

    ``override_reason`` activates it even when it misses the thresholds; the
    reason and the unmet thresholds are stored on the version (shown beside every
    result it produces) and audited. Only operators use it, at installation.
    A refusal is audited too (outside the transaction that would undo it).
    """
    try:
        return _model_version_promote(
            actor=actor,
            model_version=model_version,
            reason=reason,
            override_reason=override_reason,
        )
    except UserFacingError as exc:
        details = {"refused_because": str(exc)}
        if reason:
            details["reason_given"] = reason
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PROMOTION_REFUSED,
            obj=model_version,
            details=details,
        )
        raise


@transaction.atomic
def _model_version_promote(
    *,
    actor,
    model_version: ModelVersion,
    reason: str = "",
    override_reason: str | None = None,
) -> ModelVersion:
    mv = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    if mv.is_active:
        raise UserFacingError(f"{mv} is already the active model.")
    problems = model_version_promotion_problems(mv)
    if problems and not override_reason:
        raise UserFacingError(f"{mv} cannot be promoted: " + " ".join(problems))
    mv.activation_note = (
        f"{override_reason.strip()} Thresholds not met: {' '.join(problems)}"
        if problems
        else ""
    )
    previous = (
        ModelVersion.objects.select_for_update()
        .filter(kind=mv.kind, is_active=True)
        .first()
    )
    if previous is not None:
        previous.is_active = False
        previous.status = ModelVersion.Status.RETIRED
        previous.save(update_fields=["is_active", "status"])
    mv.is_active = True
    mv.status = ModelVersion.Status.ACTIVE
    mv.previous_active = previous
    mv.activated_at = timezone.now()
    mv.save(
        update_fields=[
            "is_active",
            "status",
            "previous_active",
            "activated_at",
            "activation_note",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PROMOTED,
        obj=mv,
        details=_without_empty(
            {
                "version": f"{mv.name} {mv.version}",
                "reason": reason.strip(),
                "replaced": str(previous) if previous else "",
                "evaluation": provenance.protocol_words(
                    provenance.evaluation_of(mv).get("protocol")
                ),
                "below_thresholds": problems,
                "override_reason": override_reason if problems else "",
            }
        ),
    )
    return mv


def _without_empty(details: dict[str, Any]) -> dict[str, Any]:
    """Audit details without empty fields (the trail shows no 'None')."""
    return {k: v for k, v in details.items() if v not in (None, "", [], {})}


@transaction.atomic
def model_version_rollback(
    *, actor, model_version: ModelVersion, reason: str = ""
) -> ModelVersion:
    """Retire the active ``model_version`` and reactivate the one it replaced.

    Returns the version that is active afterwards.
    """
    mv = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    if not mv.is_active:
        raise UserFacingError(
            f"{mv} is not the active model, so it cannot be rolled back."
        )
    previous = mv.previous_active
    if previous is None:
        raise UserFacingError(
            f"{mv} replaced no earlier version; there is nothing to roll back to."
        )
    previous = ModelVersion.objects.select_for_update().get(pk=previous.pk)
    mv.is_active = False
    mv.status = ModelVersion.Status.RETIRED
    mv.save(update_fields=["is_active", "status"])
    previous.is_active = True
    previous.status = ModelVersion.Status.ACTIVE
    previous.activated_at = timezone.now()
    previous.save(update_fields=["is_active", "status", "activated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.ROLLED_BACK,
        obj=mv,
        details=_without_empty(
            {"from": str(mv), "to": str(previous), "reason": reason.strip()}
        ),
    )
    return previous


def model_version_import(
    *,
    checkpoint_path: Path | str,
    actor=None,
    kind: str = ModelVersion.Kind.DISEASE,
    version: str | None = None,
    activate: bool = False,
    if_no_active: bool = False,
    override_reason: str | None = None,
) -> tuple[ModelVersion | None, str]:
    """Register a checkpoint unless it already is (same sha256); idempotent.

    With ``activate`` the version is promoted when it is not active yet; with
    ``if_no_active`` nothing happens while a model of ``kind`` is active.
    Returns the version (None when skipped) and what was done, in words.
    """
    if if_no_active:
        active = ModelVersion.objects.filter(kind=kind, is_active=True).first()
        if active is not None:
            return None, f"{active} is already the active model; nothing imported"
    path = Path(checkpoint_path)
    if not path.is_absolute() and not path.exists():
        path = Path(settings.EMG_MODEL_DIR) / path
    if not path.is_file():
        raise UserFacingError(f"Checkpoint {path} does not exist.")
    existing = ModelVersion.objects.filter(kind=kind, sha256=file_sha256(path)).first()
    if existing is None:
        mv = model_version_register(
            checkpoint_path=path, actor=actor, kind=kind, version=version
        )
        done = f"Registered {mv} (id {mv.pk}, sha256 {mv.sha256})"
    else:
        mv, done = existing, f"{existing} (id {existing.pk}) was already registered"
        if not mv.evaluation and not mv.training_data:
            # Registered before provenance was recorded: derive it once now.
            mv.evaluation = provenance.derive_evaluation(mv.metadata or {})
            mv.training_data = provenance.derive_training_data(mv.metadata or {})
            mv.save(update_fields=["evaluation", "training_data"])
    if activate and not mv.is_active:
        mv = model_version_promote(
            actor=actor,
            model_version=mv,
            reason="Activated at installation (import_checkpoint --activate).",
            override_reason=override_reason,
        )
        done += "; now active"
        if mv.activation_note:
            done += f". WARNING: {mv.activation_note}"
    return mv, done
