"""Recording- and person-level metrics of saved units, with people-bootstrap CIs.

- **Person level**: a person's probabilities are the mean of their recordings'
  probabilities (within one seed), so a healthy Mendeley person with four
  records counts once, like a patient with one.
- **Calibration**: a temperature is fitted per unit on that unit's VALIDATION
  people (their stored predictions) and applied to its test predictions, at the
  person level on ``log(mean proba)`` and at the recording level on
  ``log(proba)``. Test people never influence it. Arg-max, and so balanced
  accuracy, sensitivity and specificity, are unchanged by it; ECE is reported
  before and after.
- **Seeds**: every figure is the mean over the seeds of the protocol. Its 95 %
  interval resamples PEOPLE with replacement (1000 times): each resample takes
  the same people in every seed, computes the figure per seed and averages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from emgcore.datasets.base import DISEASE_CLASSES
from emgcore.metrics import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
)

K = len(DISEASE_CLASSES)
#: Scalar metrics of :func:`metric_set`, in table order.
SCALARS: tuple[str, ...] = ("balanced_accuracy", "macro_f1", "ece", "accuracy")


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(arr)
    return float(arr[ok].mean()) if ok.any() else float("nan")


def _auc(pos: NDArray[np.bool_], score: NDArray[np.float64]) -> float:
    n1 = int(pos.sum())
    n0 = pos.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def metric_set(y: NDArray[np.int64], p: NDArray[np.float64]) -> dict[str, Any]:
    """BA, per-class sensitivity / specificity / one-vs-rest AUC, macro-F1, ECE.

    NaN where a metric is undefined (a class absent from ``y``).
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    pred = p.argmax(axis=1)
    cm = np.zeros((K, K))
    np.add.at(cm, (y, pred), 1)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        sens = np.where(support > 0, tp / support, np.nan)
        neg = y.size - support
        tn = y.size - support - predicted + tp
        spec = np.where(neg > 0, tn / neg, np.nan)
        prec = np.where(predicted > 0, tp / predicted, 0.0)
        f1 = np.where(
            prec + np.nan_to_num(sens) > 0, 2 * prec * sens / (prec + sens), 0
        )
    f1 = np.where(support > 0, f1, np.nan)
    return {
        "balanced_accuracy": float(np.nanmean(sens)),
        "accuracy": float(tp.sum() / max(y.size, 1)),
        "macro_f1": float(np.nanmean(f1)),
        "ece": float(expected_calibration_error(y, p)),
        "sensitivity": sens.tolist(),
        "specificity": spec.tolist(),
        "auc": [_auc(y == k, p[:, k]) for k in range(K)],
        "n": int(y.size),
    }


def _temperature(rows: list[dict[str, Any]], person: bool) -> float:
    if not rows:
        return 1.0
    ids, y, p = _arrays(rows, person)
    if len(np.unique(y)) < 2:
        return 1.0
    return fit_temperature(np.log(np.clip(p, 1e-12, 1.0)), y)


def _arrays(
    rows: list[dict[str, Any]], person: bool
) -> tuple[NDArray[np.str_], NDArray[np.int64], NDArray[np.float64]]:
    if not person:
        return (
            np.array([r["subject"] for r in rows]),
            np.array([r["y"] for r in rows], dtype=np.int64),
            np.array([r["proba"] for r in rows], dtype=np.float64),
        )
    by: dict[str, list[Any]] = defaultdict(list)
    label: dict[str, int] = {}
    for r in rows:
        by[r["subject"]].append(r["proba"])
        label[r["subject"]] = int(r["y"])
    ids = np.array(sorted(by))
    p = np.array([np.mean(by[s], axis=0) for s in ids])
    return ids, np.array([label[s] for s in ids], dtype=np.int64), p


def _calibrate(p: NDArray[np.float64], t: float) -> NDArray[np.float64]:
    return apply_temperature(np.log(np.clip(p, 1e-12, 1.0)), t)


def seed_table(units: Sequence[dict[str, Any]], level: str) -> dict[str, Any]:
    """One seed's pooled test predictions: ids, y, raw and calibrated proba."""
    person = level == "person"
    ids, ys, raw, cal, temps = [], [], [], [], []
    for u in units:
        i, y, p = _arrays(u["test"], person)
        t = _temperature(u.get("val", []), person)
        ids.append(i)
        ys.append(y)
        raw.append(p)
        cal.append(_calibrate(p, t))
        temps.append(t)
    return {
        "ids": np.concatenate(ids),
        "y": np.concatenate(ys),
        "raw": np.concatenate(raw),
        "cal": np.concatenate(cal),
        "temperatures": temps,
    }


def _flat(ms: dict[str, Any], ece_cal: float) -> dict[str, float]:
    out = {k: ms[k] for k in ("balanced_accuracy", "macro_f1", "accuracy")}
    out["ece_raw"] = ms["ece"]
    out["ece_calibrated"] = ece_cal
    for k, name in enumerate(DISEASE_CLASSES):
        out[f"sens_{name}"] = ms["sensitivity"][k]
        out[f"spec_{name}"] = ms["specificity"][k]
        out[f"auc_{name}"] = ms["auc"][k]
    return out


def _figures(tab: dict[str, Any], idx: NDArray[np.int64] | None) -> dict[str, float]:
    y, raw, cal = tab["y"], tab["raw"], tab["cal"]
    if idx is not None:
        y, raw, cal = y[idx], raw[idx], cal[idx]
    return _flat(metric_set(y, raw), float(expected_calibration_error(y, cal)))


