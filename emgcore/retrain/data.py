"""Which windows a retraining run trains and validates on.

The person-wise split, the caps that keep a run affordable, and the split the
default disease model was validated on. The app (retraining runs, auditor
reports) and the disease study both use them, so they live in the runtime
library under public names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.config import PreprocessConfig
from emgcore.datasets.base import DISEASE_CLASSES, WindowSet

#: Share of the people (or of a single person's time) held out for validation.
VAL_FRACTION = 0.2


def cap_per_recording(
    ws: WindowSet, idx: NDArray[np.int64], cap: int | None, seed: int
) -> NDArray[np.int64]:
    """At most ``cap`` windows per recording, spread evenly over its length.

    ``seed`` is unused (the pick is deterministic); it is kept so every caller
    states the seed of its run.
    """
    if cap is None:
        return idx
    keep = []
    for rec in np.unique(ws.recording_ids[idx]):
        mine = idx[ws.recording_ids[idx] == rec]
        if len(mine) > cap:
            pick = np.linspace(0, len(mine) - 1, cap).round().astype(int)
            mine = mine[pick]
        keep.append(mine)
    return np.sort(np.concatenate(keep))


def cap_windows(
    ws: WindowSet, idx: NDArray[np.int64], max_windows: int, seed: int
) -> NDArray[np.int64]:
    """At most ``max_windows`` windows, spread evenly over the recordings."""
    if len(idx) <= max_windows:
        return idx
    n_rec = len(np.unique(ws.recording_ids[idx]))
    per_recording = max(1, max_windows // max(n_rec, 1))
    return cap_per_recording(ws, idx, per_recording, seed)


def split_by_subject(
    ws: WindowSet, *, seed: int, val_frac: float = VAL_FRACTION
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Train/validation indices with no person (or raw sample) on both sides.

    A class with two or more people holds out whole people (at least one);
    a class with a single person (emgdb has one per class) holds out one
    gapped time block of each of its recordings (``blocked_split``).
    """
    from emgcore.datasets.splits import blocked_split

    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for c in range(len(ws.class_names)):
        idx = np.flatnonzero(ws.y == c)
        if idx.size == 0:
            continue
        people = np.unique(ws.subjects[idx])
        if len(people) >= 2:
            n_val = max(1, int(round(val_frac * len(people))))
            held = rng.choice(people, size=n_val, replace=False)
            is_val = np.isin(ws.subjects[idx], held)
            train.append(idx[~is_val])
            val.append(idx[is_val])
        else:
            sub = ws.subset(idx)
            tr, va = blocked_split(sub, test_frac=val_frac, seed=seed)
            train.append(idx[tr])
            val.append(idx[va])
    train_idx = np.sort(np.concatenate(train)) if train else np.zeros(0, np.int64)
    val_idx = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
    return train_idx.astype(np.int64), val_idx.astype(np.int64)


def default_model_split(
    data_dir: Any,
    preprocess: PreprocessConfig,
    *,
    max_windows_per_recording: int | None,
    seed: int,
) -> tuple[WindowSet, NDArray[np.int64], NDArray[np.int64]]:
    """emgdb + N2001 windows and the default model's validation split.

    emgdb has one recording per class, so its validation part is a gapped
    time block; N2001 holds out whole recordings (15 % of each class). Returns
    ``(windows, train_idx, val_idx)``.
    """
    from emgcore.datasets import load_dataset
    from emgcore.datasets.splits import blocked_split

    emgdb = load_dataset("physionet_emgdb", data_dir, preprocess=preprocess)
    n2001 = load_dataset("emglab_n2001", data_dir, preprocess=preprocess)
    ws = WindowSet.concat([emgdb, n2001])
    n_emgdb = len(emgdb)
    e_train, e_val = blocked_split(emgdb, test_frac=0.2, seed=seed)
    rng = np.random.default_rng(seed)
    recs = np.unique(n2001.recording_ids)
    val_recs = []
    for c in range(len(DISEASE_CLASSES)):
        mine = [r for r in recs if int(n2001.y[n2001.recording_ids == r][0]) == c]
        val_recs += list(
            rng.choice(mine, size=max(1, round(0.15 * len(mine))), replace=False)
        )
    is_val = np.isin(n2001.recording_ids, val_recs)
    n_idx = np.arange(len(n2001))
    cap = max_windows_per_recording
    n_train = cap_per_recording(n2001, n_idx[~is_val], cap, seed)
    n_val = cap_per_recording(n2001, n_idx[is_val], cap, seed)
    train = np.concatenate([e_train, n_train + n_emgdb])
    val = np.concatenate([e_val, n_val + n_emgdb])
    return ws, train, val
