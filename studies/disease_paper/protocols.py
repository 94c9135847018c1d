"""The evaluation protocols: their data, their splits and the resumable runner.

:func:`load_protocol_data` (emgdb or EMGLAB N2001 at the disease rate),
:func:`protocol_splits` (train / validation / test of each fold),
:func:`classic_score` (the feature-based baselines on a split) and
:func:`run_protocol`, which writes one JSON file per (seed, fold, method) and
skips runs whose file exists.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.datasets.base import WindowSet
from emgcore.disease import (
    CLASSIC,
    METHODS,
    PROTOCOLS,
    Budget,
    cap_per_recording,
    disease_preprocess,
    train_and_score,
)

logger = logging.getLogger(__name__)


def load_protocol_data(protocol: str, *, data_dir: Any = None, rate_hz: float = 1000.0):
    from emgcore.datasets import load_dataset

    config = disease_preprocess(rate_hz)
    if protocol in ("paper", "blocked"):
        return load_dataset("physionet_emgdb", data_dir, preprocess=config)
    if protocol == "n2001_loso":
        return load_dataset("emglab_n2001", data_dir, preprocess=config)
    raise ValueError(f"Unknown protocol {protocol!r}; choose from {PROTOCOLS}.")


def protocol_splits(
    protocol: str, ws: WindowSet, seed: int, budget: Budget
) -> list[tuple[str, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]:
    """``(fold name, train, val, test)`` index triples of one protocol and seed."""
    from emgcore.datasets.splits import (
        blocked_train_val_test,
        leave_one_subject_out,
        random_window_split,
    )

    if protocol == "paper":
        train, test = random_window_split(
            len(ws), test_frac=0.2, seed=seed, stratify=ws.y
        )
        # The paper stops early on the same 20 % it reports.
        return [("all", train, test, test)]
    if protocol == "blocked":
        train, val, test = blocked_train_val_test(
            ws, val_frac=0.15, test_frac=0.2, seed=seed
        )
        return [("all", train, val, test)]
    folds = []
    rng = np.random.default_rng(seed)
    for subject, train_all, test in leave_one_subject_out(ws.subjects):
        # Validation: ~20 % of the training recordings of each class, whole
        # recordings, so early stopping never sees a window of a training one.
        recs = np.unique(ws.recording_ids[train_all])
        rec_class = {r: int(ws.y[ws.recording_ids == r][0]) for r in recs}
        val_recs = []
        for c in np.unique(list(rec_class.values())):
            mine = [r for r in recs if rec_class[r] == c]
            n_val = max(1, round(0.2 * len(mine)))
            val_recs += list(rng.choice(mine, size=n_val, replace=False))
        is_val = np.isin(ws.recording_ids[train_all], val_recs)
        train = cap_per_recording(
            ws, train_all[~is_val], budget.max_windows_per_recording, seed
        )
        val = cap_per_recording(
            ws, train_all[is_val], budget.max_windows_per_recording, seed
        )
        folds.append((str(subject), train, val, test))
    return folds


def classic_score(
    ws: WindowSet,
    train_idx: NDArray[np.int64],
    test_idx: NDArray[np.int64],
    *,
    classifier: str,
    seed: int,
) -> dict[str, Any]:
    """The practitioner's pipeline on the same split (first channel only)."""
    from emgcore.baselines import ClassicConfig, fit_predict_classic

    proba = fit_predict_classic(
        ws.X[train_idx][:, :1],
        ws.y[train_idx],
        ws.X[test_idx][:, :1],
        ws.sfreq,
        ClassicConfig(classifier=classifier),
        n_classes=len(ws.class_names),
        seed=seed,
    )
    return {
        "method": classifier,
        "seed": seed,
        "n_train": int(len(train_idx)),
        "n_test": int(len(test_idx)),
        "test_idx": test_idx.tolist(),
        "test_proba": np.asarray(proba).round(6).tolist(),
    }


@dataclass(frozen=True)
class ProtocolRun:
    """What one :func:`run_protocol` call runs: seeds, methods and training.

    ``pretrained`` maps each transfer method (``"tl"``, ``"tl-mix"``, ...) to
    its pretrained checkpoint; ``data_dir`` and ``rate_hz`` choose the data
    when no window set is passed (``rate_hz`` is recorded with every run).
    """

    seeds: Sequence[int]
    budget: Budget
    methods: Sequence[str] = METHODS + CLASSIC
    pretrained: Mapping[str, str] = field(default_factory=dict)
    data_dir: Any = None
    rate_hz: float = 1000.0


def run_protocol(
    protocol: str,
    out_dir: str | os.PathLike[str],
    run: ProtocolRun,
    *,
    ws: WindowSet | None = None,
    on_run: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run every (seed, fold, method) of a protocol; one JSON file per run.

    ``ws``: the protocol's windows (default: loaded as ``run`` says); files
    that exist are kept (resume); ``on_run`` is told each run done. Returns
    the paths of all run files.
    """
    budget, pretrained, rate_hz = run.budget, run.pretrained, run.rate_hz
    out_dir = Path(out_dir) / protocol
    ws = (
        ws
        if ws is not None
        else load_protocol_data(protocol, data_dir=run.data_dir, rate_hz=rate_hz)
    )
    paths = []
    for seed in run.seeds:
        for fold, train, val, test in protocol_splits(protocol, ws, seed, budget):
            for method in run.methods:
                path = out_dir / method / f"seed{seed}_{fold}.json"
                paths.append(path)
                if path.exists():
                    continue
                if method in CLASSIC:
                    record = classic_score(
                        ws,
                        np.concatenate([train, val]),
                        test,
                        classifier=method,
                        seed=seed,
                    )
                else:
                    record = train_and_score(
                        ws,
                        (train, val, test),
                        method=method,
                        seed=seed,
                        budget=budget,
                        pretrained=pretrained.get(method),
                    )
                record.update(
                    protocol=protocol,
                    fold=fold,
                    budget=budget.to_dict(),
                    pretrained=pretrained.get(method),
                    rate_hz=rate_hz,
                    data_hash=ws.content_hash(),
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(record))
                os.replace(tmp, path)
                msg = f"{protocol} {method} seed={seed} fold={fold}"
                logger.info("done %s", msg)
                if on_run:
                    on_run(msg)
    return paths
