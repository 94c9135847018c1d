"""Splits: the paper's random split, leakage-free blocked splits, subject folds."""

from __future__ import annotations

import numpy as np
import pytest

from emgcore.datasets.base import DatasetError, WindowSet
from emgcore.datasets.splits import (
    blocked_split,
    blocked_train_val_test,
    group_kfold,
    leave_one_subject_out,
    overlapping_windows,
    random_window_split,
    split_hash,
)


def make_windowset(
    rng: np.random.Generator,
    *,
    n_recordings: int = 6,
    n_subjects: int = 3,
    drop_frac: float = 0.0,
    orig_sfreq: float = 4000.0,
) -> WindowSet:
    """Windows with known raw intervals: per recording its own length, window, step.

    ``drop_frac`` removes random windows (as excluding rest does in NinaPro), so the
    kept windows are not evenly spaced.
    """
    parts = []
    for r in range(n_recordings):
        win = int(rng.integers(100, 400))
        step = int(rng.choice([win // 2, win, win // 4 or 1]))
        n_times_raw = int(rng.integers(20 * win, 60 * win))
        starts = np.arange(0, n_times_raw - win + 1, step)
        keep = rng.random(starts.size) >= drop_frac
        starts = starts[keep]
        n = starts.size
        parts.append(
            WindowSet(
                X=np.zeros((n, 1, 8), np.float32),
                y=rng.integers(0, 3, n),
                class_names=("a", "b", "c"),
                recording_ids=np.full(n, f"rec{r}"),
                subjects=np.full(n, f"s{r % n_subjects}"),
                start_samples=starts,
                stop_samples=starts + win,
                sfreq=1000.0,
                orig_sfreq=np.full(n, orig_sfreq),
                extra={"trial": np.full(n, r)},
                meta={"dataset": "synthetic"},
            )
        )
    return WindowSet.concat(parts)


def pairwise_overlaps(ws: WindowSet, a: np.ndarray, b: np.ndarray, gap: int = 0) -> int:
    """Brute force: pairs (i in a, j in b) of one recording closer than ``gap``.

    With ``gap=0`` this counts pairs sharing at least one raw sample of the
    half-open intervals [start, stop).
    """
    total = 0
    for rec in np.unique(ws.recording_ids):
        ia = a[ws.recording_ids[a] == rec]
        ib = b[ws.recording_ids[b] == rec]
        sa, ea = ws.start_samples[ia][:, None], ws.stop_samples[ia][:, None]
        sb, eb = ws.start_samples[ib][None, :], ws.stop_samples[ib][None, :]
        total += int(np.count_nonzero((sa < eb + gap) & (sb < ea + gap)))
    return total


# ---------------------------------------------------------------------------------
# WindowSet
# ---------------------------------------------------------------------------------
def test_windowset_subset_concat_and_hash(rng) -> None:
    ws = make_windowset(rng)
    assert len(ws) == ws.X.shape[0] and ws.y.dtype == np.int64
    half = ws.subset(np.arange(len(ws) // 2))
    rest = ws.subset(np.arange(len(ws) // 2, len(ws)))
    back = WindowSet.concat([half, rest])
    assert back.content_hash() == ws.content_hash()
    np.testing.assert_array_equal(back.extra["trial"], ws.extra["trial"])
    mask = ws.y == 1
    assert len(ws.subset(mask)) == int(mask.sum())
    changed = ws.subset(np.arange(len(ws)))
    changed.start_samples[0] += 1
    assert changed.content_hash() != ws.content_hash()
    assert sum(ws.class_counts().values()) == len(ws)


def test_windowset_rejects_inconsistent_arrays() -> None:
    ok = dict(
        X=np.zeros((2, 1, 4)),
        y=[0, 1],
        class_names=("a", "b"),
        recording_ids=["r", "r"],
        subjects=["s", "s"],
        start_samples=[0, 2],
        stop_samples=[4, 6],
        sfreq=100.0,
    )
    WindowSet(**ok)
    with pytest.raises(DatasetError, match="labels range 0..2 but there are only 2"):
        WindowSet(**{**ok, "y": [0, 2]})
    with pytest.raises(DatasetError, match="'subjects' has shape"):
        WindowSet(**{**ok, "subjects": ["s"]})
    with pytest.raises(DatasetError, match="stop_samples <= start_samples"):
        WindowSet(**{**ok, "stop_samples": [4, 2]})
    with pytest.raises(DatasetError, match="extra\\['trial'\\]"):
        WindowSet(**{**ok, "extra": {"trial": [1, 2, 3]}})
    a = WindowSet(**ok)
    b = WindowSet(**{**ok, "class_names": ("b", "a")})
    with pytest.raises(DatasetError, match="class names differ"):
        WindowSet.concat([a, b])


# ---------------------------------------------------------------------------------
# the leak detector itself
# ---------------------------------------------------------------------------------
def test_overlapping_windows_agrees_with_brute_force(rng) -> None:
    ws = make_windowset(rng, drop_frac=0.3)
    for _ in range(20):
        pick = rng.random(len(ws))
        a = np.flatnonzero(pick < 0.4)
        b = np.flatnonzero(pick > 0.7)
        found = overlapping_windows(ws, a, b)
        brute = [i for i in a if pairwise_overlaps(ws, np.array([i]), b) > 0]
        np.testing.assert_array_equal(found, np.array(brute, dtype=np.int64))


def test_adjacent_windows_do_not_overlap_but_shifted_ones_do() -> None:
    ws = WindowSet(
        X=np.zeros((4, 1, 2)),
        y=[0, 0, 0, 0],
        class_names=("a",),
        recording_ids=["r", "r", "r", "q"],
        subjects=["s"] * 4,
        start_samples=[0, 10, 9, 0],
        stop_samples=[10, 20, 19, 10],
        sfreq=1.0,
    )
    assert overlapping_windows(ws, [0], [1]).size == 0  # [0,10) and [10,20)
    np.testing.assert_array_equal(overlapping_windows(ws, [0], [2]), [0])  # shares 9
    assert overlapping_windows(ws, [3], [0]).size == 0  # other recording


# ---------------------------------------------------------------------------------
# (a) the paper's random split
# ---------------------------------------------------------------------------------
def test_random_split_sizes_seed_and_stratification(rng) -> None:
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, test = random_window_split(100, test_frac=0.2, seed=1, stratify=y)
    assert train.size == 80 and test.size == 20
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(100))
    np.testing.assert_array_equal(np.bincount(y[test]), [10, 6, 4])
    again = random_window_split(100, test_frac=0.2, seed=1, stratify=y)
    np.testing.assert_array_equal(again[1], test)
    other = random_window_split(100, test_frac=0.2, seed=2, stratify=y)
    assert not np.array_equal(other[1], test)
    with pytest.raises(DatasetError, match="test_frac must be strictly between"):
        random_window_split(100, test_frac=1.0, seed=1)


def test_random_split_leaks_raw_samples_between_overlapping_windows(rng) -> None:
    ws = make_windowset(rng)
    train, test = random_window_split(len(ws), seed=0, stratify=ws.y)
    # the documented flaw of the paper's protocol, made visible
    assert overlapping_windows(ws, test, train).size > 0


# ---------------------------------------------------------------------------------
# (b) blocked splits
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3])
@pytest.mark.parametrize("drop_frac", [0.0, 0.4])
def test_blocked_split_shares_no_raw_sample(rng, seed, drop_frac) -> None:
    ws = make_windowset(rng, n_recordings=8, drop_frac=drop_frac)
    train, test = blocked_split(ws, test_frac=0.2, seed=seed)
    assert np.intersect1d(train, test).size == 0
    assert pairwise_overlaps(ws, train, test) == 0
    assert overlapping_windows(ws, train, test).size == 0
    # the default gap is one window length: no train window comes closer than that
    for rec in np.unique(ws.recording_ids):
        rec_idx = np.flatnonzero(ws.recording_ids == rec)
        win = int((ws.stop_samples[rec_idx] - ws.start_samples[rec_idx]).max())
        assert pairwise_overlaps(ws, train, test[np.isin(test, rec_idx)], gap=win) == 0
        n_test = np.isin(test, rec_idx).sum()
        assert n_test == max(1, round(0.2 * rec_idx.size))  # 20 % of each recording
        # the test windows of a recording are consecutive in time
        order = rec_idx[np.argsort(ws.start_samples[rec_idx])]
        pos = np.flatnonzero(np.isin(order, test))
        assert np.all(np.diff(pos) == 1)


def test_blocked_split_without_seed_holds_out_the_end(rng) -> None:
    ws = make_windowset(rng)
    train, test = blocked_split(ws, test_frac=0.25)
    for rec in np.unique(ws.recording_ids):
        tr = train[ws.recording_ids[train] == rec]
        te = test[ws.recording_ids[test] == rec]
        assert ws.start_samples[te].min() >= ws.stop_samples[tr].max()
        last = np.flatnonzero(ws.recording_ids == rec)
        assert ws.start_samples[last].max() == ws.start_samples[te].max()


def test_blocked_split_seed_moves_the_block_reproducibly(rng) -> None:
    ws = make_windowset(rng, n_recordings=4)
    a = blocked_split(ws, seed=7)[1]
    np.testing.assert_array_equal(a, blocked_split(ws, seed=7)[1])
    assert not np.array_equal(a, blocked_split(ws, seed=8)[1])


def test_blocked_split_gap_zero_keeps_adjacent_windows() -> None:
    # 20 windows of 100 samples with 50 % overlap, one recording
    starts = np.arange(20) * 50
    ws = WindowSet(
        X=np.zeros((20, 1, 2)),
        y=np.zeros(20, int),
        class_names=("a",),
        recording_ids=np.full(20, "r"),
        subjects=np.full(20, "s"),
        start_samples=starts,
        stop_samples=starts + 100,
        sfreq=10.0,
        orig_sfreq=np.full(20, 100.0),
    )
    train, test = blocked_split(ws, test_frac=0.2, gap_s=0)
    np.testing.assert_array_equal(test, [16, 17, 18, 19])  # starts at sample 800
    np.testing.assert_array_equal(train, np.arange(15))  # window 15 shares 800-849
    train1, _ = blocked_split(ws, test_frac=0.2)  # default gap: 100 samples
    np.testing.assert_array_equal(train1, np.arange(13))  # stop <= 700
    train2, _ = blocked_split(ws, test_frac=0.2, gap_s=3.0)  # 300 samples
    np.testing.assert_array_equal(train2, np.arange(9))  # stop <= 500


def test_blocked_split_gap_in_seconds_needs_the_original_rate(rng) -> None:
    ws = make_windowset(rng)
    ws.orig_sfreq = None
    with pytest.raises(DatasetError, match="original sampling rate"):
        blocked_split(ws, gap_s=0.5)


def test_blocked_split_rejects_recordings_too_short_for_any_test(rng) -> None:
    ws = make_windowset(rng).subset([0])
    with pytest.raises(DatasetError, match="too short"):
        blocked_split(ws)


@pytest.mark.parametrize("seed", [None, 0, 5, 11])
def test_blocked_train_val_test_three_sets_share_no_raw_sample(rng, seed) -> None:
    ws = make_windowset(rng, n_recordings=6, drop_frac=0.2)
    train, val, test = blocked_train_val_test(
        ws, val_frac=0.15, test_frac=0.2, seed=seed
    )
    for a, b in ((train, val), (train, test), (val, test)):
        assert np.intersect1d(a, b).size == 0
        assert pairwise_overlaps(ws, a, b) == 0
    assert min(train.size, val.size, test.size) > 0
    if seed is None:  # chronological: train | val | test
        for rec in np.unique(ws.recording_ids):
            sel = ws.recording_ids == rec
            tr, va, te = (i[sel[i]] for i in (train, val, test))
            assert ws.stop_samples[tr].max() <= ws.start_samples[va].min()
            assert ws.stop_samples[va].max() <= ws.start_samples[te].min()


# ---------------------------------------------------------------------------------
# (c) subject folds
# ---------------------------------------------------------------------------------
def test_leave_one_subject_out_tests_each_subject_once_without_leaks(rng) -> None:
    ws = make_windowset(rng, n_recordings=9, n_subjects=4)
    tested = []
    for subject, train, test in leave_one_subject_out(ws.subjects):
        assert set(ws.subjects[test]) == {subject}
        assert subject not in set(ws.subjects[train])
        assert (
            np.intersect1d(np.unique(ws.subjects[train]), ws.subjects[test]).size == 0
        )
        np.testing.assert_array_equal(np.union1d(train, test), np.arange(len(ws)))
        tested.append(subject)
    assert sorted(tested) == sorted(set(ws.subjects)) and len(tested) == 4
    with pytest.raises(DatasetError, match="at least 2 subjects"):
        list(leave_one_subject_out(["a", "a"]))


def test_group_kfold_puts_every_group_in_exactly_one_test_fold(rng) -> None:
    groups = rng.choice([f"g{i}" for i in range(11)], size=500)
    seen = []
    for train, test in group_kfold(groups, n_splits=4, seed=3):
        assert np.intersect1d(groups[train], groups[test]).size == 0
        assert train.size + test.size == 500
        seen.extend(np.unique(groups[test]))
    assert sorted(seen) == sorted(set(groups))
    with pytest.raises(DatasetError, match="n_splits must be between 2 and"):
        list(group_kfold(groups, n_splits=12))


def test_split_hash_identifies_the_split() -> None:
    a, b = np.array([3, 1, 2]), np.array([0, 4])
    h = split_hash(a, b)
    assert h == split_hash(np.sort(a), b)
    assert h != split_hash(b, a)
    assert h != split_hash(a, b, data_hash="x")
    assert len(h) == 64


@pytest.mark.parametrize("seed", [None, 4])
def test_blocked_splits_on_real_emgdb_share_no_raw_sample(data_dir, seed) -> None:
    from emgcore.datasets.physionet import load_physionet_emgdb

    ws = load_physionet_emgdb(data_dir)
    train, test = blocked_split(ws, test_frac=0.2, seed=seed)
    assert pairwise_overlaps(ws, train, test) == 0
    # default gap of one window (4000 raw samples at 4 kHz) on every boundary
    assert pairwise_overlaps(ws, train, test, gap=4000) == 0
    assert set(ws.recording_ids[test]) == set(ws.recording_ids)  # every record
    three = blocked_train_val_test(ws, val_frac=0.15, test_frac=0.2, seed=seed)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert pairwise_overlaps(ws, three[a], three[b]) == 0
    # the paper's split on the same windows does share raw samples
    r_train, r_test = random_window_split(len(ws), seed=0, stratify=ws.y)
    assert pairwise_overlaps(ws, r_train, r_test) > 0