def ece_floor(p: NDArray[np.float64], *, n_sims: int = 200, seed: int = 0) -> float:
    """The ECE a perfectly calibrated model would show on this many rows.

    Labels are drawn from ``p`` itself (so ``p`` is exactly calibrated for
    them) and the ECE of ``p`` against each draw is averaged. With about 200
    people the binning noise alone is a few points of ECE, which is the scale
    against which a measured ECE (and a goal such as 0.05) has to be read.
    """
    p = np.asarray(p, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    cum = np.cumsum(p, axis=1)
    sims = []
    for _ in range(int(n_sims)):
        u = rng.random((p.shape[0], 1))
        y = np.minimum((u > cum).sum(axis=1), p.shape[1] - 1)
        sims.append(expected_calibration_error(y, p))
    return float(np.mean(sims))


def summarise(
    units: Sequence[dict[str, Any]],
    *,
    level: str = "person",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Seed-averaged figures of some units with people-bootstrap 95 % intervals.

    Parameters
    ----------
    units : sequence of unit dicts (see :mod:`studies.runner`)
        Test predictions pooled per seed (e.g. the 5 folds of each seed).
    level : {"person", "record"}
    n_boot : int
    seed : int
        Seed of the resampling.

    Returns
    -------
    dict
        ``point`` and ``ci`` ({figure: value / [low, high]}), ``n_people``,
        ``n_rows``, ``seeds``.
    """
    by_seed: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for u in units:
        by_seed[int(u["split"]["seed"])].append(u)
    tabs = [seed_table(us, level) for _, us in sorted(by_seed.items())]
    points = [_figures(t, None) for t in tabs]
    point = {k: _nanmean([p[k] for p in points]) for k in points[0]}
    everyone = np.unique(np.concatenate([t["ids"] for t in tabs]))
    # Row indices of each person in each seed's table.
    where = []
    for t in tabs:
        order = np.argsort(t["ids"], kind="stable")
        sorted_ids = t["ids"][order]
        lo = np.searchsorted(sorted_ids, everyone, "left")
        hi = np.searchsorted(sorted_ids, everyone, "right")
        where.append([order[a:b] for a, b in zip(lo, hi, strict=True)])
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = defaultdict(list)
    for _ in range(int(n_boot)):
        pick = rng.integers(0, everyone.size, everyone.size)
        per_seed = []
        for t, w in zip(tabs, where, strict=True):
            idx = np.concatenate([w[i] for i in pick])
            per_seed.append(_figures(t, idx))
        for k in point:
            draws[k].append(_nanmean([f[k] for f in per_seed]))
    ci = {}
    for k, v in draws.items():
        arr = np.asarray(v)
        arr = arr[np.isfinite(arr)]
        ci[k] = np.percentile(arr, [2.5, 97.5]).tolist() if arr.size > 1 else None
    return {
        "level": level,
        "point": point,
        "ci": ci,
        "n_people": int(everyone.size),
        "n_rows": int(np.mean([t["y"].size for t in tabs])),
        "seeds": sorted(by_seed),
        "n_boot": int(n_boot),
        "temperatures": [x for t in tabs for x in t["temperatures"]],
        # Mean over seeds; see ece_floor (not bootstrapped: it is a reference).
        "ece_floor": float(np.mean([ece_floor(t["cal"]) for t in tabs])),
    }


def unit_balanced_accuracy(unit: dict[str, Any], level: str = "person") -> float:
    """Balanced accuracy of one unit's test people (one fold of one seed)."""
    _, y, p = _arrays(unit["test"], level == "person")
    return metric_set(y, p)["balanced_accuracy"]


def paired_test(
    units_a: Sequence[dict[str, Any]],
    units_b: Sequence[dict[str, Any]],
    *,
    level: str = "person",
) -> dict[str, Any]:
    """Wilcoxon signed-rank test of per-fold balanced accuracy, A vs B.

    Units are paired by (seed, split); both methods must have run the same
    splits (the same people in every test fold). Over 3 seeds x 5 folds the
    15 pairs are not independent (folds of one seed share training people), so
    the p-value is a guide, not an exact error rate.
    """
    from scipy.stats import wilcoxon

    def key(u: dict[str, Any]) -> tuple[int, str]:
        return int(u["split"]["seed"]), str(u["split"]["name"])

    a = {key(u): u for u in units_a}
    b = {key(u): u for u in units_b}
    common = sorted(set(a) & set(b))
    if not common:
        raise ValueError("paired_test: the two methods share no split.")
    for k in common:
        if a[k]["split"]["test"] != b[k]["split"]["test"]:
            raise ValueError(f"paired_test: split {k} has different test people.")
    ba_a = np.array([unit_balanced_accuracy(a[k], level) for k in common])
    ba_b = np.array([unit_balanced_accuracy(b[k], level) for k in common])
    diff = ba_a - ba_b
    if np.allclose(diff, 0):
        p = 1.0
        stat = 0.0
    else:
        res = wilcoxon(ba_a, ba_b)
        p, stat = float(res.pvalue), float(res.statistic)
    return {
        "n_pairs": len(common),
        "mean_a": float(ba_a.mean()),
        "mean_b": float(ba_b.mean()),
        "mean_difference": float(diff.mean()),
        "median_difference": float(np.median(diff)),
        "wins_a": int((diff > 0).sum()),
        "wins_b": int((diff < 0).sum()),
        "statistic": stat,
        "p_value": p,
        "pairs": [f"seed{s}_{n}" for s, n in common],
    }
