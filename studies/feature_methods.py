"""Per-record feature tables and the scikit-learn methods that read them.

Two tables, each one row per clinical record, computed once and cached as
``.npz`` under ``var/study_features/`` (delete to recompute):

- **classic** (:func:`classic_table`): the peer a practitioner would build.
  The 4 kHz windows of :func:`studies.cnn_method.clinical_windows_4k` (physical
  uV, 20-1800 Hz band-pass, 50 Hz notch with harmonics, no z-score), per window
  MAV, RMS, WL, ZC, SSC (10 uV thresholds, above the needle's noise floor), MNF,
  MDF, turns (100 uV, Willison) and the 50th / 95th / 99th percentiles of
  ``|x|``; per record the 10th, 50th and 90th percentile of each over its
  windows. Amplitude-like columns are log10'd, since MUAP amplitude spans
  decades between a myopathic and a reinnervated unit.
- **qemg** (:func:`qemg_table`): the per-recording summary of
  :func:`emgcore.qemg.analyse` (MUAP medians, percentiles, fraction
  polyphasic, interference pattern), the values the result page shows.

:class:`SklearnMethod` chooses, on the VALIDATION people only, the classifier
(LDA with shrinkage, logistic regression, random forest) and its regulariser
by person-level balanced accuracy, then keeps the model fitted on the
inner-training people (the same data the CNN-TCN is trained on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from studies.runner import Part

logger = logging.getLogger(__name__)

CACHE = Path(__file__).resolve().parents[1] / "var" / "study_features"
#: Thresholds in uV: ZC / SSC above the needle's noise floor, turns at 100 uV.
ZC_UV, SSC_UV, TURNS_UV = 10.0, 10.0, 100.0
_LOG_COLUMNS = ("MAV", "RMS", "WL", "TURNS", "ABS_P50", "ABS_P95", "ABS_P99")
_QUANTILES = (10, 50, 90)


def _window_features(x: NDArray, sfreq: float) -> tuple[NDArray, list[str]]:
    from emgcore.features import extract_features

    f, names = extract_features(
        x,
        sfreq,
        ("MAV", "RMS", "WL", "ZC", "SSC", "MNF", "MDF", "TURNS"),
        zc_threshold=ZC_UV,
        ssc_threshold=SSC_UV,
        turns_threshold=TURNS_UV,
    )
    a = np.abs(x[:, 0, :])
    pct = np.percentile(a, [50, 95, 99], axis=1).T
    names = [n.split("_")[0] for n in names] + ["ABS_P50", "ABS_P95", "ABS_P99"]
    return np.concatenate([f, pct], axis=1), names


def classic_rows(windows: Any) -> dict[str, NDArray[np.float64]]:
    """{record: feature row} from a 4 kHz uV WindowSet (see module docstring)."""
    out = {}
    ids = windows.recording_ids
    for rec in np.unique(ids):
        f, names = _window_features(windows.X[ids == rec], windows.sfreq)
        for j, n in enumerate(names):
            if n in _LOG_COLUMNS:
                f[:, j] = np.log10(np.maximum(f[:, j], 1e-3))
        out[str(rec)] = np.percentile(f, _QUANTILES, axis=0).T.ravel()
    return out


def classic_names() -> tuple[str, ...]:
    base = ["MAV", "RMS", "WL", "ZC", "SSC", "MNF", "MDF", "TURNS"]
    base += ["ABS_P50", "ABS_P95", "ABS_P99"]
    return tuple(f"{n}_p{q}" for n in base for q in _QUANTILES)


def _cached(name: str, compute) -> tuple[dict[str, NDArray], tuple[str, ...]]:
    path = CACHE / f"{name}.npz"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        return dict(zip(z["records"].tolist(), z["X"], strict=True)), tuple(z["names"])
    rows, names = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    recs = sorted(rows)
    np.savez(
        path,
        records=np.array(recs),
        X=np.stack([rows[r] for r in recs]),
        names=np.array(names),
    )
    return rows, tuple(names)


def classic_table() -> tuple[dict[str, NDArray], tuple[str, ...]]:
    """Cached {record: row}, names of the classic peer's features."""

    def compute():
        from studies.cnn_method import clinical_windows_4k

        return classic_rows(clinical_windows_4k()), classic_names()

    return _cached("classic", compute)


def qemg_table(records: Any = None) -> tuple[dict[str, NDArray], tuple[str, ...]]:
    """Cached {record: row}, names of the QEMG summary of every clinical record."""

    def compute():
        from emgcore.datasets.clinical import clinical_records
        from emgcore.qemg import analyse

        rows, names = {}, None
        for rec in records if records is not None else clinical_records():
            x, fs = rec.load()
            summary = analyse(x, fs).summary
            names = names or sorted(summary)
            rows[rec.record] = np.array([summary[k] for k in names], dtype=np.float64)
        return rows, tuple(names)

    return _cached("qemg", compute)


def muscle_table(records) -> tuple[dict[str, NDArray], tuple[str, ...]]:
    """{record: [1 if deltoid]}: the muscle, which the upload form asks for.

    Normal MUAP size differs by muscle; both sites have biceps, only Mendeley
    deltoid, in the same class mix, so it is not a proxy for the class.
    """
    rows = {r.record: np.array([float(r.muscle == "deltoid")]) for r in records}
    return rows, ("deltoid",)


