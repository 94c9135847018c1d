"""Gesture checkpoints: pretrain, adapt to one person, predict; model cards.

:func:`adapt_to_subject` is the entry point for the web app's Celery task: it
takes a pretrained checkpoint and one person's calibration recordings
(GestureFiles) and returns the adapted model, the metadata to save with it and
a report (accuracy before/after on the person's held-back trials, confusion
matrix, class names).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.checkpoint import file_sha256, load_checkpoint, save_checkpoint
from emgcore.config import TrainConfig
from emgcore.errors import IncompatibleCheckpointError, InvalidRecordingError
from emgcore.gesture.core import (
    ADAPT_CONFIG,
    PRETRAIN_CONFIG,
    EpochCallback,
    accuracy_report,
    adapt,
    evaluate,
    person_scaler,
    predict_proba,
    pretrain,
)
from emgcore.gesture.data import (
    ADAPT_AUGMENT,
    ChannelScaler,
    GainAugment,
    GestureDatasetSpec,
    GestureTrial,
    check_disjoint,
    split_adapt_test,
    trial_windows,
    trials_from_files,
)
from emgcore.io.gestures import GestureFile
from emgcore.models import AllConvNet, count_parameters

logger = logging.getLogger(__name__)

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
    dataset_name: str | None = None,
    subjects: Sequence[str] = (),
) -> str:
    """Save a gesture model with the metadata needed to use it.

    ``preprocess`` holds the representation, the dataset spec (rate, window,
    label codes) and the channel scaler; ``train`` the recipe and the subjects.

    Returns
    -------
    sha256 : str
    """
    subjects = list(subjects) or list(train.get("source_subjects", []))
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
                "name": dataset_name or spec.folder,
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
    *,
    heldout: Sequence[str] = (),
    seed: int = 0,
    config: TrainConfig = PRETRAIN_CONFIG,
    widths: Sequence[int] = (32, 64),
    max_windows: int | None = 20000,
    per_subject: bool = True,
    val_subjects: int = 0,
    command: str | None = None,
) -> dict[str, Any]:
    """Pretrain on every subject not in ``heldout``; save checkpoint + model card.

    ``val_subjects`` is passed to :func:`emgcore.gesture.core.pretrain`.

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
    model, scaler, info = pretrain(
        src,
        spec,
        config=config,
        seed=seed,
        widths=widths,
        max_windows=max_windows,
        per_subject=per_subject,
        val_subjects=val_subjects,
    )
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
        "max_windows": max_windows,
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


def adapt_to_subject(
    checkpoint_path: str | Path,
    gesture_files: Sequence[GestureFile],
    *,
    k: int = 1,
    seed: int = 0,
    on_epoch: EpochCallback | None = None,
    method: str = "tl_frozen",
    config: TrainConfig = ADAPT_CONFIG,
    augment: GainAugment | None = ADAPT_AUGMENT,
    refit: bool = True,
) -> tuple[AllConvNet, dict[str, Any], dict[str, Any]]:
    """Adapt a pretrained gesture checkpoint to one person.

    The person's first ``k`` trials per gesture adapt the model (conv layers
    1-3 frozen by default); every later trial is held back and scores the
    model before (source model, source scaler) and after adaptation.

    Parameters
    ----------
    checkpoint_path : path
        A checkpoint from ``gesture pretrain`` (or an earlier adaptation).
    gesture_files : sequence of GestureFile
        The person's calibration recordings in recording order, with labels
        in the checkpoint dataset's codes (``preprocess.spec.label_codes``).
    k : int
        Adaptation trials per gesture; each gesture needs at least k + 1.
    seed : int
    on_epoch : callable, optional
        Progress callback (see :func:`emgcore.train.fit`); returning False
        cancels.
    method : {"tl_frozen", "tl_full", "scratch"}
    config : TrainConfig
    augment : GainAugment or None
        Random electrode gains on the training windows (default on).
    refit : bool
        Retrain on the whole adaptation trials for the epoch count early
        stopping chose (default on; see :func:`emgcore.gesture.core.adapt`).

    Returns
    -------
    model : AllConvNet
    metadata : dict
        Keyword arguments for :func:`save_adapted` / the checkpoint metadata.
    report : dict
        ``accuracy_before``, ``accuracy_after``, ``balanced_accuracy_*``,
        ``confusion_before``/``confusion_after`` (rows = true class),
        ``class_names``, ``n_adapt_trials``, ``n_test_trials``, ``train``.

    Raises
    ------
    InvalidRecordingError
        If no gesture has more than k trials, or channels do not match.
    """
    source, meta, scaler, spec = load_gesture_checkpoint(checkpoint_path)
    spec_in = spec
    for gf in gesture_files:
        expected = spec.sfreq * spec.decimate
        if abs(gf.recording.sfreq - expected) > 1e-6 * expected:
            raise InvalidRecordingError(
                f"{gf.name}: sampling rate {gf.recording.sfreq:g} Hz; this model "
                f"expects {expected:g} Hz."
            )
    trials = trials_from_files(gesture_files, spec_in)
    subjects = sorted({t.subject for t in trials})
    if len(subjects) > 1:  # one person, several files: one trial numbering
        trials = trials_from_files(
            [_renamed(gf, "person") for gf in gesture_files], spec_in
        )
    adapt_trials, test_trials = split_adapt_test(trials, k=k)
    check_disjoint(adapt_trials, test_trials)
    labels_test = {t.label for t in test_trials}
    if not test_trials:
        raise InvalidRecordingError(
            f"No held-back trials: every gesture needs more than k={k} trials."
        )
    # "Before" is the source model as it is, scaled as it was trained: a
    # per-subject source model gets the person's own channel statistics.
    before = evaluate(
        source, person_scaler(scaler, adapt_trials, spec), test_trials, spec
    )
    model, new_scaler, info = adapt(
        source,
        adapt_trials,
        spec,
        method=method,
        config=config,
        seed=seed,
        augment=augment,
        refit=refit,
        on_epoch=on_epoch,
    )
    after = evaluate(model, new_scaler, test_trials, spec)
    parent = file_sha256(checkpoint_path)
    report = {
        "class_names": list(spec.class_names),
        "accuracy_before": before["accuracy"],
        "accuracy_after": after["accuracy"],
        "balanced_accuracy_before": before["balanced_accuracy"],
        "balanced_accuracy_after": after["balanced_accuracy"],
        "confusion_before": before["confusion"],
        "confusion_after": after["confusion"],
        "n_adapt_trials": len(adapt_trials),
        "n_test_trials": len(test_trials),
        "test_classes": sorted(labels_test),
        "k": k,
        "method": method,
        "train": info,
        "parent_sha256": parent,
    }
    metadata = {
        "scaler": new_scaler,
        "spec": spec,
        "train": {
            "config": config.to_dict(),
            "method": method,
            "k": k,
            "adapt_files": [gf.name for gf in gesture_files],
            "source_subjects": meta["train"].get("source_subjects", []),
            "heldout_subjects": meta["train"].get("heldout_subjects", []),
            "validation": "last 25% of every adaptation trial (time split)",
            **info,
        },
        "metrics": {
            k2: report[k2]
            for k2 in (
                "accuracy_before",
                "accuracy_after",
                "balanced_accuracy_before",
                "balanced_accuracy_after",
                "n_test_trials",
                "confusion_after",
            )
        },
        "parent": parent,
        "seed": seed,
    }
    return model, metadata, report


