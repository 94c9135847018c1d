"""Gesture models for the app: adapt to one person, predict; checkpoints re-exported.

:func:`adapt_to_subject` is the entry point for the web app's Celery task: it
takes a pretrained checkpoint and one person's calibration recordings
(GestureFiles) and returns the adapted model, the metadata to save with it and
a report (accuracy before/after on the person's held-back trials, confusion
matrix, class names).

Checkpoint files and model cards live in :mod:`emgcore.gesture.checkpoints`;
their public names are re-exported here, so imports from this module work as
before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.checkpoint import file_sha256
from emgcore.errors import InvalidRecordingError
from emgcore.gesture.checkpoints import (
    REPRESENTATION as REPRESENTATION,
)
from emgcore.gesture.checkpoints import (
    ROWS_TEXT as ROWS_TEXT,
)
from emgcore.gesture.checkpoints import (
    count_model_parameters as count_model_parameters,
)
from emgcore.gesture.checkpoints import (
    load_gesture_checkpoint,
    model_card,
    pretrain_checkpoint,
    save_gesture_checkpoint,
)
from emgcore.gesture.checkpoints import (
    split_hash as split_hash,
)
from emgcore.gesture.core import (
    ADAPT_CONFIG,
    ADAPT_OPTIONS,
    AdaptOptions,
    EpochCallback,
    accuracy_report,
    adapt,
    evaluate,
    person_scaler,
    predict_proba,
)
from emgcore.gesture.data import (
    check_disjoint,
    split_adapt_test,
    trial_windows,
    trials_from_files,
)
from emgcore.io.gestures import GestureFile
from emgcore.models import AllConvNet


def adapt_to_subject(
    checkpoint_path: str | Path,
    gesture_files: Sequence[GestureFile],
    options: AdaptOptions = ADAPT_OPTIONS,
    *,
    k: int = 1,
    seed: int = 0,
    on_epoch: EpochCallback | None = None,
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
    options : AdaptOptions
        ``method`` ({"tl_frozen", "tl_full", "scratch"}), ``config`` (None:
        :data:`ADAPT_CONFIG`), ``augment`` (random electrode gains on the
        training windows, default on) and ``refit`` (retrain on the whole
        adaptation trials for the epoch count early stopping chose, default
        on; see :func:`emgcore.gesture.core.adapt`).
    k : int
        Adaptation trials per gesture; each gesture needs at least k + 1.
    seed : int
    on_epoch : callable, optional
        Progress callback (see :func:`emgcore.train.fit`); returning False
        cancels.

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
    # The checkpoint records the schedule, so the preset stands in for None.
    config = options.config or ADAPT_CONFIG
    options = dataclasses.replace(options, config=config)
    method = options.method
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
        source, adapt_trials, spec, options, seed=seed, on_epoch=on_epoch
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


def pick_targets(subjects: Sequence[str], n: int) -> list[str]:
    """``n`` subjects spread evenly over the sorted list (deterministic)."""
    subjects = list(subjects)
    if n >= len(subjects):
        return subjects
    idx = np.linspace(0, len(subjects) - 1, n).round().astype(int)
    return [subjects[i] for i in idx]


__all__ = [
    "adapt_to_subject",
    "pick_targets",
    "load_gesture_checkpoint",
    "model_card",
    "predict_files",
    "pretrain_checkpoint",
    "save_adapted",
    "save_gesture_checkpoint",
]
