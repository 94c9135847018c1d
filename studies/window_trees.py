"""Window features -> gradient-boosted trees: the shipped method's features, non-linear.

The same per-window features as :mod:`studies.window_linear` (those of
``emgcore.models.feature_linear``), the same weighting of windows, the same
nested selection (window configuration and tree settings chosen by
person-level balanced accuracy of the VALIDATION people; the model kept is the
one fitted on the inner-training people), but scikit-learn's
HistGradientBoostingClassifier instead of a logistic regression. It asks
whether the linear layer is what holds the window features back, and gives the
ensemble (:mod:`studies.ensemble`) a member that errs differently.

Trees run with one OpenMP thread per process (``OMP_NUM_THREADS=1``): on two
shared cores the default thread pool spent most of its time waiting (a unit
took minutes instead of seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from studies.feature_methods import _clean
from studies.window_linear import WindowMethod

#: Tree settings chosen among on validation people (learning rate 0.05,
#: at least 40 windows a leaf, L2 1.0, no early stopping: early stopping would
#: hold out random windows, not people).
GRID: tuple[dict[str, int], ...] = (
    {"max_iter": 150, "max_leaf_nodes": 7},
    {"max_iter": 150, "max_leaf_nodes": 31},
    {"max_iter": 400, "max_leaf_nodes": 7},
)


def _trees(params: dict[str, int], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
        **params,
    )


@dataclass
class WindowTrees(WindowMethod):
    """Window configuration and tree settings chosen on validation people."""

    name: str = "window-trees"
    weightings: tuple[str, ...] = ("record",)

    def candidates(self, X, y, w, weighting: str):
        """(label, fitted model) for each tree setting of :data:`GRID`."""
        # Mean weight 1 keeps min_samples_leaf's meaning in windows.
        w = w * len(w) / w.sum()
        for params in GRID:
            model = _trees(params, self.seed)
            model.fit(_clean(X), y, sample_weight=w)
            yield (
                (
                    f"{params['max_iter']} trees of {params['max_leaf_nodes']} "
                    f"leaves / {weighting} weights"
                ),
                model,
            )
