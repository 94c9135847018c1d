"""Reading the run files and summarising them into one JSON-ready dict.

The paper's reported table, loading and pooling the runs of each protocol
and method, the seeds that completed every fold, per-seed metrics,
:func:`summarise`, :func:`choose_default` and :func:`best_transfer_method`.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets.base import DISEASE_CLASSES

logger = logging.getLogger(__name__)

# The CNN-TCN paper's Table (section 5.2): its TL model on its random split.
PAPER_TABLE = {
    "accuracy": 0.913,
    "per_class": {
        "healthy": {
            "precision": 0.714,
            "sensitivity": 0.833,
            "specificity": 0.937,
            "f1": 0.769,
            "auc": 0.964,
        },
        "myopathy": {
            "precision": 0.902,
            "sensitivity": 0.852,
            "specificity": 0.948,
            "f1": 0.876,
            "auc": 0.989,
        },
        "neuropathy": {
            "precision": 1.000,
            "sensitivity": 0.986,
            "specificity": 1.000,
            "f1": 0.993,
            "auc": 1.000,
        },
    },
    "scratch_accuracy_range": [0.60, 0.80],
}
SUMMARY_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "ece", "ece_raw")
CLASSIC_METHODS = ("lda", "logreg", "rf")


def _is_deep(method: str) -> bool:
    """A CNN-TCN method (transfer or scratch), as opposed to the classic peers."""
    return method not in CLASSIC_METHODS


def _load_runs(runs_dir: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The run files by (protocol, method), complete seeds only."""
    runs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(runs_dir.glob("*/*/seed*.json")):
        record = json.loads(path.read_text())
        runs[(record["protocol"], record["method"])].append(record)
    return _complete_seeds(runs)


