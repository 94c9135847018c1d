"""Dataset adapters on the real recordings, the data directory and the cache."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from emgcore.config import PreprocessConfig
from emgcore.datasets import (
    DATASETS,
    DISEASE_CLASSES,
    DatasetError,
    data_dir,
    dataset_dir,
    list_subjects,
    load_dataset,
)
from emgcore.datasets.gestures import (
    load_myo_readings,
    load_uci_emg_gestures,
    load_uci_semg,
)
from emgcore.datasets.n2001 import load_emglab_n2001
from emgcore.datasets.ninapro import load_ninapro, majority_labels
from emgcore.datasets.physionet import load_physionet_emgdb
from emgcore.datasets.splits import (
    blocked_split,
    leave_one_subject_out,
    overlapping_windows,
)
from emgcore.errors import DataNotFoundError

# (samples at 4 kHz) from physionet-emgdb/PROVENANCE.md
EMGDB_SAMPLES = {"emg_healthy": 50860, "emg_myopathy": 110337, "emg_neuropathy": 147858}
# recordings per subject from emglab-n2001/PROVENANCE.md
N2001_RECORDINGS = {"A01": 20, "A03": 2, "C01": 12, "C03": 10, "M02": 11, "M03": 10,
                    "M07": 2}  # fmt: skip


def _expected_windows(n_raw: int, sfreq: float, target: float, win_s: float,
                      step_s: float) -> int:  # fmt: skip
    n_out = -(-n_raw * int(target) // int(sfreq)) if sfreq != target else n_raw
    n_win, step = round(win_s * target), round(step_s * target)
    return (n_out - n_win) // step + 1


def _check_windowset(ws) -> None:
    n = len(ws)
    assert ws.X.dtype == np.float32 and ws.y.dtype == np.int64
    assert ws.X.shape[0] == n and np.isfinite(ws.X).all()
    assert (ws.stop_samples > ws.start_samples).all()
    for arr in (ws.recording_ids, ws.subjects, *ws.extra.values()):
        assert arr.shape[0] == n


# ---------------------------------------------------------------------------------
# data directory and registry
# ---------------------------------------------------------------------------------
def test_data_dir_resolves_argument_env_and_reports_missing(
    data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("EMG_DATA_DIR", str(data_dir))
    assert data_dir_resolved() == data_dir.resolve()
    assert data_dir_resolved(tmp_path) == tmp_path.resolve()
    monkeypatch.setenv("EMG_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(
        DataNotFoundError, match=r"nowhere.*EMG_DATA_DIR.*download emgdb"
    ):
        data_dir_resolved()
    with pytest.raises(DataNotFoundError, match="data download emgdb"):
        dataset_dir("physionet_emgdb", tmp_path)


def data_dir_resolved(path: Path | None = None) -> Path:
    return data_dir(path)  # the function, shadowed in tests by the fixture name


def test_registry_lists_the_eight_datasets_and_their_subjects(data_dir: Path) -> None:
    assert set(DATASETS) == {
        "physionet_emgdb",
        "emglab_n2001",
        "emglab_n2001_wfdb",
        "needle_emg_mendeley",
        "ninapro",
        "myo_readings",
        "uci_emg_gestures",
        "uci_semg",
    }
    counts = {name: len(list_subjects(name, data_dir)) for name in DATASETS}
    # PROVENANCE.md: 3 records, 7 subjects, 18 N2001 WFDB and 190 Mendeley
    # people, 10 NinaPro subjects, 33 Myo participants, 26 UCI gesture
    # subjects, 5 UCI sEMG subjects
    assert counts == {
        "physionet_emgdb": 3,
        "emglab_n2001": 7,
        "emglab_n2001_wfdb": 18,
        "needle_emg_mendeley": 190,
        "ninapro": 10,
        "myo_readings": 33,
        "uci_emg_gestures": 26,
        "uci_semg": 5,
    }
    ws = load_dataset("physionet_emgdb", data_dir, subjects=["emg_healthy"])
    assert set(ws.recording_ids) == {"emg_healthy"}


# ---------------------------------------------------------------------------------
# disease datasets
# ---------------------------------------------------------------------------------
def test_emgdb_gives_three_classes_one_recording_each(data_dir: Path) -> None:
    ws = load_physionet_emgdb(data_dir)
    _check_windowset(ws)
    assert ws.class_names == DISEASE_CLASSES == ("healthy", "myopathy", "neuropathy")
    assert ws.sfreq == 1000.0 and ws.X.shape[1:] == (1, 1000)
    for record, n_raw in EMGDB_SAMPLES.items():
        sel = ws.recording_ids == record
        assert set(ws.subjects[sel]) == {record}
        assert set(ws.y[sel]) == {DISEASE_CLASSES.index(record.removeprefix("emg_"))}
        assert sel.sum() == _expected_windows(n_raw, 4000, 1000, 1.0, 0.5)
        # windows of 1 s every 0.5 s, in 4 kHz raw samples
        np.testing.assert_array_equal(
            ws.start_samples[sel], np.arange(sel.sum()) * 2000
        )
        np.testing.assert_array_equal(
            ws.stop_samples[sel] - ws.start_samples[sel], 4000
        )
        assert ws.stop_samples[sel].max() <= n_raw
    assert [int((ws.recording_ids == r).sum()) for r in EMGDB_SAMPLES] == [24, 54, 72]
    assert ws.meta["dataset"] == "physionet_emgdb"
    assert ws.meta["preprocess"]["window_s"] == 1.0
    # z-scored per recording: each record's windows have mean ~0, std ~1
    assert abs(float(ws.X[ws.recording_ids == "emg_myopathy"].mean())) < 0.1


def test_n2001_gives_seven_subjects_67_recordings_and_the_class_map(
    data_dir: Path,
) -> None:
    ws = load_emglab_n2001(data_dir)
    _check_windowset(ws)
    assert ws.class_names == DISEASE_CLASSES
    assert len(np.unique(ws.recording_ids)) == 67
    per_subject = {
        s: len(np.unique(ws.recording_ids[ws.subjects == s]))
        for s in np.unique(ws.subjects)
    }
    assert per_subject == N2001_RECORDINGS
    letter_to_class = {"A": "neuropathy", "C": "healthy", "M": "myopathy"}
    for rec in np.unique(ws.recording_ids):
        sel = ws.recording_ids == rec
        m = re.fullmatch(r"N2001([ACM])(\d\d)(BB|VM)\d\d", rec)
        assert m is not None
        assert {ws.class_names[i] for i in ws.y[sel]} == {letter_to_class[m[1]]}
        assert set(ws.subjects[sel]) == {m[1] + m[2]}
        assert set(ws.extra["muscle"][sel]) == {m[3]}
        # 262144 samples at 23437.5 Hz = 11.18 s -> 21 windows of 1 s every 0.5 s
        assert sel.sum() == 21
        assert ws.stop_samples[sel].max() <= 262144
    assert ws.class_counts() == {"healthy": 462, "myopathy": 483, "neuropathy": 462}
    assert (ws.orig_sfreq == 23437.5).all()


def test_n2001_subject_filter_and_unknown_subject(data_dir: Path) -> None:
    ws = load_emglab_n2001(data_dir, subjects=["M07"])
    assert set(ws.subjects) == {"M07"} and len(np.unique(ws.recording_ids)) == 2
    with pytest.raises(DatasetError, match="unknown subject.*X99.*available: A01"):
        load_emglab_n2001(data_dir, subjects=["X99"])


def test_blocked_split_and_loso_on_real_n2001_do_not_leak(data_dir: Path) -> None:
    ws = load_emglab_n2001(data_dir, subjects=["A03", "C03", "M07"])
    train, test = blocked_split(ws, test_frac=0.2, seed=3)
    assert overlapping_windows(ws, train, test).size == 0
    for rec in np.unique(ws.recording_ids):  # pairwise check, per recording
        a = train[ws.recording_ids[train] == rec]
        b = test[ws.recording_ids[test] == rec]
        assert b.size >= 1
        shared = (ws.start_samples[a][:, None] < ws.stop_samples[b][None, :]) & (
            ws.start_samples[b][None, :] < ws.stop_samples[a][:, None]
        )
        assert not shared.any()
    folds = list(leave_one_subject_out(ws.subjects))
    assert [f[0] for f in folds] == ["A03", "C03", "M07"]
    for subject, tr, te in folds:
        assert subject not in set(ws.subjects[tr]) and set(ws.subjects[te]) == {subject}


# ---------------------------------------------------------------------------------
# NinaPro
# ---------------------------------------------------------------------------------
def test_majority_labels_known_answer() -> None:
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 0, 0, 0])
    starts = np.array([0, 2, 4, 6, 1])
    stops = np.array([4, 6, 8, 10, 3])
    # [0,0,1,1] tie -> 0; [1,1,1,2]; [1,2,2,0]; [2,0,0,0]; [0,1] tie -> 0
    np.testing.assert_array_equal(
        majority_labels(labels, starts, stops), [0, 1, 2, 0, 0]
    )


def test_ninapro_excludes_rest_and_keeps_repetition(data_dir: Path) -> None:
    from emgcore.io import read_ninapro

    ws = load_ninapro(data_dir, subjects=["S1"])
    _check_windowset(ws)
    assert ws.meta["database"] == "db1" and ws.sfreq == 100.0
    assert ws.X.shape[1:] == (10, 20)  # 10 electrodes, 200 ms at 100 Hz
    assert len(ws.class_names) == 12 and ws.class_names[0] == "movement 1"
    sess = read_ninapro(data_dir / "ninapro-db1-e1" / "S1_A1_E1.mat")
    maj = majority_labels(sess.restimulus, ws.start_samples, ws.stop_samples)
    assert (maj != 0).all()  # no rest-majority window
    np.testing.assert_array_equal(maj, ws.y + 1)
    np.testing.assert_array_equal(ws.extra["gesture"], ws.y + 1)
    # every movement keeps its 10 repetitions (PROVENANCE: 12 x 10 per subject)
    pairs = set(zip(ws.extra["gesture"], ws.extra["repetition"], strict=True))
    pairs = {(int(g), int(r)) for g, r in pairs}
    assert pairs == {(g, r) for g in range(1, 13) for r in range(1, 11)}
    assert len(np.unique(ws.extra["trial"])) == 120
    # the repetition is that of the window's own movement samples
    i = len(ws) // 2
    s, e = ws.start_samples[i], ws.stop_samples[i]
    own = sess.rerepetition[s:e][sess.restimulus[s:e] == ws.extra["gesture"][i]]
    assert ws.extra["repetition"][i] == np.bincount(own).argmax()


def test_ninapro_within_trial_windows_stay_inside_one_repetition(
    data_dir: Path,
) -> None:
    from emgcore.io import read_ninapro

    ws = load_ninapro(data_dir, subjects=[2], labelling="within_trial")
    sess = read_ninapro(data_dir / "ninapro-db1-e1" / "S2_A1_E1.mat")
    assert set(ws.subjects) == {"S2"}
    for i in range(0, len(ws), 7):
        s, e = ws.start_samples[i], ws.stop_samples[i]
        assert (sess.restimulus[s:e] == ws.extra["gesture"][i]).all()
        assert (sess.rerepetition[s:e] == ws.extra["repetition"][i]).all()


def test_ninapro_db2_layout_loads_from_its_own_folder(tmp_path: Path, rng) -> None:
    from scipy.io import savemat

    # a small DB2-like file: 12 channels at 2 kHz, movements 1-2 x 2 repetitions
    fs, seg = 2000, 3000  # 1.5 s segments
    layout = [(0, 0), (1, 1), (0, 0), (1, 2), (0, 0), (2, 1), (0, 0), (2, 2), (0, 0)]
    stim = np.concatenate([np.full(seg, m) for m, _ in layout])
    rep = np.concatenate([np.full(seg, r) for _, r in layout])
    emg = rng.standard_normal((stim.size, 12)) * 1e-4
    folder = tmp_path / "ninapro-db2"
    folder.mkdir()
    savemat(
        folder / "S7_E1_A1.mat",
        {
            "emg": emg,
            "restimulus": stim[:, None].astype(np.uint8),
            "rerepetition": rep[:, None].astype(np.uint8),
            "subject": np.uint8(7),
            "exercise": np.uint8(1),
        },
    )
    ws = load_ninapro(tmp_path, folder="ninapro-db2")
    assert ws.meta["database"] == "db2"
    assert ws.sfreq == 1000.0 and ws.X.shape[1:] == (12, 200)
    assert len(ws.class_names) == 17  # DB2 exercise 1 (B): 17 movements
    assert set(ws.y.tolist()) == {0, 1} and set(ws.subjects) == {"S7"}
    assert set(ws.extra["repetition"].tolist()) == {1, 2}
    assert (ws.orig_sfreq == fs).all()
    maj = majority_labels(stim, ws.start_samples, ws.stop_samples)
    np.testing.assert_array_equal(maj, ws.y + 1)


# ---------------------------------------------------------------------------------
# gesture datasets
# ---------------------------------------------------------------------------------
def _assert_windows_inside_trials(ws, labels_of) -> None:
    """Each window's raw samples all carry its gesture (no straddling)."""
    for rec in np.unique(ws.recording_ids):
        labels = labels_of(rec)
        sel = np.flatnonzero(ws.recording_ids == rec)
        for i in sel[:: max(1, sel.size // 40)]:
            s, e = ws.start_samples[i], ws.stop_samples[i]
            assert (labels[s:e] == ws.extra["gesture"][i]).all(), (rec, i)
        # windows of different trials never share a raw sample
        for trial in np.unique(ws.extra["trial"][sel])[:3]:
            a = sel[ws.extra["trial"][sel] == trial]
            b = sel[ws.extra["trial"][sel] != trial]
            assert overlapping_windows(ws, a, b).size == 0


def test_myo_readings_subject_sessions_trials_and_gestures(data_dir: Path) -> None:
    from emgcore.io.gestures import read_myo_readings

    ws = load_myo_readings(data_dir, subjects=["44444"])
    _check_windowset(ws)
    assert ws.class_names[0] == "rest" and len(ws.class_names) == 8
    assert ws.sfreq == 200.0 and ws.X.shape[1:] == (8, 40)
    assert set(ws.subjects) == {"44444"}
    assert set(ws.extra["session"]) == {"44444-1", "44444-2", "44444-3"}
    assert len(np.unique(ws.recording_ids)) == 24  # 3 sessions x 8 files
    np.testing.assert_array_equal(ws.extra["gesture"], ws.y)  # codes 0..7
    assert set(ws.y.tolist()) == set(range(8))
    # each gesture file k alternates rest and k: ~6 runs of k per file, 3 sessions
    for g in range(1, 8):
        n_trials = len(np.unique(ws.extra["trial"][ws.extra["gesture"] == g]))
        assert 15 <= n_trials <= 21
        reps = np.unique(ws.extra["repetition"][ws.extra["gesture"] == g])
        np.testing.assert_array_equal(reps, np.arange(1, n_trials + 1))
    files = {}
    for path in sorted((data_dir / "myo-readings-dataset").glob("*/44444-*.npz")):
        for gfile in read_myo_readings(path):
            files[gfile.name] = gfile.labels
    _assert_windows_inside_trials(ws, files.__getitem__)
    no_rest = load_myo_readings(data_dir, subjects=["44444"], include_rest=False)
    assert "rest" not in no_rest.class_names and len(no_rest.class_names) == 7
    assert len(no_rest) == int((ws.y != 0).sum())


def test_uci_emg_gestures_subjects_series_and_trials(data_dir: Path) -> None:
    from emgcore.io.gestures import read_uci_emg_gestures

    ws = load_uci_emg_gestures(data_dir, subjects=["01", "02"])
    _check_windowset(ws)
    assert ws.class_names == (
        "rest",
        "fist",
        "wrist flexion",
        "wrist extension",
        "radial deviation",
        "ulnar deviation",
    )
    assert ws.sfreq == 200.0 and ws.X.shape[1:] == (8, 40)
    # PROVENANCE: subject 02 has only series 2
    assert set(ws.extra["session"]) == {"01-1", "01-2", "02-2"}
    assert set(ws.extra["gesture"].tolist()) == set(range(1, 7))  # no 0, no 7
    # each series holds every gesture twice -> 4 trials for 01, 2 for 02
    for subject, n in (("01", 4), ("02", 2)):
        sel = ws.subjects == subject
        for g in range(1, 7):
            trials = np.unique(ws.extra["trial"][sel & (ws.extra["gesture"] == g)])
            assert trials.size == n
            reps = ws.extra["repetition"][sel & (ws.extra["gesture"] == g)]
            assert set(reps.tolist()) == set(range(1, n + 1))
    labels = {}
    for path in sorted((data_dir / "uci-emg-gestures-myo").glob("0[12]/*.npz")):
        gfile = read_uci_emg_gestures(path)
        labels[gfile.name] = gfile.labels
    _assert_windows_inside_trials(ws, labels.__getitem__)


def test_uci_semg_trials_per_grasp(data_dir: Path) -> None:
    ws = load_uci_semg(data_dir, subjects=["male_1"])
    _check_windowset(ws)
    assert ws.class_names == (
        "spherical",
        "tip",
        "palmar",
        "lateral",
        "cylindrical",
        "hook",
    )
    assert ws.sfreq == 500.0 and ws.X.shape[1:] == (2, 100)
    assert len(np.unique(ws.extra["trial"])) == 180  # 6 grasps x 30 trials
    for g in range(6):
        reps = ws.extra["repetition"][ws.y == g]
        assert set(reps.tolist()) == set(range(1, 31))
    # 6 s trials at 500 Hz, 200 ms windows every 100 ms -> 59 per trial
    _, counts = np.unique(ws.extra["trial"], return_counts=True)
    assert (counts == 59).all()
    # trials never straddle: every window lies inside one 3000-sample trial
    assert (ws.start_samples // 3000 == (ws.stop_samples - 1) // 3000).all()


def test_gesture_loader_accepts_a_custom_config(data_dir: Path) -> None:
    cfg = PreprocessConfig(
        target_sfreq=None, bandpass_hz=None, notch_hz=None, window_s=0.5, step_s=0.25
    )
    ws = load_uci_semg(data_dir, subjects=["female_2"], preprocess=cfg)
    assert ws.X.shape[1:] == (2, 250)
    assert ws.meta["preprocess"]["window_s"] == 0.5
    _, counts = np.unique(ws.extra["trial"], return_counts=True)
    assert (counts == (3000 - 250) // 125 + 1).all()


# ---------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------
def test_cache_returns_the_same_windows_and_is_keyed_by_config(
    data_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = load_physionet_emgdb(data_dir, subjects=["emg_healthy"], cache_dir=cache)
    entries = sorted((cache / "physionet_emgdb").glob("*.npz"))
    assert len(entries) == 1
    again = load_physionet_emgdb(data_dir, subjects=["emg_healthy"], cache_dir=cache)
    np.testing.assert_array_equal(again.X, first.X)
    assert again.content_hash() == first.content_hash()
    assert again.meta == first.meta
    np.testing.assert_array_equal(again.extra["muscle"], first.extra["muscle"])
    other = PreprocessConfig(bandpass_hz=(20.0, 450.0))
    load_physionet_emgdb(
        data_dir, subjects=["emg_healthy"], cache_dir=cache, preprocess=other
    )
    assert len(list((cache / "physionet_emgdb").glob("*.npz"))) == 2
    entries[0].write_bytes(b"damaged")  # a broken entry is rebuilt, not trusted
    rebuilt = load_physionet_emgdb(data_dir, subjects=["emg_healthy"], cache_dir=cache)
    np.testing.assert_array_equal(rebuilt.X, first.X)


def test_cache_is_off_without_env_and_on_with_it(
    data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    from emgcore.datasets._common import resolve_cache_dir

    monkeypatch.delenv("EMG_CACHE_DIR", raising=False)
    assert resolve_cache_dir(None) is None
    assert resolve_cache_dir(False) is None
    assert resolve_cache_dir(True) == Path("~/.cache/myolens").expanduser()
    monkeypatch.setenv("EMG_CACHE_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir(None) == tmp_path / "env"
    load_physionet_emgdb(data_dir, subjects=["emg_healthy", "emg_myopathy"])
    assert len(list((tmp_path / "env" / "physionet_emgdb").glob("*.npz"))) == 2
