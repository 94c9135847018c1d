"""The shipped disease method as a study method: window features -> logistic regression.

What the app runs (:class:`emgcore.models.feature_linear.FeatureLinear`), evaluated
on the same person splits as every other method (studies.protocols). Each
candidate configuration is a window length and a sub-window length; the
features of every window are those of ``emgcore.models.feature_linear`` (the
same function the app calls), computed once per configuration and cached under
``var/study_features/``.

Nested selection: the window configuration, the regularisation C and the
weighting (below) are chosen by person-level balanced accuracy of the
VALIDATION people; the model
kept is the one fitted on the inner-training people. The temperature for
calibration is fitted on the validation people too (report.py applies it).

Weighting: with ``"person"`` weights a person's windows share a weight of 1,
so Mendeley's healthy people with four records and N2001's long records do
not dominate; with ``"record"`` weights each record's windows share 1, as in
the per-record classic peer, which gives N2001's people (up to 8 records
each, 18 of 208 people) more say. The three classes weigh the same either
way. Person weights alone left the pooled model at 0.49 balanced accuracy on
the N2001 people (0.82 on Mendeley's) in a first run of the headline folds,
which is why the choice was added (docs/experiments/2026-12-03-shipped-model.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from studies.feature_methods import _clean
from studies.runner import Part

CACHE = Path(__file__).resolve().parents[1] / "var" / "study_features"
#: (window_s, sub_window_s) candidates, chosen among on validation people.
CONFIGS: tuple[tuple[float, float], ...] = ((0.5, 0.5), (2.0, 0.25), (4.0, 0.5))
C_VALUES = (0.01, 0.1, 1.0)


@dataclass
class WindowTable:
    """Per-window feature rows of every clinical record for one configuration."""

    window_s: float
    sub_window_s: float
    X: NDArray[np.float64]
    records: NDArray[np.str_]

    def rows_of(self, record: str) -> NDArray[np.float64]:
        return self.X[self.records == record]

    def rows_for(self, record: Any) -> NDArray[np.float64]:
        """The rows of a record object (subclasses may use its site)."""
        return self.rows_of(record.record)

    def adapt(self, records: Any) -> None:
        """Called with the records about to be predicted; nothing to do here."""


def window_table(
    window_s: float, sub_window_s: float, rate_hz: float = 4000.0
) -> WindowTable:
    """Cached :class:`WindowTable` (4 kHz unless asked, uV, notch; step = window / 2)."""
    from emgcore.models.feature_linear import window_features
    from studies.cnn_method import clinical_windows_4k

    rate = "" if rate_hz == 4000.0 else f"_{rate_hz / 1000:g}khz"
    path = CACHE / f"window_{window_s:g}s_sub{sub_window_s:g}s{rate}.npz"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        return WindowTable(window_s, sub_window_s, z["X"], z["records"])
    ws = clinical_windows_4k(window_s, rate_hz)
    sub_n = max(16, int(round(sub_window_s * ws.sfreq)))
    # Blocks of 512 windows keep the 10 kHz tables' memory modest.
    blocks = [
        window_features(ws.X[i : i + 512], ws.sfreq, sub_n)
        for i in range(0, len(ws.X), 512)
    ]
    X = np.concatenate(blocks)
    records = np.asarray(ws.recording_ids).astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, X=X, records=records)
    return WindowTable(window_s, sub_window_s, X, records)


def _stack(
    table: WindowTable, part: Part, weighting: str = "person"
) -> tuple[NDArray, NDArray, NDArray, list]:
    """Window rows, labels, per-window weights and per-record row slices.

    ``weighting="person"``: a person's windows share 1; ``"record"``: a
    record's windows share 1 (so people with more records weigh more, as in
    the per-record classic peer). Either way the classes weigh the same.
    """
    rows, ys, ws, slices = [], [], [], []
    people: dict[str, int] = {}
    for r in part.records:
        people[r.subject] = people.get(r.subject, 0) + 1
    per_class: dict[int, set] = {}
    for r in part.records:
        per_class.setdefault(int(r.y), set()).add(r.subject)
    n_people = len(people)
    n_records = len(part.records)
    recs_per_class: dict[int, int] = {}
    for r in part.records:
        recs_per_class[int(r.y)] = recs_per_class.get(int(r.y), 0) + 1
    start = 0
    for r in part.records:
        f = table.rows_for(r)
        n = len(f)
        if weighting == "person":
            # The person's records share 1; each class shares n_people / 3.
            w = 1.0 / max(n, 1) / people[r.subject]
            w *= n_people / (len(per_class) * len(per_class[int(r.y)]))
        else:
            w = (
                1.0
                / max(n, 1)
                * n_records
                / (len(recs_per_class) * recs_per_class[int(r.y)])
            )
        rows.append(f)
        ys.append(np.full(n, int(r.y)))
        ws.append(np.full(n, w))
        slices.append(slice(start, start + n))
        start += n
    return np.concatenate(rows), np.concatenate(ys), np.concatenate(ws), slices


def _pipeline(c: float):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(C=c, max_iter=5000),
    )


def record_proba(model, table: WindowTable, part: Part) -> NDArray[np.float64]:
    """Per record: the mean of its windows' probabilities (as the app does)."""
    out = []
    for r in part.records:
        f = table.rows_for(r)
        if len(f) == 0:
            out.append(np.full(3, 1 / 3))
            continue
        out.append(model.predict_proba(_clean(f)).mean(axis=0))
    return np.stack(out)