def _renamed(gf: GestureFile, subject: str) -> GestureFile:
    import dataclasses

    return dataclasses.replace(gf, subject=subject)


def save_adapted(path: str | Path, model: AllConvNet, metadata: dict[str, Any]) -> str:
    """Save the output of :func:`adapt_to_subject` as a checkpoint (sha256 back)."""
    return save_gesture_checkpoint(
        path,
        model,
        metadata["scaler"],
        metadata["spec"],
        train=metadata["train"],
        seed=metadata["seed"],
        metrics=metadata["metrics"],
        parent=metadata["parent"],
    )


def predict_files(
    checkpoint_path: str | Path, gesture_files: Sequence[GestureFile]
) -> list[dict[str, Any]]:
    """Classify consecutive windows of each recording.

    Windows are ``spec.window`` samples long, ``spec.step`` apart, over the
    whole recording (for a labelled file, also reports window accuracy
    against the labels at the window centres, where those are classes).

    Returns
    -------
    list of dict
        Per file: ``name``, ``n_windows``, ``window_s``, ``step_s``,
        ``predictions`` (class name per window), ``confidence`` (max
        probability), ``counts`` (windows per class), and ``accuracy`` if the
        file has labels of the model's classes.
    """
    model, meta, scaler, spec = load_gesture_checkpoint(checkpoint_path)
    code_to_idx = {c: i for i, c in enumerate(spec.label_codes)}
    out = []
    for gf in gesture_files:
        data = (
            gf.recording.data[:, :: spec.decimate]
            if spec.decimate > 1
            else gf.recording.data
        )
        if data.shape[0] != scaler.n_chans:
            raise InvalidRecordingError(
                f"{gf.name}: {data.shape[0]} channels; the model reads {scaler.n_chans}."
            )
        win = trial_windows(data, spec.window, spec.step)
        proba = (
            # a per-subject source model scales by this recording's statistics
            predict_proba(model, scaler.for_person(win).transform(win))
            if len(win)
            else np.zeros((0, 1))
        )
        pred = proba.argmax(1) if len(win) else np.zeros(0, int)
        names = [spec.class_names[i] for i in pred]
        item: dict[str, Any] = {
            "name": gf.name,
            "n_windows": int(len(win)),
            "window_s": spec.window_s,
            "step_s": spec.step_s,
            "predictions": names,
            "confidence": [round(float(p), 4) for p in proba.max(1)]
            if len(win)
            else [],
            "counts": {c: names.count(c) for c in spec.class_names if names.count(c)},
        }
        if len(win) and gf.labels is not None and gf.labels.size:
            labels = gf.labels[:: spec.decimate] if spec.decimate > 1 else gf.labels
            centres = np.arange(len(win)) * spec.step + spec.window // 2
            codes = labels[np.minimum(centres, labels.size - 1)]
            keep = np.array([c in code_to_idx for c in codes])
            if keep.any():
                y = np.array([code_to_idx[c] for c in codes[keep]])
                item["accuracy"] = accuracy_report(
                    y, pred[keep], len(spec.class_names)
                )["accuracy"]
        out.append(item)
    return out


def count_model_parameters(widths: Sequence[int], n_classes: int) -> int:
    """Parameters of an All-ConvNet with these widths and classes."""
    return count_parameters(
        AllConvNet(n_chans=8, n_times=16, n_outputs=n_classes, widths=tuple(widths))
    )


__all__ = [
    "adapt_to_subject",
    "load_gesture_checkpoint",
    "model_card",
    "predict_files",
    "pretrain_checkpoint",
    "save_adapted",
    "save_gesture_checkpoint",
]
