"""Classification metrics, calibration and bootstrap confidence intervals.

Everything returned is JSON-serialisable (plain floats, ints, lists, None), so
it can go straight into a checkpoint's metadata or a database JSON field.

Conventions: ``y_true`` holds integer class indices ``0 .. n_classes - 1``;
``proba`` has shape ``(n_samples, n_classes)`` with rows summing to 1; the
predicted class is the arg-max of a row. A metric that is undefined for the
data (sensitivity of a class with no samples, AUC when a class is absent) is
``None``, never 0 and never NaN.

References
----------
Guo C, Pleiss G, Sun Y, Weinberger KQ (2017). On calibration of modern neural
networks. ICML (ECE, reliability diagrams, temperature scaling).
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall
(percentile intervals).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

logger = logging.getLogger(__name__)

#: Per-class metrics for which :func:`report_with_ci` adds intervals.
PER_CLASS_METRICS: tuple[str, ...] = (
    "precision",
    "sensitivity",
    "specificity",
    "f1",
    "auc",
)
#: Overall metrics for which :func:`report_with_ci` adds intervals.
OVERALL_METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy")


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def _check_inputs(
    y_true: ArrayLike, proba: ArrayLike, n_classes: int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"'proba' must be shaped (n_samples, n_classes) with n_classes >= 2, "
            f"got shape {p.shape}."
        )
    if y.ndim != 1 or y.shape[0] != p.shape[0]:
        raise ValueError(
            f"'y_true' must be 1-D with one label per row of 'proba' "
            f"({p.shape[0]}), got shape {y.shape}."
        )
    if y.size == 0:
        raise ValueError("No samples: 'y_true' and 'proba' are empty.")
    if not np.isfinite(p).all():
        raise ValueError("'proba' holds NaN or infinite values.")
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise ValueError(
                f"'y_true' must hold integer class indices, got dtype {y.dtype}."
            )
    y = y.astype(np.int64)
    k = p.shape[1] if n_classes is None else n_classes
    if p.shape[1] != k:
        raise ValueError(f"'proba' has {p.shape[1]} columns but {k} class names.")
    if y.min() < 0 or y.max() >= k:
        raise ValueError(
            f"'y_true' holds labels from {y.min()} to {y.max()}; they must lie in "
            f"0..{k - 1} for {k} classes."
        )
    return y, p


def _none_or_float(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if not np.isfinite(x) else x


# --------------------------------------------------------------------------
# Point metrics
# --------------------------------------------------------------------------


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int
) -> NDArray[np.int64]:
    """Confusion matrix counts, rows = true class, columns = predicted class.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
    """
    yt = np.asarray(y_true, dtype=np.int64)
    yp = np.asarray(y_pred, dtype=np.int64)
    idx = yt * n_classes + yp
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def _dense_ranks(scores: NDArray[np.float64]) -> NDArray[np.int64]:
    """Dense rank of each score per column (equal scores share a rank)."""
    out = np.empty(scores.shape, dtype=np.int64)
    for k in range(scores.shape[1]):
        out[:, k] = np.unique(scores[:, k], return_inverse=True)[1]
    return out


def _binary_auc(positive: NDArray[np.bool_], dense: NDArray[np.int64]) -> float | None:
    """ROC AUC by the Mann-Whitney U statistic (ties count one half).

    ``dense`` are dense ranks of the scores (any order-preserving integer
    code); average ranks are rebuilt from their counts in O(n), so the same
    codes serve every bootstrap resample. Equal to
    :func:`sklearn.metrics.roc_auc_score` (a test checks it).
    """
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    counts = np.bincount(dense)
    below = np.cumsum(counts) - counts
    avg_rank = below + (counts + 1) / 2.0
    u = avg_rank[dense[positive]].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _report_arrays(
    y: NDArray[np.int64],
    p: NDArray[np.float64],
    n_classes: int,
    dense: NDArray[np.int64] | None = None,
) -> dict[str, Any]:
    """The numbers behind :func:`classification_report`, as numpy values.

    ``dense`` (n_samples, n_classes) are precomputed :func:`_dense_ranks`.
    """
    if dense is None:
        dense = _dense_ranks(p)
    pred = np.argmax(p, axis=1)
    cm = confusion_matrix(y, pred, n_classes)
    n = cm.sum()
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    fp = predicted - tp
    fn = support - tp
    tn = n - tp - fp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        # Precision of a class never predicted is 0 (scikit-learn's
        # zero_division=0); a class with no samples has no sensitivity.
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
        sensitivity = np.where(support > 0, tp / support, np.nan)
        specificity = np.where(tn + fp > 0, tn / (tn + fp), np.nan)
        denom = precision + sensitivity
        f1 = np.where(denom > 0, 2 * precision * sensitivity / denom, 0.0)
        f1 = np.where(support > 0, f1, np.nan)
    aucs = [_binary_auc(y == k, dense[:, k]) for k in range(n_classes)]
    auc = np.array([np.nan if a is None else a for a in aucs], dtype=np.float64)
    present = support > 0
    return {
        "cm": cm,
        "support": support,
        "precision": precision,
        "sensitivity": sensitivity,
        "specificity": specificity,
        "f1": f1,
        "auc": auc,
        "accuracy": float(tp.sum() / n),
        # Mean sensitivity over the classes present (scikit-learn's definition).
        "balanced_accuracy": float(np.mean(sensitivity[present])),
    }


def _avg(values: NDArray[np.float64], weights: NDArray[np.float64] | None) -> Any:
    ok = np.isfinite(values)
    if weights is not None:
        ok &= weights > 0
    if not ok.any():
        return None
    if weights is None:
        return float(np.mean(values[ok]))
    return float(np.average(values[ok], weights=weights[ok]))


def classification_report(
    y_true: ArrayLike, proba: ArrayLike, class_names: Sequence[str]
) -> dict[str, Any]:
    """Per-class and overall metrics of a probabilistic classifier.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        True class indices.
    proba : array-like of float, shape (n_samples, n_classes)
        Predicted class probabilities; the prediction is the arg-max.
    class_names : sequence of str, length n_classes
        Names in column order.

    Returns
    -------
    dict
        ``per_class``: {name: {precision, sensitivity (= recall), specificity,
        f1, auc (one-vs-rest, None when the class or its complement is
        absent), support}}; ``accuracy``; ``balanced_accuracy`` (mean
        sensitivity over classes present); ``macro_avg`` and ``weighted_avg``
        (by support) of precision, sensitivity, specificity, f1, auc;
        ``confusion_matrix`` (list of lists, rows = true, columns =
        predicted); ``class_names``; ``n_samples``.
    """
    names = [str(c) for c in class_names]
    y, p = _check_inputs(y_true, proba, len(names))
    r = _report_arrays(y, p, len(names))
    per_class = {}
    for k, name in enumerate(names):
        per_class[name] = {m: _none_or_float(r[m][k]) for m in PER_CLASS_METRICS} | {
            "support": int(r["support"][k])
        }
    macro = {m: _avg(r[m], None) for m in PER_CLASS_METRICS}
    weighted = {m: _avg(r[m], r["support"]) for m in PER_CLASS_METRICS}
    return {
        "class_names": names,
        "n_samples": int(y.size),
        "per_class": per_class,
        "accuracy": r["accuracy"],
        "balanced_accuracy": r["balanced_accuracy"],
        "macro_avg": macro,
        "weighted_avg": weighted,
        "confusion_matrix": r["cm"].astype(int).tolist(),
    }


# --------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------


def reliability_curve(
    y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10
) -> dict[str, Any]:
    """Confidence vs accuracy in equal-width confidence bins.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
    proba : array-like of float, shape (n_samples, n_classes)
    n_bins : int
        Number of equal-width bins over [0, 1].

    Returns
    -------
    dict
        ``bin_edges`` (n_bins + 1 floats); per bin ``confidence`` (mean top
        probability), ``accuracy`` (share of correct arg-max predictions) —
        None for empty bins — and ``counts``; and ``n_samples``.
    """
    y, p = _check_inputs(y_true, proba)
    n_bins = int(n_bins)
    if n_bins < 1:
        raise ValueError(f"'n_bins' must be >= 1, got {n_bins}.")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bins are (lo, hi]; a confidence of exactly 0 goes in the first bin.
    b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(b, minlength=n_bins)
    sum_conf = np.bincount(b, weights=conf, minlength=n_bins)
    sum_acc = np.bincount(b, weights=correct, minlength=n_bins)
    confidence = [
        float(s / c) if c else None for s, c in zip(sum_conf, counts, strict=True)
    ]
    accuracy = [
        float(s / c) if c else None for s, c in zip(sum_acc, counts, strict=True)
    ]
    return {
        "bin_edges": [float(e) for e in edges],
        "confidence": confidence,
        "accuracy": accuracy,
        "counts": [int(c) for c in counts],
        "n_samples": int(y.size),
    }


def expected_calibration_error(
    y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10
) -> float:
    """Expected calibration error (Guo et al. 2017).

    ``ECE = sum_b (n_b / n) * |accuracy_b - confidence_b|`` over equal-width
    bins of the top-class probability.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
    proba : array-like of float, shape (n_samples, n_classes)
    n_bins : int

    Returns
    -------
    float
        In [0, 1]; 0 is perfectly calibrated.
    """
    curve = reliability_curve(y_true, proba, n_bins)
    n = curve["n_samples"]
    ece = 0.0
    rows = zip(curve["confidence"], curve["accuracy"], curve["counts"], strict=True)
    for conf, acc, cnt in rows:
        if cnt:
            ece += cnt / n * abs(acc - conf)
    return float(ece)


def _log_softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.special import log_softmax

    return log_softmax(z, axis=1)


def fit_temperature(
    val_logits: ArrayLike,
    val_y: ArrayLike,
    *,
    bounds: tuple[float, float] = (0.05, 20.0),
) -> float:
    """Fit a temperature by minimising the NLL of validation data.

    Use validation data only: fitting on test data would make its
    calibration look better than it is.

    Parameters
    ----------
    val_logits : array-like of float, shape (n_samples, n_classes)
        Un-normalised scores (logits) from the model.
    val_y : array-like of int, shape (n_samples,)
        True class indices.
    bounds : (float, float)
        Range searched for T.

    Returns
    -------
    float
        Temperature ``T > 0``; probabilities are ``softmax(logits / T)``.
        T > 1 softens over-confident predictions.
    """
    from scipy.optimize import minimize_scalar

    y, z = _check_inputs(val_y, val_logits)
    lo, hi = float(bounds[0]), float(bounds[1])
    if not 0 < lo < hi:
        raise ValueError(f"'bounds' must satisfy 0 < low < high, got {bounds}.")

    def nll(log_t: float) -> float:
        lp = _log_softmax(z / np.exp(log_t))
        return float(-lp[np.arange(y.size), y].mean())

    res = minimize_scalar(
        nll, bounds=(np.log(lo), np.log(hi)), method="bounded", options={"xatol": 1e-5}
    )
    t = float(np.exp(res.x))
    logger.debug("temperature %.4f (NLL %.4f -> %.4f)", t, nll(0.0), res.fun)
    return t


def apply_temperature(logits: ArrayLike, temperature: float) -> NDArray[np.float64]:
    """Calibrated probabilities ``softmax(logits / temperature)``.

    Parameters
    ----------
    logits : array-like of float, shape (n_samples, n_classes)
    temperature : float
        From :func:`fit_temperature`; must be > 0.

    Returns
    -------
    ndarray, shape (n_samples, n_classes)
        Probabilities; the arg-max (and so accuracy) is unchanged.
    """
    z = np.asarray(logits, dtype=np.float64)
    t = float(temperature)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"'temperature' must be a finite number > 0, got {t!r}.")
    if z.ndim != 2:
        raise ValueError(f"'logits' must be (n_samples, n_classes), got {z.shape}.")
    return np.exp(_log_softmax(z / t))


# --------------------------------------------------------------------------
# Recording-level aggregation
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Bootstrap confidence intervals
# --------------------------------------------------------------------------


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