@dataclass
class _Fitted:
    model: Any
    table: WindowTable
    info: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, part: Part) -> NDArray[np.float64]:
        self.table.adapt(part.records)
        adapted = getattr(self.table, "adapted", None)
        if adapted:
            # Said in the unit: these sites' statistics came from the unlabelled
            # records predicted (studies.site_norm).
            self.info["sites_adapted_unlabelled"] = list(adapted)
        return record_proba(self.model, self.table, part)


@dataclass
class WindowMethod:
    """What every window-feature method shares: candidates and cached tables."""

    name: str = "window"
    seed: int = 0
    configs: tuple[tuple[float, float], ...] = CONFIGS
    weightings: tuple[str, ...] = ("person", "record")
    tables: dict[tuple[float, float], WindowTable] = field(default_factory=dict)
    rate_hz: float = 4000.0
    #: Standardise features within each site (studies.site_norm).
    site_norm: bool = False
    split_stats: dict = field(default_factory=dict, repr=False)

    def base_table(self, config: tuple[float, float]) -> WindowTable:
        if config not in self.tables:
            self.tables[config] = window_table(*config, self.rate_hz)
        return self.tables[config]

    def table(self, config: tuple[float, float]) -> WindowTable:
        base = self.base_table(config)
        if not self.site_norm:
            return base
        from studies.site_norm import SiteNormTable

        return SiteNormTable(base, self.split_stats[config])

    def select_and_fit(self, train: Part, val: Part) -> _Fitted:
        """Every window configuration x weighting x :meth:`candidates` model,
        fitted on the training people and scored by person-level balanced
        accuracy of the VALIDATION people; the best one is kept as fitted."""
        from studies.feature_methods import _person_ba

        self.prepare(train)
        best, scores = None, {}
        for config in self.configs:
            table = self.table(config)
            for weighting in self.weightings:
                X, y, w, _ = _stack(table, train, weighting)
                for label, model in self.candidates(X, y, w, weighting):
                    pv = record_proba(model, table, val)
                    key = f"window {config[0]:g} s / sub {config[1]:g} s / {label}"
                    scores[key] = round(_person_ba(val, pv), 4)
                    if best is None or scores[key] > best[0]:
                        best = (scores[key], key, model, pv, config, weighting)
        _, key, model, pv, config, weighting = best
        fitted = _Fitted(model, self.table(config))
        fitted.info = {
            "chosen": key,
            "window_s": config[0],
            "sub_window_s": config[1],
            **self.extra_info(model, weighting),
            "val_person_ba": scores,
            "val_proba": pv.tolist(),
        }
        return fitted

    def candidates(self, X, y, w, weighting: str):
        """(label, fitted model) pairs to choose among; subclasses define them."""
        raise NotImplementedError

    def extra_info(self, model, weighting: str) -> dict[str, Any]:
        """What the unit records of the chosen model beyond its window."""
        return {}

    def prepare(self, train: Part) -> None:
        """Per-split state from the TRAINING people only (site statistics)."""
        if self.site_norm:
            from studies.site_norm import site_stats

            self.split_stats = {
                c: site_stats(self.base_table(c), train.records) for c in self.configs
            }


@dataclass
class WindowLinear(WindowMethod):
    """Window configuration and C chosen on validation people (nested)."""

    name: str = "window-linear"
    c_values: tuple[float, ...] = C_VALUES

    def candidates(self, X, y, w, weighting: str):
        """(label, fitted model) for each C, in order."""
        for c in self.c_values:
            model = _pipeline(c)
            model.fit(_clean(X), y, logisticregression__sample_weight=w)
            label = f"C={c:g}"
            if len(self.weightings) > 1:
                label += f" / {weighting} weights"
            yield label, model

    def extra_info(self, model, weighting: str) -> dict[str, Any]:
        return {"C": float(model.steps[-1][1].C), "weighting": weighting}
