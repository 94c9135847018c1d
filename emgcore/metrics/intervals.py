"""Bootstrap percentile confidence intervals for the metrics.

:func:`bootstrap_ci` resamples samples, or whole groups (recordings, people)
when given, and :func:`report_with_ci` adds intervals to the metrics named in
``PER_CLASS_METRICS`` and ``OVERALL_METRICS`` (defined beside the metrics
in :mod:`.classification`; Efron & Tibshirani 1993).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore.metrics._inputs import _check_inputs
from emgcore.metrics.classification import (
    OVERALL_METRICS,
    PER_CLASS_METRICS,
    _dense_ranks,
    _report_arrays,
    classification_report,
)


def _resample_indices(
    rng: np.random.Generator,
    n: int,
    group_index: list[NDArray[np.int64]] | None,
) -> NDArray[np.int64]:
    if group_index is None:
        return rng.integers(0, n, size=n)
    pick = rng.integers(0, len(group_index), size=len(group_index))
    return np.concatenate([group_index[i] for i in pick])


def _group_index(groups: ArrayLike | None, n: int) -> list[NDArray[np.int64]] | None:
    if groups is None:
        return None
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"'groups' must have one id per sample ({n}), got {g.shape}.")
    _, inv = np.unique(g, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.cumsum(np.bincount(inv))[:-1]
    return np.split(order, bounds)


def _percentile_ci(values: list[float], alpha: float) -> list[float] | None:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)])
    if v.size < 2:
        return None
    lo, hi = np.percentile(v, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return [float(lo), float(hi)]


def _check_boot_args(n_boot: int, alpha: float) -> None:
    if int(n_boot) < 2:
        raise ValueError(f"'n_boot' must be >= 2, got {n_boot}.")
    if not 0 < alpha < 1:
        raise ValueError(f"'alpha' must lie strictly between 0 and 1, got {alpha}.")


def bootstrap_ci(
    y_true: ArrayLike,
    proba: ArrayLike,
    metric_fn: Callable[[NDArray[np.int64], NDArray[np.float64]], float | None],
    *,
    n_boot: int = 1000,
    seed: int,
    groups: ArrayLike | None = None,
    alpha: float = 0.05,
) -> list[float] | None:
    """Percentile bootstrap confidence interval of one metric.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
    proba : array-like of float, shape (n_samples, n_classes)
    metric_fn : callable
        ``metric_fn(y_true, proba) -> float or None``; resamples where it
        returns None or NaN (e.g. a class is missing) are left out.
    n_boot : int
        Number of resamples.
    seed : int
        Seed of the resampling generator.
    groups : array-like, shape (n_samples,), optional
        Group id per sample (recording or subject). When given, whole groups
        are resampled with replacement, because windows of one recording are
        not independent: resampling windows would give intervals that are
        far too narrow.
    alpha : float
        1 - confidence level (0.05 for 95 % intervals).

    Returns
    -------
    [low, high] or None
        The ``alpha/2`` and ``1 - alpha/2`` percentiles, or None when fewer
        than two resamples gave a value.
    """
    y, p = _check_inputs(y_true, proba)
    _check_boot_args(n_boot, alpha)
    gidx = _group_index(groups, y.size)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(int(n_boot)):
        i = _resample_indices(rng, y.size, gidx)
        v = metric_fn(y[i], p[i])
        values.append(None if v is None else float(v))
    return _percentile_ci(values, alpha)


def report_with_ci(
    y_true: ArrayLike,
    proba: ArrayLike,
    class_names: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    groups: ArrayLike | None = None,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """:func:`classification_report` with bootstrap percentile intervals.

    Adds ``"<metric>_ci": [low, high]`` (or None) beside each per-class
    precision, sensitivity, specificity, f1 and auc, and ``accuracy_ci``
    and ``balanced_accuracy_ci`` at the top level, plus a ``ci`` entry that
    says how the intervals were made. Arguments as :func:`bootstrap_ci`.
    A per-class interval uses only the resamples where the metric is defined
    (for sensitivity: where the class was drawn at all), and is None when
    fewer than two were.

    Returns
    -------
    dict
        JSON-serialisable report.
    """
    names = [str(c) for c in class_names]
    report = classification_report(y_true, proba, names)
    y, p = _check_inputs(y_true, proba, len(names))
    _check_boot_args(n_boot, alpha)
    gidx = _group_index(groups, y.size)
    rng = np.random.default_rng(seed)
    k = len(names)
    dense = _dense_ranks(p)
    per: dict[str, list[NDArray[np.float64]]] = {m: [] for m in PER_CLASS_METRICS}
    overall: dict[str, list[float]] = {m: [] for m in OVERALL_METRICS}
    for _ in range(int(n_boot)):
        i = _resample_indices(rng, y.size, gidx)
        r = _report_arrays(y[i], p[i], k, dense[i])
        for m in PER_CLASS_METRICS:
            per[m].append(r[m])
        for m in OVERALL_METRICS:
            overall[m].append(r[m])
    for m in PER_CLASS_METRICS:
        stacked = np.vstack(per[m])  # (n_boot, n_classes), NaN where undefined
        for c, name in enumerate(names):
            report["per_class"][name][f"{m}_ci"] = _percentile_ci(
                stacked[:, c].tolist(), alpha
            )
    for m in OVERALL_METRICS:
        report[f"{m}_ci"] = _percentile_ci(overall[m], alpha)
    report["ci"] = {
        "method": "percentile bootstrap",
        "n_boot": int(n_boot),
        "alpha": float(alpha),
        "seed": int(seed),
        "resampled_unit": "group" if gidx is not None else "sample",
        "n_units": len(gidx) if gidx is not None else int(y.size),
    }
    return report
