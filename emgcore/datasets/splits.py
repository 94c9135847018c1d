"""Train/validation/test splits of a :class:`~emgcore.datasets.base.WindowSet`.

Three protocols, from the most optimistic to the most honest:

(a) :func:`random_window_split` -- the CNN-TCN paper's random 80/20 split of
    windows. Overlapping windows put the same raw samples on both sides: it leaks.
(b) :func:`blocked_split` / :func:`blocked_train_val_test` -- per recording, a
    contiguous time block is held out and a gap is kept around it, so that no raw
    sample is in two sets.
(c) :func:`leave_one_subject_out` / :func:`group_kfold` -- whole subjects are held
    out, so that the model cannot recognise the person instead of the disease.

:func:`overlapping_windows` checks any pair of index sets for shared raw samples.
Every function returns sorted ``int64`` index arrays into the window set.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore.datasets.base import DatasetError, WindowSet

logger = logging.getLogger(__name__)

IndexArray = NDArray[np.int64]


def _check_frac(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise DatasetError(f"{name} must be strictly between 0 and 1, got {value:g}.")
    return value


# ---------------------------------------------------------------------------------
# (a) the paper's random window split
# ---------------------------------------------------------------------------------
def random_window_split(
    n: int,
    *,
    test_frac: float = 0.2,
    seed: int,
    stratify: ArrayLike | None = None,
) -> tuple[IndexArray, IndexArray]:
    """Random split of ``n`` windows, as in the CNN-TCN paper (80/20).

    Warnings
    --------
    This split LEAKS. With 50 % overlapping windows, half of the raw samples of a
    test window are also in its train neighbours, and every test window comes from
    a recording (and a person) that is also in the training set. Accuracy measured
    this way estimates how well the model recognises a recording it has already
    seen, not a new patient. It is kept only to compare with the paper; use
    :func:`blocked_split` or :func:`leave_one_subject_out` for honest numbers.

    Parameters
    ----------
    n : int
        Number of windows.
    test_frac : float
        Fraction of windows in the test set, in (0, 1).
    seed : int
        Seed of the shuffle; the same seed gives the same split.
    stratify : array-like of shape (n,), optional
        Labels to keep in the same proportions in both sets.

    Returns
    -------
    train_idx, test_idx : ndarray of int64
        Sorted, disjoint indices covering ``range(n)``.
    """
    from sklearn.model_selection import train_test_split

    test_frac = _check_frac("test_frac", test_frac)
    n = int(n)
    if n < 2:
        raise DatasetError(f"random_window_split needs at least 2 windows, got {n}.")
    strat = None if stratify is None else np.asarray(stratify)
    if strat is not None and strat.shape != (n,):
        raise DatasetError(f"stratify has shape {strat.shape}, expected ({n},).")
    train, test = train_test_split(
        np.arange(n, dtype=np.int64),
        test_size=test_frac,
        random_state=int(seed),
        shuffle=True,
        stratify=strat,
    )
    return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)


# ---------------------------------------------------------------------------------
# (b) blocked splits
# ---------------------------------------------------------------------------------
def _gap_samples(ws: WindowSet, idx: NDArray[np.int64], gap_s: float | None) -> int:
    """Gap in raw samples for the windows ``idx`` of one recording."""
    if gap_s is None:
        # One window length: no raw sample, and no sample smeared by the
        # whole-signal filters into a neighbour, crosses the boundary.
        return int((ws.stop_samples[idx] - ws.start_samples[idx]).max())
    gap_s = float(gap_s)
    if gap_s < 0:
        raise DatasetError(f"gap_s must be >= 0 seconds, got {gap_s:g}.")
    if gap_s == 0:
        return 0
    if ws.orig_sfreq is None:
        raise DatasetError(
            "gap_s in seconds needs the original sampling rate of each window "
            "(WindowSet.orig_sfreq), which this window set does not carry; pass "
            "gap_s=None for a gap of one window."
        )
    return int(np.ceil(gap_s * float(ws.orig_sfreq[idx].max())))


def _block_positions(
    n: int, sizes: Sequence[int], rng: np.random.Generator | None
) -> list[int]:
    """First window index of each block (blocks in ``sizes`` order, disjoint).

    Without ``rng`` the blocks sit at the end in the given order, the last block
    last (chronological hold-out). With ``rng`` the blocks are put in a random
    order and the remaining windows are dealt uniformly into the slots before,
    between and after them (stars and bars), so every block stays contiguous.
    """
    m = len(sizes)
    if rng is None:
        first = n - sum(sizes)
        return [first + sum(sizes[:b]) for b in range(m)]
    n_rest = n - sum(sizes)
    order = rng.permutation(m)
    bars = np.sort(rng.choice(n_rest + m, size=m, replace=False))
    starts = [0] * m
    used = 0
    for i, b in enumerate(order):
        starts[int(b)] = int(bars[i] - i) + used
        used += sizes[int(b)]
    return starts


def _blocked_assign(
    ws: WindowSet,
    fracs: Sequence[float],
    *,
    gap_s: float | None,
    seed: int | None,
) -> NDArray[np.int64]:
    """Label each window 0 (train), 1..len(fracs) (held-out blocks) or -1 (gap).

    For every recording the windows are sorted by start sample; block ``b`` takes
    ``round(fracs[b] * n)`` (at least 1) consecutive windows. Its raw-sample span
    ``[T0, T1)`` is widened by the gap, and every window of a set with a lower
    label that touches the widened span is dropped (label -1): blocks later in
    ``fracs`` win over earlier ones and every block wins over train.
    """
    labels = np.full(len(ws), -1, dtype=np.int64)
    rng = None if seed is None else np.random.default_rng(int(seed))
    n_blocks = len(fracs)
    for rec in np.unique(ws.recording_ids):
        idx = np.flatnonzero(ws.recording_ids == rec)
        idx = idx[np.argsort(ws.start_samples[idx], kind="stable")]
        n = idx.size
        sizes = [max(1, int(round(f * n))) for f in fracs]
        if n - sum(sizes) < 1:
            logger.warning(
                "Recording %s has only %d window(s): too few for a blocked split "
                "into %d held-out block(s) plus training; all of it goes to "
                "training.",
                rec,
                n,
                n_blocks,
            )
            labels[idx] = 0
            continue
        gap = _gap_samples(ws, idx, gap_s)
        starts_ = ws.start_samples[idx]
        stops_ = ws.stop_samples[idx]
        rec_labels = np.zeros(n, dtype=np.int64)
        positions = _block_positions(n, sizes, rng)
        spans = []
        for b, (k, size) in enumerate(zip(positions, sizes, strict=True), start=1):
            rec_labels[k : k + size] = b
            spans.append(
                (b, int(starts_[k : k + size].min()), int(stops_[k : k + size].max()))
            )
        # Higher labels take priority: drop lower-labelled windows near their span.
        for b, t0, t1 in spans:
            near = (starts_ < t1 + gap) & (stops_ > t0 - gap)
            rec_labels[near & (rec_labels >= 0) & (rec_labels < b)] = -1
        labels[idx] = rec_labels
    return labels


def blocked_split(
    ws: WindowSet,
    *,
    test_frac: float = 0.2,
    gap_s: float | None = None,
    seed: int | None = None,
) -> tuple[IndexArray, IndexArray]:
    """Leakage-free train/test split by contiguous time blocks per recording.

    For each recording, ``test_frac`` of its windows (at least one), taken as one
    contiguous block in time, go to test; the others go to train, except those
    that come within ``gap_s`` of the test block, which are dropped. So no raw
    sample of any recording is in both sets (checked by
    :func:`overlapping_windows`). Recordings too short to give both a train and a
    test window go wholly to train (with a warning).

    What it does not guard against: both sets still come from the same recordings
    and the same people, so the score measures generalisation over time within a
    recording, not to a new patient (use :func:`leave_one_subject_out` for that).
    With ``zscore="recording"`` preprocessing the per-channel mean and standard
    deviation were computed over the whole recording, test block included: two
    numbers per channel, not samples, but a (small) shared statistic.

    Parameters
    ----------
    ws : WindowSet
        Windows with their raw-sample intervals.
    test_frac : float
        Fraction of each recording's windows held out, in (0, 1).
    gap_s : float or None
        Extra margin in seconds (of the original recording) between the test block
        and the nearest train window. ``None`` (default) uses one window length,
        which also covers what the whole-signal filters smear across the
        boundary; ``0`` only drops windows that share raw samples with the block.
    seed : int or None
        ``None`` holds out the LAST block of every recording (chronological
        hold-out); an int places each recording's block at a seeded random
        position.

    Returns
    -------
    train_idx, test_idx : ndarray of int64
        Sorted, disjoint indices into ``ws``; dropped gap windows are in neither.

    Raises
    ------
    DatasetError
        If ``test_frac`` is outside (0, 1) or either set would be empty.
    """
    test_frac = _check_frac("test_frac", test_frac)
    labels = _blocked_assign(ws, [test_frac], gap_s=gap_s, seed=seed)
    train, test = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    if train.size == 0 or test.size == 0:
        raise DatasetError(
            f"blocked_split produced {train.size} train and {test.size} test "
            f"window(s) from {len(ws)}; the recordings are too short for "
            f"test_frac={test_frac:g} with this gap."
        )
    logger.info(
        "blocked_split: %d train, %d test, %d dropped in gaps",
        train.size,
        test.size,
        int(np.count_nonzero(labels < 0)),
    )
    return train.astype(np.int64), test.astype(np.int64)


def blocked_train_val_test(
    ws: WindowSet,
    *,
    val_frac: float = 0.1,
    test_frac: float = 0.2,
    gap_s: float | None = None,
    seed: int | None = None,
) -> tuple[IndexArray, IndexArray, IndexArray]:
    """Three leakage-free sets by contiguous time blocks per recording.

    Like :func:`blocked_split` with a second held-out block for validation (early
    stopping, temperature scaling). Without ``seed`` each recording is laid out
    chronologically as ``train | gap | val | gap | test``; with a seed the two
    blocks are put in a seeded random order at seeded random positions.
    Windows within the gap of a block of another set are dropped, so no raw sample
    is shared by any two of the three sets.

    Parameters
    ----------
    ws : WindowSet
    val_frac, test_frac : float
        Fractions of each recording's windows in validation and test; their sum
        must be below 1.
    gap_s : float or None
        As in :func:`blocked_split` (default: one window length).
    seed : int or None
        As in :func:`blocked_split`.

    Returns
    -------
    train_idx, val_idx, test_idx : ndarray of int64
        Sorted, disjoint indices into ``ws``.
    """
    val_frac = _check_frac("val_frac", val_frac)
    test_frac = _check_frac("test_frac", test_frac)
    if val_frac + test_frac >= 1.0:
        raise DatasetError(
            f"val_frac + test_frac must be below 1, got {val_frac + test_frac:g}."
        )
    labels = _blocked_assign(ws, [val_frac, test_frac], gap_s=gap_s, seed=seed)
    out = tuple(np.flatnonzero(labels == b).astype(np.int64) for b in (0, 1, 2))
    if any(part.size == 0 for part in out):
        raise DatasetError(
            f"blocked_train_val_test produced {out[0].size}/{out[1].size}/"
            f"{out[2].size} train/val/test window(s) from {len(ws)}; the recordings "
            "are too short for these fractions with this gap."
        )
    return out  # type: ignore[return-value]


# ---------------------------------------------------------------------------------
# (c) subject-grouped splits
# ---------------------------------------------------------------------------------
def leave_one_subject_out(
    subjects: ArrayLike,
) -> Iterator[tuple[str, IndexArray, IndexArray]]:
    """Yield one fold per subject, holding that subject's windows out.

    Parameters
    ----------
    subjects : array-like of str, shape (n_windows,)
        Subject of each window (``WindowSet.subjects``).

    Yields
    ------
    subject : str
        The held-out subject (folds in sorted subject order).
    train_idx, test_idx : ndarray of int64
        Sorted indices of every other subject's windows, and of this subject's.

    Raises
    ------
    DatasetError
        If there are fewer than two subjects.
    """
    subj = np.asarray(subjects).astype(str)
    names = np.unique(subj)
    if names.size < 2:
        raise DatasetError(
            f"leave_one_subject_out needs at least 2 subjects, got {names.size}."
        )
    for name in names:
        test = subj == name
        yield (
            str(name),
            np.flatnonzero(~test).astype(np.int64),
            np.flatnonzero(test).astype(np.int64),
        )


def group_kfold(
    groups: ArrayLike, *, n_splits: int = 5, seed: int | None = None
) -> Iterator[tuple[IndexArray, IndexArray]]:
    """K folds in which every group (subject) is in exactly one test fold.

    Groups are shuffled with ``seed`` (in sorted order without one) and dealt to
    the folds greedily, largest first, to balance the number of windows.

    Parameters
    ----------
    groups : array-like, shape (n_windows,)
        Group (subject) of each window.
    n_splits : int
        Number of folds, between 2 and the number of groups.
    seed : int or None
        Seed for breaking ties between equal-sized groups.

    Yields
    ------
    train_idx, test_idx : ndarray of int64
        Sorted indices; no group is on both sides.
    """
    g = np.asarray(groups).astype(str)
    names, inverse, counts = np.unique(g, return_inverse=True, return_counts=True)
    n_splits = int(n_splits)
    if not 2 <= n_splits <= names.size:
        raise DatasetError(
            f"n_splits must be between 2 and the number of groups ({names.size}), "
            f"got {n_splits}."
        )
    order = np.arange(names.size)
    if seed is not None:
        order = np.random.default_rng(int(seed)).permutation(names.size)
    order = order[np.argsort(-counts[order], kind="stable")]
    fold_of_group = np.empty(names.size, dtype=np.int64)
    load = np.zeros(n_splits, dtype=np.int64)
    for gi in order:
        f = int(np.argmin(load))
        fold_of_group[gi] = f
        load[f] += counts[gi]
    fold = fold_of_group[inverse]
    for f in range(n_splits):
        yield (
            np.flatnonzero(fold != f).astype(np.int64),
            np.flatnonzero(fold == f).astype(np.int64),
        )


# ---------------------------------------------------------------------------------
# checks and identity
# ---------------------------------------------------------------------------------
def overlapping_windows(
    ws: WindowSet, idx_a: ArrayLike, idx_b: ArrayLike
) -> IndexArray:
    """Windows of ``idx_a`` that share a raw sample with any window of ``idx_b``.

    Two windows overlap if they come from the same recording and their half-open
    raw-sample intervals ``[start, stop)`` intersect. Vectorised: the intervals of
    ``idx_b`` are merged per recording and each interval of ``idx_a`` is looked up
    with a binary search.

    Parameters
    ----------
    ws : WindowSet
    idx_a, idx_b : array-like of int
        Two index sets into ``ws`` (e.g. train and test).

    Returns
    -------
    ndarray of int64
        The offending members of ``idx_a`` (empty when the sets do not leak).
    """
    a = np.asarray(idx_a, dtype=np.int64).reshape(-1)
    b = np.asarray(idx_b, dtype=np.int64).reshape(-1)
    bad: list[NDArray[np.int64]] = []
    rec_a, rec_b = ws.recording_ids[a], ws.recording_ids[b]
    for rec in np.intersect1d(rec_a, rec_b):
        ia = a[rec_a == rec]
        ib = b[rec_b == rec]
        order = np.argsort(ws.start_samples[ib], kind="stable")
        bs, be = ws.start_samples[ib][order], ws.stop_samples[ib][order]
        # merge the sorted intervals of b: a new run starts where start > max stop
        run_end = np.maximum.accumulate(be)
        new_run = np.concatenate([[True], bs[1:] >= run_end[:-1]])
        m_start = bs[new_run]
        m_stop = np.maximum.reduceat(be, np.flatnonzero(new_run))
        s, e = ws.start_samples[ia], ws.stop_samples[ia]
        k = np.searchsorted(m_start, e, side="left") - 1
        hit = (k >= 0) & (m_stop[np.clip(k, 0, None)] > s)
        bad.append(ia[hit])
    if not bad:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.concatenate(bad))


def split_hash(*index_arrays: ArrayLike, data_hash: str | None = None) -> str:
    """sha256 (hex) identifying a split: the index sets in order, and the data.

    Parameters
    ----------
    *index_arrays : array-like of int
        E.g. ``train_idx, test_idx`` or ``train_idx, val_idx, test_idx``. Each is
        sorted before hashing, so the order within a set does not matter, but the
        order of the sets does.
    data_hash : str, optional
        :meth:`WindowSet.content_hash` of the windows the indices point into.
    """
    if not index_arrays:
        raise DatasetError("split_hash needs at least one index array.")
    h = hashlib.sha256()
    if data_hash is not None:
        h.update(str(data_hash).encode())
    for arr in index_arrays:
        h.update(b"\x1e")
        h.update(np.sort(np.asarray(arr, dtype="<i8").reshape(-1)).tobytes())
    return h.hexdigest()
