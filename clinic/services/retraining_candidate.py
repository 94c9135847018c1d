"""The training work of one retraining run: from its row to a candidate model.

Gathers the run's windows, hands them to :func:`emgcore.retrain.retrain`
(fit with gradual unfreezing or from scratch, calibration, evaluation),
stores every epoch on the row (and stops when an admin cancels), writes the
checkpoint and its model card, and registers the candidate ModelVersion.
Separate from :mod:`clinic.services.retraining`, which owns the run's life
(start, queue, claim, cancel, finish, audit).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.errors import UserFacingError
from clinic.models import ModelVersion, RetrainingRun
from clinic.services.analysis import model_version_checkpoint_verified
from clinic.services.checkpoint_store import checkpoint_store
from clinic.services.jobs import job_progress
from clinic.services.training_data import training_windows
from emgcore.retrain import (
    BaseCheckpoint,
    RetrainConfig,
    retrain,
    retrain_split,
)


def _epoch_callback(run_id: int, epochs: int):
    """Store each epoch on the row; stop when an admin asked to cancel."""

    def on_epoch(record: dict[str, Any]) -> bool:
        entry = {
            "epoch": int(record["epoch"]),
            "train_loss": _num(record.get("train_loss")),
            "val_loss": _num(record.get("val_loss")),
            "val_acc": _num(record.get("val_acc")),
            "lr": _num(record.get("lr")),
            "frozen": bool(record.get("frozen")),
        }
        row = RetrainingRun.objects.filter(pk=run_id).values(
            "history", "cancel_requested"
        )[0]
        progress = 10 + int(75 * entry["epoch"] / max(epochs, 1))
        job_progress(
            RetrainingRun, run_id, min(progress, 85), history=[*row["history"], entry]
        )
        return not row["cancel_requested"]

    return on_epoch


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def _model_card_text(run: RetrainingRun, meta: dict[str, Any]) -> str:
    from emgcore.disease_model import INTENDED_USE, LIMITATIONS
    from emgcore.retrain.card import per_class_table

    m = meta["metrics"]
    level = m.get("evaluation_level")
    lines = [
        f"# Model card: {meta['model_name']} disease classifier (retraining {run.pk})",
        "",
        f"**Intended use.** {INTENDED_USE}",
        "",
        "## Training",
        f"- Base model: {run.base_model} (sha256 {run.base_model.sha256[:12]}...); "
        f"method: {run.get_method_display()}.",
        f"- Data: {', '.join(run.data_sources)}; {m['n_train']} training and "
        f"{m['n_val']} validation windows, split by person (a single-person class "
        "by gapped time blocks).",
        f"- Epochs: {run.epochs}, learning rate {run.learning_rate:g}, seed "
        f"{run.seed}; started by {run.started_by}.",
        f"- Probabilities are temperature-scaled (T = {m['temperature']:.3f}); below "
        f"{meta.get('min_confidence')} the result is 'inconclusive'.",
        "",
        f"## Validation ({level} level, 95 % bootstrap CI)",
        "",
        *per_class_table(m["per_class"], meta["class_names"]),
    ]
    lines += [
        "",
        "The validation people also shaped the temperature and the chosen epoch, so "
        "these figures are optimistic; with few people the CIs are wide.",
        "",
        "## Limitations",
        *[f"- {x}" for x in LIMITATIONS],
        "",
    ]
    return "\n".join(lines)


def _provenance_blocks(run, ws, train_idx, val_idx) -> tuple[dict, dict]:
    """``meta["evaluation"]`` and ``meta["training_data"]`` of a candidate
    (clinic.provenance): whom its validation windows came from, and whom it
    was trained on. Without them the promotion gate cannot tell a held-out
    evaluation from a memorised one. A class with a single person (emgdb) is
    validated on a later time block of that person: then the evaluation is a
    time-block one, never "subject-held-out"."""
    from clinic import provenance

    train_people = set(ws.subjects[train_idx].tolist())
    val_people = set(ws.subjects[val_idx].tolist())
    shared = bool(train_people & val_people)
    # The built-in recordings' file hashes, for the result page's notice.
    hashes = {}
    for dataset, used in (
        ("physionet_emgdb", run.use_emgdb),
        ("emglab_n2001", run.use_n2001),
    ):
        if used:
            hashes.update(
                {
                    r["recording"]: r["sha256"]
                    for r in provenance.builtin_recordings(dataset)
                }
            )
    train_recordings = sorted(set(ws.recording_ids[train_idx].tolist()))
    val_recordings = sorted(set(ws.recording_ids[val_idx].tolist()))
    evaluation = {
        "protocol": provenance.TIME_BLOCK if shared else provenance.SUBJECT_HELD_OUT,
        "description": f"validation split of retraining run {run.pk}",
        "dataset": "+".join(run.data_sources),
        "people_per_class": {
            name: len(set(ws.subjects[val_idx][ws.y[val_idx] == k].tolist()))
            for k, name in enumerate(ws.class_names)
        },
        "subjects": sorted(val_people),
        "recordings": val_recordings,
        "sha256s": [hashes[r] for r in val_recordings if r in hashes],
        "subject_held_out": not shared,
        "source": f"retraining run {run.pk}",
    }
    training = {
        "datasets": list(run.data_sources),
        "subjects": sorted(train_people),
        "recordings": train_recordings,
        "sha256s": [hashes[r] for r in train_recordings if r in hashes],
    }
    return evaluation, training


def retrain_config(run: RetrainingRun) -> RetrainConfig:
    """The run's options as emgcore's retraining takes them."""
    return RetrainConfig(
        method=str(run.method),
        epochs=run.epochs,
        learning_rate=float(run.learning_rate),
        seed=run.seed,
        max_windows=settings.EMG_RETRAIN_MAX_WINDOWS,
        n_boot=settings.EMG_EVAL_N_BOOT,
        device=settings.EMG_DEVICE,
        data_sources=tuple(run.data_sources),
        run_id=run.pk,
    )


def _train_candidate(run_id: int) -> ModelVersion | None:
    """The work of one run; returns the candidate, or None when cancelled."""
    from emgcore.checkpoint import load_checkpoint, save_checkpoint

    run = RetrainingRun.objects.select_related("base_model", "started_by").get(
        pk=run_id
    )
    base_model = run.base_model
    checkpoint = model_version_checkpoint_verified(base_model)
    base = BaseCheckpoint.load(checkpoint, expected_sha256=base_model.sha256)
    meta = base.metadata
    ws, summary = training_windows(run, meta)
    if ws.n_chans != meta["n_chans"] or ws.n_times != meta["n_times"]:
        raise UserFacingError(
            f"The data give windows of {ws.n_chans} x {ws.n_times} samples, but "
            f"{base_model} expects {meta['n_chans']} x {meta['n_times']}."
        )
    config = retrain_config(run)
    split = retrain_split(ws, config)
    summary.update(n_train=int(len(split.train_idx)), n_val=int(len(split.val_idx)))
    job_progress(RetrainingRun, run_id, 10, data_summary=summary)
    result = retrain(
        ws,
        config,
        base=base,
        split=split,
        on_epoch=_epoch_callback(run_id, run.epochs),
        should_stop=lambda: _cancel_requested(run_id),
        on_stage=lambda _stage: job_progress(RetrainingRun, run_id, 88),
    )
    if result.cancelled:
        return None
    metadata = dict(result.metadata)
    metadata["evaluation"], metadata["training_data"] = _provenance_blocks(
        run, ws, split.train_idx, split.val_idx
    )
    stem = f"retrain-{run.pk}-{timezone.now():%Y%m%d%H%M%S}"
    with tempfile.TemporaryDirectory(prefix=f"myolens-retrain{run.pk}-") as tmp:
        path = Path(tmp) / f"{stem}.pt"
        save_checkpoint(path, result.model, metadata)
        _, saved = load_checkpoint(path)
        path.with_suffix(".md").write_text(_model_card_text(run, dict(saved)))
        job_progress(RetrainingRun, run_id, 95)
        return _candidate_register(run, path)


def _candidate_register(run: RetrainingRun, path: Path) -> ModelVersion:
    """Register the candidate with its file in storage (other hosts use it)."""
    from clinic.services.models_registry import model_version_register

    stored = checkpoint_store(path)
    with transaction.atomic():
        mv = model_version_register(
            checkpoint_path=path, actor=run.started_by, version=f"retrain-{run.pk}"
        )
        mv.checkpoint_path = stored
        mv.save(update_fields=["checkpoint_path"])
    return mv


def _cancel_requested(run_id: int) -> bool:
    return bool(
        RetrainingRun.objects.filter(pk=run_id)
        .values_list("cancel_requested", flat=True)
        .first()
    )
