"""Calibration: reliability curve, expected calibration error, temperature.

Guo et al. (2017): how far predicted probabilities are from observed
frequencies, and the one-parameter temperature fitted on validation logits
that reduces it without changing any prediction.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore.metrics._inputs import _check_inputs

logger = logging.getLogger(__name__)


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
