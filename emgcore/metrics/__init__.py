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

The package is split by topic; every name is re-exported here, so
``from emgcore.metrics import ...`` works as before: :mod:`.classification`,
:mod:`.calibration`, :mod:`.grouping`, :mod:`.intervals` and the private
:mod:`._inputs`.
"""

from __future__ import annotations

from emgcore.metrics.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    reliability_curve,
)
from emgcore.metrics.classification import (
    OVERALL_METRICS,
    PER_CLASS_METRICS,
    classification_report,
    confusion_matrix,
)
from emgcore.metrics.grouping import (
    aggregate_by_group,
    labels_by_group,
)
from emgcore.metrics.intervals import (
    bootstrap_ci,
    report_with_ci,
)

__all__ = [
    "aggregate_by_group",
    "apply_temperature",
    "bootstrap_ci",
    "classification_report",
    "confusion_matrix",
    "expected_calibration_error",
    "fit_temperature",
    "labels_by_group",
    "OVERALL_METRICS",
    "PER_CLASS_METRICS",
    "reliability_curve",
    "report_with_ci",
]
