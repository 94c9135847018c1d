"""Input checks shared by the metric modules (private to :mod:`emgcore.metrics`).

:func:`_check_inputs` validates labels and probabilities once, with the same
messages everywhere; :func:`_none_or_float` maps undefined values to None.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


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
