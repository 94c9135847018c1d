"""Point metrics of a classifier: confusion matrix, per-class and overall.

:func:`classification_report` gives sensitivity, specificity, precision, F1
and one-vs-rest AUC per class, plus accuracy and balanced accuracy; undefined
values are None, never 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore.metrics._inputs import _check_inputs, _none_or_float

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
