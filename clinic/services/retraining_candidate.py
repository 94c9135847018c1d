"""The training work of one retraining run: from its row to a candidate model.

Builds the base architecture, fits it on the run's windows with the run's
configuration (gradual unfreezing for transfer learning), stores every epoch
on the row (and stops when an admin cancels), calibrates, evaluates, writes
the checkpoint and its model card, and registers the candidate
ModelVersion. Separate from :mod:`clinic.services.retraining`, which owns the
run's life (start, queue, claim, cancel, finish, audit).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.errors import UserFacingError
from clinic.models import ModelVersion, RetrainingRun
from clinic.services.analysis import model_version_checkpoint_verified
from clinic.services.checkpoint_store import checkpoint_store
from clinic.services.jobs import job_progress
from clinic.services.training_data import (
    cap_windows,
    split_by_subject,
    training_windows,
)


def _train_config(run: RetrainingRun, model):
    from emgcore.config import TrainConfig

    lr = float(run.learning_rate)
    if run.method == RetrainingRun.Method.TL and hasattr(model, "encoder_parameters"):
        # Gradual unfreezing (the paper's recipe): the head first, then all
        # layers at a tenth of the rate.
        frozen = max(1, run.epochs // 3) if run.epochs > 1 else 1
        return TrainConfig(
            epochs=run.epochs,
            freeze_encoder_epochs=frozen,
            frozen_lr=lr,
            unfrozen_lr=lr / 10,
        )
    return TrainConfig(epochs=run.epochs, lr=lr)


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


def _per_class_evaluation(evaluation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Recording-level report when there are several recordings per class."""
    level = "recording" if "recording" in evaluation else "window"
    return level, evaluation[level]["report"]


def _model_card_text(run: RetrainingRun, meta: dict[str, Any]) -> str:
    from emgcore.disease_model import INTENDED_USE, LIMITATIONS

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
        "| class | sensitivity | specificity | precision | F1 | AUC |",
        "|---|---|---|---|---|---|",
    ]
    for c in meta["class_names"]:
        pc = m["per_class"][c]
        lines.append(
            f"| {c} | {_ci(pc, 'sensitivity')} | {_ci(pc, 'specificity')} | "
            f"{_ci(pc, 'precision')} | {_ci(pc, 'f1')} | {_ci(pc, 'auc')} |"
        )
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


def _ci(pc: dict[str, Any], name: str) -> str:
    value = pc.get(name)
    if value is None:
        return "n/a"
    ci = pc.get(f"{name}_ci")
    return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f"{value:.2f}"


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


def _train_candidate(run_id: int) -> ModelVersion | None:
    """The work of one run; returns the candidate, or None when cancelled."""
    import torch

    from emgcore.checkpoint import load_checkpoint, save_checkpoint
    from emgcore.disease import logits_of
    from emgcore.evaluate import evaluate_checkpoint
    from emgcore.metrics import fit_temperature
    from emgcore.models import build_model
    from emgcore.train import fit, set_seeds

    run = RetrainingRun.objects.select_related("base_model", "started_by").get(
        pk=run_id
    )
    base = run.base_model
    checkpoint = model_version_checkpoint_verified(base)
    model, meta = load_checkpoint(checkpoint, expected_sha256=base.sha256)
    meta = dict(meta)
    ws, summary = training_windows(run, meta)
    if ws.n_chans != meta["n_chans"] or ws.n_times != meta["n_times"]:
        raise UserFacingError(
            f"The data give windows of {ws.n_chans} x {ws.n_times} samples, but "
            f"{base} expects {meta['n_chans']} x {meta['n_times']}."
        )
    train_idx, val_idx = split_by_subject(ws, seed=run.seed)
    cap = settings.EMG_RETRAIN_MAX_WINDOWS
    train_idx = cap_windows(ws, train_idx, cap, run.seed)
    val_idx = cap_windows(ws, val_idx, max(3, cap // 4), run.seed)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise UserFacingError(
            "The training data are too small to hold out validation recordings."
        )
    missing = [
        ws.class_names[c]
        for c in range(ws.n_classes)
        if not np.any(ws.y[train_idx] == c)
    ]
    if missing:
        raise UserFacingError(
            f"The training data have no {', '.join(missing)} example; choose more "
            "data (for example a built-in dataset)."
        )
    summary.update(n_train=int(len(train_idx)), n_val=int(len(val_idx)))
    job_progress(RetrainingRun, run_id, 10, data_summary=summary)
    if run.method == RetrainingRun.Method.SCRATCH:
        set_seeds(run.seed)
        model = build_model(meta["model_name"], **meta["model_kwargs"])
    else:
        torch.manual_seed(run.seed)
    config = _train_config(run, model)
    result = fit(
        model,
        (ws.X[train_idx], ws.y[train_idx]),
        (ws.X[val_idx], ws.y[val_idx]),
        config=config,
        seed=run.seed,
        device=settings.EMG_DEVICE,
        progress=False,
        on_epoch=_epoch_callback(run_id, run.epochs),
    )
    if result.cancelled or _cancel_requested(run_id):
        return None
    model.load_state_dict(result.state)
    model.to("cpu")
    temperature = float(fit_temperature(logits_of(model, ws.X[val_idx]), ws.y[val_idx]))
    metrics: dict[str, Any] = {
        "temperature": temperature,
        "method": run.method,
        "n_train": int(len(train_idx)),
        "n_val": int(len(val_idx)),
        "val_acc": result.best_val_acc,
        "best_epoch": result.best_epoch,
        "retraining_run": run.pk,
    }
    metadata = {
        "class_names": list(meta["class_names"]),
        "preprocess": meta["preprocess"],
        "train": {
            **config.to_dict(),
            "stage": "retraining",
            "data": run.data_sources,
            "max_windows": cap,
        },
        "dataset": {
            "name": "+".join(run.data_sources),
            "split_hash": ws.content_hash(),
        },
        "metrics": metrics,
        "seed": run.seed,
        "parent": base.sha256,
        "min_confidence": meta.get("min_confidence"),
    }
    metadata["evaluation"], metadata["training_data"] = _provenance_blocks(
        run, ws, train_idx, val_idx
    )
    job_progress(RetrainingRun, run_id, 88)
    stem = f"retrain-{run.pk}-{timezone.now():%Y%m%d%H%M%S}"
    with tempfile.TemporaryDirectory(prefix=f"myolens-retrain{run.pk}-") as tmp:
        # Evaluate a first save (evaluate_checkpoint reads a file), then save the
        # final checkpoint with its evaluation inside.
        draft = Path(tmp) / "draft.pt"
        save_checkpoint(draft, model, metadata)
        evaluation = evaluate_checkpoint(
            draft, ws, val_idx, n_boot=settings.EMG_EVAL_N_BOOT, seed=run.seed
        )
        level, report = _per_class_evaluation(evaluation)
        metrics.update(
            per_class=report["per_class"],
            accuracy=report.get("accuracy"),
            balanced_accuracy=report.get("balanced_accuracy"),
            evaluation_level=level,
            evaluation=evaluation,
        )
        path = Path(tmp) / f"{stem}.pt"
        save_checkpoint(path, model, metadata)
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