@dataclass
class TableSource:
    """A :class:`studies.runner.FeatureSource` over one or more cached tables.

    Column names are prefixed with the table's name (``"classic:MAV_p50"``) so a
    method can pick the columns of some tables only.
    """

    tables: list[tuple[dict[str, NDArray], tuple[str, ...]]]
    table_names: tuple[str, ...] = ()

    def rows(self, records) -> tuple[NDArray[np.float64], tuple[str, ...]]:
        names: tuple[str, ...] = ()
        for i, (_, n) in enumerate(self.tables):
            prefix = self.table_names[i] + ":" if self.table_names else ""
            names += tuple(prefix + c for c in n)
        X = np.array(
            [np.concatenate([t[r.record] for t, _ in self.tables]) for r in records],
            dtype=np.float64,
        )
        return X, names


def _candidates(seed: int) -> list[tuple[str, Any]]:
    """(label, unfitted pipeline): impute, scale, classify."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def pipe(clf):
        return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), clf)

    out = [
        (
            "lda",
            pipe(
                LinearDiscriminantAnalysis(
                    solver="lsqr", shrinkage="auto", priors=np.full(3, 1 / 3)
                )
            ),
        ),
    ]
    for c in (0.01, 0.1, 1.0):
        out.append(
            (
                f"logreg C={c:g}",
                pipe(LogisticRegression(C=c, class_weight="balanced", max_iter=5000)),
            )
        )
    from sklearn.ensemble import HistGradientBoostingClassifier

    out.append(
        (
            "hgb",
            pipe(
                HistGradientBoostingClassifier(
                    max_depth=3,
                    learning_rate=0.05,
                    max_iter=200,
                    class_weight="balanced",
                    random_state=seed,
                )
            ),
        )
    )
    for leaf in (1, 3):
        out.append(
            (
                f"rf leaf={leaf}",
                pipe(
                    RandomForestClassifier(
                        n_estimators=300,
                        min_samples_leaf=leaf,
                        class_weight="balanced_subsample",
                        random_state=seed,
                        n_jobs=1,
                    )
                ),
            )
        )
    return out


def _person_ba(part: Part, proba: NDArray[np.float64]) -> float:
    from studies.metrics import metric_set

    subjects = part.subjects
    ids = sorted(set(subjects))
    p = np.array([proba[subjects == s].mean(axis=0) for s in ids])
    y = np.array([part.y[subjects == s][0] for s in ids])
    return float(metric_set(y, p)["balanced_accuracy"])


def _clean(X: NDArray[np.float64]) -> NDArray[np.float64]:
    X = np.array(X, dtype=np.float64)
    X[~np.isfinite(X)] = np.nan
    return X


@dataclass
class _Fitted:
    model: Any
    columns: NDArray[np.bool_]
    info: dict[str, Any] = field(default_factory=dict)
    #: Per-site (mean, spread) of the rows when the method standardises by site.
    site_stats: dict | None = None

    def predict_proba(self, part: Part) -> NDArray[np.float64]:
        X = part.X
        if self.site_stats is not None:
            from studies.site_norm import standardise_rows

            X, adapted = standardise_rows(X, part.sites, self.site_stats)
            if adapted:
                self.info["sites_adapted_unlabelled"] = adapted
        return self.model.predict_proba(_clean(X[:, self.columns]))


def _columns(names: tuple[str, ...], tables: tuple[str, ...]) -> NDArray[np.bool_]:
    return np.array([n.split(":", 1)[0] in tables for n in names])


@dataclass
class SklearnMethod:
    """Feature set, classifier and regulariser chosen on validation people.

    ``feature_sets`` ({label: table names}) lets the choice range over column
    groups of a :class:`TableSource` with table names; None uses every column.
    The chosen model is the one fitted on the inner-training people.
    """

    name: str
    seed: int = 0
    #: Candidate families (label prefixes); hgb only where asked for, as it was
    #: added after the first units were run.
    only: tuple[str, ...] | None = ("lda", "logreg", "rf")
    feature_sets: dict[str, tuple[str, ...]] | None = None
    #: Standardise each feature within its site (studies.site_norm).
    site_norm: bool = False

    def select_and_fit(self, train: Part, val: Part) -> _Fitted:
        stats = None
        if self.site_norm:
            from studies.site_norm import row_stats, standardise_rows

            stats = row_stats(train.X, train.sites)
            train = Part(
                train.records,
                standardise_rows(train.X, train.sites, stats)[0],
                train.feature_names,
            )
            val = Part(
                val.records,
                standardise_rows(val.X, val.sites, stats)[0],
                val.feature_names,
            )
        best = None
        scores = {}
        sets = self.feature_sets or {"all": ()}
        for set_label, tables in sets.items():
            cols = (
                _columns(train.feature_names, tables)
                if tables
                else np.ones(train.X.shape[1], dtype=bool)
            )
            for label, model in _candidates(self.seed):
                if self.only and not label.startswith(self.only):
                    continue
                key = label if self.feature_sets is None else f"{set_label} / {label}"
                model.fit(_clean(train.X[:, cols]), train.y)
                pv = model.predict_proba(_clean(val.X[:, cols]))
                scores[key] = round(_person_ba(val, pv), 4)
                if best is None or scores[key] > best[0]:
                    best = (scores[key], key, model, pv, cols)
        _, label, model, pv, cols = best
        fitted = _Fitted(model, cols, site_stats=stats)
        fitted.info = {
            "chosen": label,
            "val_person_ba": scores,
            "n_features": int(cols.sum()),
            "val_proba": pv.tolist(),
        }
        return fitted