def _complete_seeds(
    runs: dict[tuple[str, str], list[dict[str, Any]]],
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Keep only the seeds that have every fold of their protocol.

    A seed still being run (some leave-one-subject-out folds missing) would
    pool the test sets of part of the subjects and look like a result; it is
    left out, with a warning, until its last fold is written. The folds of a
    protocol are all the folds any run file of it names.
    """
    folds: dict[str, set[str]] = defaultdict(set)
    for (protocol, _), records in runs.items():
        folds[protocol].update(str(r["fold"]) for r in records)
    kept: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (protocol, method), records in runs.items():
        by_seed: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            by_seed[int(r["seed"])].append(r)
        complete = []
        for seed, recs in sorted(by_seed.items()):
            missing = folds[protocol] - {str(r["fold"]) for r in recs}
            if missing:
                logger.warning(
                    "%s %s seed %d left out: folds %s not run yet",
                    protocol,
                    method,
                    seed,
                    sorted(missing),
                )
            else:
                complete += recs
        if complete:
            kept[(protocol, method)] = complete
    return kept


def _pool_seed(records: list[dict[str, Any]], y: np.ndarray, rec_ids: np.ndarray):
    """Concatenate the folds of one seed: test labels, probabilities, recordings."""
    idx = np.concatenate([np.asarray(r["test_idx"], dtype=int) for r in records])
    proba = np.concatenate([np.asarray(r["test_proba"], dtype=float) for r in records])
    raw = [r.get("test_proba_raw") for r in records]
    proba_raw = (
        np.concatenate([np.asarray(p, dtype=float) for p in raw])
        if all(p is not None for p in raw)
        else None
    )
    return y[idx], proba, proba_raw, rec_ids[idx]


def _seed_metrics(
    y_true, proba, proba_raw, groups, *, recording_level: bool, seed: int
):
    from emgcore.metrics import (
        aggregate_by_group,
        expected_calibration_error,
        labels_by_group,
        report_with_ci,
    )

    names = list(DISEASE_CLASSES)
    if recording_level:
        gid, p = aggregate_by_group(proba, groups)
        _, yg = labels_by_group(y_true, groups)
        report = report_with_ci(yg, p, names, n_boot=1000, seed=seed)
        ece = expected_calibration_error(yg, p)
        ece_raw = (
            expected_calibration_error(yg, aggregate_by_group(proba_raw, groups)[1])
            if proba_raw is not None
            else None
        )
        per_item = {
            str(g): {"true": names[int(t)], "proba": [round(float(v), 4) for v in row]}
            for g, t, row in zip(gid, yg, p, strict=True)
        }
    else:
        # Windows of one recording are not independent: resample recordings
        # where there are several, else windows (and say so).
        report = report_with_ci(
            y_true,
            proba,
            names,
            n_boot=1000,
            seed=seed,
            groups=groups if len(np.unique(groups)) > len(names) else None,
        )
        ece = expected_calibration_error(y_true, proba)
        ece_raw = (
            expected_calibration_error(y_true, proba_raw)
            if proba_raw is not None
            else None
        )
        per_item = None
    macro_f1 = float(np.mean([report["per_class"][c]["f1"] for c in names]))
    return (
        report,
        {
            "accuracy": report["accuracy"],
            "balanced_accuracy": report["balanced_accuracy"],
            "macro_f1": macro_f1,
            "ece": ece,
            "ece_raw": ece_raw,
        },
        per_item,
    )


def summarise(
    runs_dir: str | Path, *, data_by_protocol: dict[str, Any]
) -> dict[str, Any]:
    """Build the summary from the run files.

    ``data_by_protocol`` maps protocol -> WindowSet (labels and recording ids of
    the windows the run files index into).
    """
    runs_dir = Path(runs_dir)
    runs = _load_runs(runs_dir)
    summary: dict[str, Any] = {"protocols": {}, "paper": PAPER_TABLE}
    for (protocol, method), records in sorted(runs.items()):
        ws = data_by_protocol[protocol]
        by_seed: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            by_seed[int(r["seed"])].append(r)
        levels = ["window"] + (["recording"] if protocol == "n2001_loso" else [])
        entry: dict[str, Any] = {"n_seeds": len(by_seed), "seeds": sorted(by_seed)}
        for level in levels:
            per_seed = {}
            reports = {}
            items = {}
            for seed, recs in sorted(by_seed.items()):
                y, p, praw, groups = _pool_seed(recs, ws.y, ws.recording_ids)
                rep, mets, per_item = _seed_metrics(
                    y,
                    p,
                    praw,
                    groups,
                    recording_level=(level == "recording"),
                    seed=seed,
                )
                per_seed[seed] = mets
                reports[seed] = rep
                if per_item is not None:
                    items[seed] = per_item
            agg = {}
            for m in SUMMARY_METRICS:
                vals = [v[m] for v in per_seed.values() if v[m] is not None]
                agg[m] = {
                    "mean": float(np.mean(vals)) if vals else None,
                    "sd": float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0,
                    "values": [round(float(v), 4) for v in vals],
                }
            first = min(reports)
            entry[level] = {
                "summary": agg,
                "report_seed": first,
                "report": reports[first],
                "per_seed": {str(k): v for k, v in per_seed.items()},
            }
            if items:
                entry[level]["items"] = {str(k): v for k, v in items.items()}
        entry["budget"] = records[0].get("budget")
        entry["pretrained"] = records[0].get("pretrained")
        entry["train_seconds_mean"] = (
            float(
                np.mean([r["train_seconds"] for r in records if "train_seconds" in r])
            )
            if any("train_seconds" in r for r in records)
            else None
        )
        summary["protocols"].setdefault(protocol, {})[method] = entry
    return summary


def choose_default(summary: dict[str, Any]) -> tuple[str, float]:
    """The deep method with the best N2001 recording-level balanced accuracy."""
    loso = summary["protocols"].get("n2001_loso", {})
    best, score = None, -1.0
    for method, entry in loso.items():
        if not _is_deep(method):
            continue
        value = entry["recording"]["summary"]["balanced_accuracy"]["mean"]
        if value is not None and value > score:
            best, score = method, value
    if best is None:
        raise ValueError(
            "No deep-model N2001 leave-one-subject-out runs to choose from."
        )
    return best, score


def best_transfer_method(runs_dir: str | Path, ws: Any, *, seed: int = 0) -> str:
    """The pretraining source whose TL runs score best on N2001 LOSO (one seed).

    Recording-level balanced accuracy of the ``tl-<source>`` runs of ``seed``.
    """
    from emgcore.metrics import aggregate_by_group, labels_by_group

    runs = _load_runs(Path(runs_dir))
    scores = {}
    for (protocol, method), records in runs.items():
        if protocol != "n2001_loso" or not method.startswith("tl-"):
            continue
        recs = [r for r in records if int(r["seed"]) == seed]
        if not recs:
            continue
        y, p, _, groups = _pool_seed(recs, ws.y, ws.recording_ids)
        _, pg = aggregate_by_group(p, groups)
        _, yg = labels_by_group(y, groups)
        pred = pg.argmax(axis=1)
        recalls = [np.mean(pred[yg == c] == c) for c in np.unique(yg)]
        scores[method] = float(np.mean(recalls))
    if not scores:
        raise ValueError(f"No tl-<source> N2001 runs for seed {seed} in {runs_dir}.")
    logger.info("pretraining sources by N2001 balanced accuracy: %s", scores)
    return max(scores, key=scores.get)
