"""``python -m studies.calibration_variants --runs DIR --methods A B ...``.

How far calibration fitted on validation people can bring the person-level
ECE down, and what it costs. For each method's headline units and each of
two ways to pool a person's recordings (``mean`` of probabilities, as the
tables do, or ``geo``: mean of log-probabilities) it fits, on each unit's
VALIDATION people only:

- ``temperature``: one temperature on the pooled person log-probabilities
  (what the tables report);
- ``record-temperature``: one temperature on the recordings, before pooling;
- ``vector``: a temperature and two class offsets (a small L2 penalty), i.e.
  vector scaling; offsets can move the arg-max, so balanced accuracy changes.

Prints person-level balanced accuracy, ECE and the ECE floor
(:func:`studies.metrics.ece_floor`), means over seeds. Nothing is trained.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import log_softmax

from emgcore.metrics import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
)
from studies.metrics import ece_floor, metric_set
from studies.runner import load_units

POOLS = ("mean", "geo")
MODES = ("temperature", "record-temperature", "vector")


def _log_proba(rows: list[dict[str, Any]]) -> NDArray[np.float64]:
    return np.log(np.clip([r["proba"] for r in rows], 1e-12, 1.0))


def person_logits(
    rows: list[dict[str, Any]], pool: str, t_record: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per person: pooled log-probabilities (recordings scaled by ``t_record``)."""
    by: dict[str, list] = defaultdict(list)
    label: dict[str, int] = {}
    lp = log_softmax(_log_proba(rows) / t_record, axis=1)
    for r, row in zip(rows, lp, strict=True):
        by[r["subject"]].append(row)
        label[r["subject"]] = int(r["y"])
    ids = sorted(by)
    if pool == "mean":
        z = np.array([np.log(np.mean(np.exp(by[s]), axis=0)) for s in ids])
    else:
        z = np.array([np.mean(by[s], axis=0) for s in ids])
    return z, np.array([label[s] for s in ids], dtype=np.int64)


def _vector_fit(z: NDArray, y: NDArray) -> NDArray[np.float64]:
    def nll(theta):
        out = log_softmax(z * theta[0] + np.r_[0.0, theta[1:]], axis=1)
        return -out[np.arange(len(y)), y].sum() + 0.5 * np.sum(theta[1:] ** 2)

    return minimize(nll, np.r_[1.0, 0.0, 0.0], method="L-BFGS-B").x


def calibrated(unit: dict[str, Any], pool: str, mode: str):
    """Test people's (calibrated probabilities, labels) for one unit."""
    t_record = 1.0
    if mode == "record-temperature":
        y_val = np.array([r["y"] for r in unit["val"]], dtype=np.int64)
        t_record = fit_temperature(_log_proba(unit["val"]), y_val)
    z_val, y_val = person_logits(unit["val"], pool, t_record)
    z, y = person_logits(unit["test"], pool, t_record)
    if mode == "temperature":
        return apply_temperature(z, fit_temperature(z_val, y_val)), y
    if mode == "record-temperature":
        return np.exp(log_softmax(z, axis=1)), y
    theta = _vector_fit(z_val, y_val)
    return np.exp(log_softmax(z * theta[0] + np.r_[0.0, theta[1:]], axis=1)), y


def table(units: list[dict[str, Any]], pool: str, mode: str) -> dict[str, float]:
    """Balanced accuracy, ECE and ECE floor, pooled per seed, mean over seeds."""
    by_seed: dict[int, list] = defaultdict(list)
    for u in units:
        by_seed[int(u["split"]["seed"])].append(calibrated(u, pool, mode))
    out: dict[str, list[float]] = defaultdict(list)
    for parts in by_seed.values():
        p = np.concatenate([a for a, _ in parts])
        y = np.concatenate([b for _, b in parts])
        out["balanced_accuracy"].append(metric_set(y, p)["balanced_accuracy"])
        out["ece"].append(expected_calibration_error(y, p))
        out["ece_floor"].append(ece_floor(p, n_sims=100))
    return {k: float(np.mean(v)) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--methods", nargs="+", required=True)
    args = ap.parse_args(argv)
    print("| method | pooling | calibration | balanced acc. | ECE | ECE floor |")
    print("|---|---|---|---|---|---|")
    for method in args.methods:
        units = load_units(args.runs, "headline", method)
        for pool in POOLS:
            for mode in MODES:
                t = table(units, pool, mode)
                print(
                    f"| {method} | {pool} | {mode} | {t['balanced_accuracy']:.3f} "
                    f"| {t['ece']:.3f} | {t['ece_floor']:.3f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
