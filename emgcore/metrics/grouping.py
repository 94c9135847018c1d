"""Aggregation of window-level predictions to recordings (or people).

A recording's probabilities combine its windows' (arithmetic or geometric
mean); its label must be the same in every window. Separate because it
changes the unit of analysis, not the metric.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore.metrics.calibration import _log_softmax


def aggregate_by_group(
    proba: ArrayLike, groups: ArrayLike, *, method: str = "mean"
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Combine window probabilities into one row per group (recording).

    Parameters
    ----------
    proba : array-like of float, shape (n_windows, n_classes)
        Window probabilities.
    groups : array-like, shape (n_windows,)
        Group id of each window (recording or subject id).
    method : {"mean", "log_mean"}
        ``"mean"`` averages probabilities; ``"log_mean"`` averages log
        probabilities and renormalises (a geometric mean, which lets
        confident windows count more).

    Returns
    -------
    group_ids : ndarray, shape (n_groups,)
        Sorted unique group ids.
    proba : ndarray, shape (n_groups, n_classes)
        Aggregated probabilities (rows sum to 1).
    """
    if method not in ("mean", "log_mean"):
        raise ValueError(
            "Invalid value for the 'method' parameter. Allowed values are 'mean', "
            f"'log_mean', but got {method!r} instead."
        )
    p = np.asarray(proba, dtype=np.float64)
    g = np.asarray(groups)
    if p.ndim != 2 or g.ndim != 1 or g.shape[0] != p.shape[0]:
        raise ValueError(
            f"'proba' (n_windows, n_classes) and 'groups' (n_windows,) do not fit: "
            f"got {p.shape} and {g.shape}."
        )
    ids, inv = np.unique(g, return_inverse=True)
    counts = np.bincount(inv, minlength=ids.size).astype(np.float64)
    vals = np.log(np.clip(p, 1e-12, 1.0)) if method == "log_mean" else p
    sums = np.zeros((ids.size, p.shape[1]))
    np.add.at(sums, inv, vals)
    mean = sums / counts[:, None]
    if method == "log_mean":
        mean = np.exp(_log_softmax(mean))
    else:
        mean = mean / mean.sum(axis=1, keepdims=True)
    return ids, mean


def labels_by_group(y: ArrayLike, groups: ArrayLike) -> tuple[NDArray[Any], NDArray]:
    """One label per group, checking that every window of a group agrees.

    Parameters
    ----------
    y : array-like, shape (n_windows,)
    groups : array-like, shape (n_windows,)

    Returns
    -------
    group_ids : ndarray, shape (n_groups,)
        Sorted unique group ids (same order as :func:`aggregate_by_group`).
    labels : ndarray, shape (n_groups,)
    """
    y = np.asarray(y)
    g = np.asarray(groups)
    if y.shape != g.shape or y.ndim != 1:
        raise ValueError(f"'y' {y.shape} and 'groups' {g.shape} must be equal 1-D.")
    ids, first, inv = np.unique(g, return_index=True, return_inverse=True)
    labels = y[first]
    bad = np.flatnonzero(labels[inv] != y)
    if bad.size:
        raise ValueError(
            f"Group {g[bad[0]]!r} has windows with different labels; a group must "
            "have a single label."
        )
    return ids, labels
