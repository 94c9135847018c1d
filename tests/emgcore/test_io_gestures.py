from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.io import savemat

from emgcore.errors import InvalidRecordingError
from emgcore.io.gestures import (
    UCI_SEMG_GRASPS,
    Trial,
    find_runs,
    read_myo_readings,
    read_ninapro_gestures,
    read_uci_emg_gestures,
    read_uci_semg,
)


def test_find_runs_gives_half_open_ranges_and_skips_excluded_labels():
    labels = np.array([0, 0, 2, 2, 2, 0, 1, 1])
    assert find_runs(labels) == [(0, 0, 2), (2, 2, 5), (0, 5, 6), (1, 6, 8)]
    assert find_runs(labels, exclude=(0,)) == [(2, 2, 5), (1, 6, 8)]
    assert find_runs(np.array([], dtype=int)) == []


def test_it_reads_a_myo_readings_session_as_one_file_per_gesture(data_dir):
    path = data_dir / "myo-readings-dataset" / "_readings_left_hand" / "44444-1.npz"
    files = read_myo_readings(path)
    assert [f.name for f in files] == [f"44444-1/{k}" for k in range(8)]
    flex = files[1]
    z = np.load(path)
    np.testing.assert_array_equal(flex.recording.data, z["emg_1"].T.astype(np.float32))
    assert flex.recording.sfreq == 200.0 and flex.recording.n_chans == 8
    assert (flex.subject, flex.session) == ("44444", "44444-1")
    assert flex.recording.source["hand"] == "left_hand"
    # Trials are the alternating runs of 0 and 1, covering the file end to end.
    assert {t.label for t in flex.trials} == {0, 1}
    assert flex.trials[0].start == 0 and flex.trials[-1].stop == flex.recording.n_times
    for a, b in zip(flex.trials, flex.trials[1:], strict=False):
        assert a.stop == b.start and a.label != b.label
    # 0.txt is one rest trial.
    assert len(files[0].trials) == 1 and files[0].trials[0].label == 0


def test_it_reads_uci_emg_gestures_onto_a_uniform_1khz_grid(data_dir):
    path = data_dir / "uci-emg-gestures-myo" / "01" / "1_raw_data_13-12_22.03.16.npz"
    f = read_uci_emg_gestures(path)
    z = np.load(path)
    t_ms = z["time_ms"]
    rec = f.recording
    assert rec.sfreq == 1000.0
    assert rec.n_times == t_ms[-1] - t_ms[0] + 1
    # Every original row appears at its own millisecond.
    idx = t_ms - t_ms[0]
    np.testing.assert_allclose(rec.data[:, idx], (z["emg_counts"] * 1e-5).T, rtol=1e-6)
    np.testing.assert_array_equal(f.labels[idx], z["label"])
    # Trials: runs of labels 1..6, never the "unmarked" 0; each gesture twice here.
    assert all(t.label != 0 for t in f.trials)
    assert Counter(t.label for t in f.trials) == {k: 2 for k in range(1, 7)}
    assert (f.subject, f.session) == ("01", "1")
    for t in f.trials:
        assert np.all(f.labels[t.start : t.stop] == t.label)


def test_it_rejects_uci_emg_timestamps_going_backwards(tmp_path):
    np.savez(
        tmp_path / "1_raw.npz",
        emg_counts=np.zeros((5, 8), np.int16),
        time_ms=np.array([1, 2, 3, 2, 5]),
        label=np.zeros(5, np.int8),
        scale=1e-5,
    )
    with pytest.raises(InvalidRecordingError, match="goes backwards after row 3"):
        read_uci_emg_gestures(tmp_path / "1_raw.npz")


def test_it_reads_uci_semg_with_one_trial_per_row(data_dir):
    f = read_uci_semg(
        data_dir / "uci-semg-basic-hand-movements" / "Database_1" / "female_1.mat"
    )
    assert f.recording.sfreq == 500.0 and f.recording.data.shape == (2, 180 * 3000)
    assert len(f.trials) == 180 and not f.continuous
    assert Counter(t.label for t in f.trials) == {k: 30 for k in range(6)}
    assert all(t.n_times == 3000 for t in f.trials)


def test_uci_semg_trials_map_back_to_their_rows(tmp_path, rng):
    content = {}
    for g in UCI_SEMG_GRASPS:
        content[f"{g}_ch1"] = rng.standard_normal((3, 600))
        content[f"{g}_ch2"] = rng.standard_normal((3, 600))
    savemat(tmp_path / "male_9.mat", content)
    f = read_uci_semg(tmp_path / "male_9.mat")
    trial = f.trials[4]  # grasp 1 ("tip"), second row
    assert trial == Trial(label=1, start=2400, stop=3000, repetition=2)
    sub = f.trial_recording(trial)
    np.testing.assert_allclose(sub.data[0], content["tip_ch1"][1], rtol=1e-6)
    np.testing.assert_allclose(sub.data[1], content["tip_ch2"][1], rtol=1e-6)
    assert f.subject == "male_9"


def test_it_rejects_uci_semg_with_a_missing_grasp(tmp_path):
    savemat(tmp_path / "f.mat", {"cyl_ch1": np.zeros((2, 10))})
    with pytest.raises(InvalidRecordingError, match="spher_ch1/spher_ch2 missing"):
        read_uci_semg(tmp_path / "f.mat")


def test_ninapro_trials_are_repetitions(data_dir):
    f = read_ninapro_gestures(data_dir / "ninapro-db1-e1" / "S1_A1_E1.mat")
    assert len(f.trials) == 120
    per_label = Counter(t.label for t in f.trials)
    assert per_label == {k: 10 for k in range(1, 13)}
    assert sorted(t.repetition for t in f.trials if t.label == 5) == list(range(1, 11))
    assert (f.subject, f.session) == ("S1", "E1")
