"""Evaluating gesture models and the Hudgins + LDA peer.

Window-level accuracy reports, the scaler for a person the model has not
seen (:func:`person_scaler`), the classic-features peer (:func:`lda_accuracy`)
and a wall-clock helper. Separate from training: nothing here changes a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.gesture.core.model import predict_proba
from emgcore.gesture.data import (
    ChannelScaler,
    GestureDatasetSpec,
    GestureTrial,
    cut_windows,
    subsample,
)
from emgcore.metrics import confusion_matrix


def accuracy_report(
    y_true: NDArray[np.int64], y_pred: NDArray[np.int64], n_classes: int
) -> dict[str, Any]:
    """Accuracy, balanced accuracy (mean recall over present classes), counts.

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``n_windows``, ``confusion``
        (list of lists, rows = true class).
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.diag(cm)[present] / support[present]
    n = int(cm.sum())
    return {
        "accuracy": float(np.trace(cm) / n) if n else float("nan"),
        "balanced_accuracy": float(recall.mean()) if present.any() else float("nan"),
        "n_windows": n,
        "confusion": cm.tolist(),
    }


def evaluate(
    model: torch.nn.Module,
    scaler: ChannelScaler,
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
) -> dict[str, Any]:
    """Window-level accuracy of ``model`` on ``trials`` (non-overlapping windows).

    Returns
    -------
    dict
        See :func:`accuracy_report`.
    """
    win = cut_windows(trials, window=spec.window, step=spec.test_step)
    if len(win) == 0:
        raise InvalidRecordingError("No test windows: every test trial is too short.")
    proba = predict_proba(model, scaler.transform(win.X))
    return accuracy_report(win.y, proba.argmax(1), len(spec.class_names))


def person_scaler(
    scaler: ChannelScaler,
    calibration: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
) -> ChannelScaler:
    """The scaler for a person the model has not seen, before adaptation.

    For a source model trained per subject, fitted on the person's
    calibration trials (their windows only; labels unused); otherwise the
    model's own scaler.
    """
    if not scaler.per_subject:
        return scaler
    win = cut_windows(calibration, window=spec.window, step=spec.step)
    if len(win) == 0:
        raise InvalidRecordingError(
            "No calibration windows to estimate the person's channel statistics."
        )
    return scaler.for_person(win.X)


def lda_accuracy(
    train_trials: Sequence[GestureTrial],
    test_trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    *,
    step: int | None = None,
    max_windows: int | None = 40000,
    seed: int = 0,
) -> dict[str, Any]:
    """Hudgins features (MAV, ZC, SSC, WL) + LDA, window-level accuracy.

    The peer to beat (LibEMG's classic pipeline): trained on ``train_trials``'
    windows (raw samples, ``spec.window`` long, ``step`` apart; default
    ``spec.peer_step``), tested on ``test_trials``' non-overlapping windows.

    Returns
    -------
    dict
        See :func:`accuracy_report`.
    """
    from emgcore.baselines import ClassicConfig, fit_predict_classic

    train = cut_windows(train_trials, window=spec.window, step=step or spec.peer_step)
    train = subsample(train, max_windows, seed=seed)
    test = cut_windows(test_trials, window=spec.window, step=spec.test_step)
    n_classes = len(spec.class_names)
    proba = fit_predict_classic(
        train.X,
        train.y,
        test.X,
        spec.sfreq,
        ClassicConfig(classifier="lda", feature_set="hudgins"),
        n_classes=n_classes,
        seed=seed,
    )
    return accuracy_report(test.y, proba.argmax(1), n_classes)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``(fn(*args, **kwargs), wall seconds)``."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0
