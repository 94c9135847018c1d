"""Gesture checkpoints and model cards: save, load, pretrain to a file.

The file format of a gesture model (weights, metadata, channel scaler,
dataset spec), :func:`pretrain_checkpoint` (pretrain on source subjects and
save with its card) and :func:`model_card` (JSON + Markdown beside the
checkpoint). Separate from :mod:`emgcore.gesture.api`, which uses these files
to adapt to a person and to predict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.checkpoint import load_checkpoint, save_checkpoint
from emgcore.errors import IncompatibleCheckpointError, InvalidRecordingError
from emgcore.gesture.core import (
    PRETRAIN_OPTIONS,
    PretrainOptions,
    evaluate,
    person_scaler,
    pretrain,
)
from emgcore.gesture.data import (
    ChannelScaler,
    GestureDatasetSpec,
    GestureTrial,
)
from emgcore.models import AllConvNet, count_parameters

REPRESENTATION = "channels_x_time_window"


#: How the model card describes each representation's image rows.
ROWS_TEXT = {
    "raw": "(raw rows)",
    "raw+rectified": "(raw rows, then the same rows rectified)",
    "logenv": "(log of each electrode's short-time envelope)",
}


def split_hash(subjects: Sequence[str], extra: Sequence[str] = ()) -> str:
    """sha256 (16 hex) of the sorted subject ids (and any extra ids)."""
    text = "|".join(sorted(map(str, subjects))) + "#" + "|".join(map(str, extra))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_gesture_checkpoint(
    path: str | Path,
    model: AllConvNet,
    scaler: ChannelScaler,
    spec: GestureDatasetSpec,
    *,
    train: dict[str, Any],
    seed: int,
    metrics: dict[str, Any] | None = None,
    parent: str | None = None,
) -> str:
    """Save a gesture model with the metadata needed to use it.

    ``preprocess`` holds the representation, the dataset spec (rate, window,
    label codes) and the channel scaler; ``train`` the recipe and the subjects.

    Returns
    -------
    sha256 : str
    """
    subjects = list(train.get("source_subjects", []))
    return save_checkpoint(
        path,
        model,
        {
            "class_names": list(spec.class_names),
            "preprocess": {
                "representation": REPRESENTATION,
                "image_shape": [1, model.n_chans, spec.window],
                "spec": spec.to_dict(),
                "scaler": scaler.to_dict(),
                "filters": "none (device-filtered signals); per-channel z-score",
            },
            "train": train,
            "dataset": {
                "name": spec.folder,
                "split_hash": split_hash(subjects, train.get("heldout_subjects", [])),
            },
            "metrics": metrics or {},
            "seed": seed,
            "parent": parent,
            "min_confidence": None,
        },
    )


def load_gesture_checkpoint(
    path: str | Path,
) -> tuple[AllConvNet, dict[str, Any], ChannelScaler, GestureDatasetSpec]:
    """Load a checkpoint written by :func:`save_gesture_checkpoint`.

    Raises
    ------
    IncompatibleCheckpointError
        If it is not a gesture All-ConvNet checkpoint.
    """
    model, meta = load_checkpoint(path)
    pre = meta.get("preprocess", {})
    if (
        meta["model_name"] != "allconvnet"
        or pre.get("representation") != REPRESENTATION
    ):
        raise IncompatibleCheckpointError(
            f"{Path(path).name} is a {meta['model_name']!r} checkpoint with "
            f"representation {pre.get('representation')!r}; a gesture All-ConvNet "
            f"with {REPRESENTATION!r} is needed."
        )
    return (
        model,  # type: ignore[return-value]
        dict(meta),
        ChannelScaler.from_dict(pre["scaler"]),
        GestureDatasetSpec.from_dict(pre["spec"]),
    )


def pretrain_checkpoint(
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    out: str | Path,
    options: PretrainOptions = PRETRAIN_OPTIONS,
    *,
    heldout: Sequence[str] = (),
    seed: int = 0,
    command: str | None = None,
) -> dict[str, Any]:
    """Pretrain on every subject not in ``heldout``; save checkpoint + model card.

    ``options`` are passed to :func:`emgcore.gesture.core.pretrain`.

    Held-out subjects (if any) are evaluated without adaptation (all their
    trials) and that accuracy is stored in ``metrics``.

    Returns
    -------
    dict
        The model card (also written as ``<out>.md`` and ``<out>.card.json``).
    """
    held = set(heldout)
    subjects = sorted({t.subject for t in trials})
    unknown = sorted(held - set(subjects))
    if unknown:
        raise InvalidRecordingError(
            f"Held-out subject(s) {unknown} are not in the data."
        )
    source_subjects = [s for s in subjects if s not in held]
    src = [t for t in trials if t.subject in set(source_subjects)]
    model, scaler, info = pretrain(src, spec, options, seed=seed)
    config, val_subjects = options.config, options.val_subjects
    val_key = "val_acc_source_subjects" if val_subjects else "val_acc_source_time_split"
    metrics: dict[str, Any] = {val_key: info["best_val_acc"]}
    if held:
        # Each held-out person scored on their own; a per-subject model gets
        # that person's statistics from their first trial per gesture.
        reps = []
        for subject in sorted(held):
            own = [t for t in trials if t.subject == subject]
            calib = [t for t in own if t.order == 0]
            reps.append(evaluate(model, person_scaler(scaler, calib, spec), own, spec))
        metrics["heldout_no_adapt_accuracy"] = float(
            np.mean([r["accuracy"] for r in reps])
        )
        metrics["heldout_no_adapt_balanced_accuracy"] = float(
            np.mean([r["balanced_accuracy"] for r in reps])
        )
    train = {
        "config": config.to_dict(),
        "source_subjects": source_subjects,
        "heldout_subjects": sorted(held),
        "max_windows": options.max_windows,
        "scaling": info.get("scaling"),
        "command": command,
        **info,
        "validation": (
            f"{val_subjects} source subjects left out, then refitted on all"
            if val_subjects
            else "last 20% of every source trial (time split)"
        ),
    }
    sha = save_gesture_checkpoint(
        out, model, scaler, spec, train=train, seed=seed, metrics=metrics
    )
    card = model_card(out, model, spec, train=train, metrics=metrics, sha256=sha)
    return card


def model_card(
    path: str | Path,
    model: AllConvNet,
    spec: GestureDatasetSpec,
    *,
    train: dict[str, Any],
    metrics: dict[str, Any],
    sha256: str,
) -> dict[str, Any]:
    """Write ``<path>.md`` and ``<path>.card.json`` beside a checkpoint."""
    path = Path(path)
    card = {
        "name": path.name,
        "sha256": sha256,
        "model": "allconvnet",
        "n_parameters": count_parameters(model),
        "model_kwargs": model.get_config(),
        "intended_use": (
            "Research and demonstration: starting point for adapting a wrist/hand "
            "gesture recogniser to a new person from a few calibration trials "
            "(emgcore gesture adapt / Myolens 'Gesture adaptation'). Not a medical "
            "device; not for controlling prostheses or anything safety-relevant."
        ),
        "data": {
            "dataset": spec.folder,
            "sampling_rate_hz": spec.sfreq,
            "classes": list(spec.class_names),
            "source_subjects": train.get("source_subjects", []),
            "heldout_subjects": train.get("heldout_subjects", []),
            "input": f"{model.n_chans} x {spec.window} image = "
            f"{spec.window_s * 1000:.0f} ms window of "
            f"{model.n_chans // spec.rows_per_channel} electrodes "
            + ROWS_TEXT[spec.representation]
            + ", per-row z-score: "
            + (
                "each source subject by their own statistics; a new person by "
                "theirs (calibration windows)"
                if train.get("scaling") == "per subject"
                else "training-window statistics"
            ),
        },
        "training": {
            k: train.get(k)
            for k in (
                "config",
                "epochs_run",
                "best_epoch",
                "n_train_windows",
                "validation",
                "command",
            )
        },
        "metrics": metrics,
        "limitations": [
            "Window-level accuracy on data from the same device and protocol only.",
            "Inter-subject accuracy without adaptation is low; adapt to each person.",
            "Trained on a random subset of source windows for a CPU budget.",
            "The Myo stream is ~200 Hz nominal; other rates are not supported.",
        ],
        "citation": "Islam et al., arXiv:2305.08014 (All-ConvNet + TL).",
    }
    Path(str(path) + ".card.json").write_text(
        json.dumps(card, indent=2), encoding="utf-8"
    )
    md = [
        f"# Model card: {path.name}",
        "",
        f"- sha256: `{sha256}`",
        f"- Architecture: All-ConvNet (Islam et al. 2023), {card['n_parameters']:,} "
        f"parameters, widths {model.get_config()['widths']}",
        f"- Input: {card['data']['input']}",
        f"- Classes (output order): {', '.join(spec.class_names)}",
        "",
        "## Intended use",
        card["intended_use"],
        "",
        "## Data",
        f"{spec.folder} at {spec.sfreq:g} Hz; source subjects: "
        f"{len(card['data']['source_subjects'])}; held out: "
        f"{', '.join(card['data']['heldout_subjects']) or 'none'}.",
        "",
        "## Training",
        f"Adam + early stopping (patience {train.get('config', {}).get('patience')}),"
        f" {train.get('epochs_run')} epochs run, best epoch {train.get('best_epoch')},"
        f" {train.get('n_train_windows')} training windows. Validation: "
        f"{train.get('validation')}.",
        "",
        "Command:",
        "",
        f"    {train.get('command')}",
        "",
        "## Metrics",
        *[
            f"- {k}: {v:.3f}" if isinstance(v, float) else f"- {k}: {v}"
            for k, v in metrics.items()
        ],
        "",
        "## Limitations",
        *[f"- {x}" for x in card["limitations"]],
        "",
    ]
    Path(str(path.with_suffix("")) + ".md").write_text("\n".join(md), encoding="utf-8")
    return card


def count_model_parameters(widths: Sequence[int], n_classes: int) -> int:
    """Parameters of an All-ConvNet with these widths and classes."""
    return count_parameters(
        AllConvNet(n_chans=8, n_times=16, n_outputs=n_classes, widths=tuple(widths))
    )
