from __future__ import annotations

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from emgcore.errors import InvalidRecordingError
from emgcore.io import NinaproSession, read_ninapro, read_recording


def _db2_like(path, rng, *, n_times=6000, n_chans=12, **extra):
    stim = np.zeros((n_times, 1), dtype=np.uint8)
    rep = np.zeros((n_times, 1), dtype=np.uint8)
    stim[1000:2000] = 3
    rep[1000:2000] = 1
    stim[3000:4000] = 3
    rep[3000:4000] = 2
    content = {
        "emg": rng.standard_normal((n_times, n_chans)) * 1e-5,
        "restimulus": stim,
        "rerepetition": rep,
        "stimulus": stim,
        "repetition": rep,
        "subject": np.array([[7]], dtype=np.uint8),
        "exercise": np.array([[2]], dtype=np.uint8),
        "acc": np.zeros((n_times, 36)),
    }
    content.update(extra)
    savemat(path, content)
    return content


def test_it_reads_a_real_db1_file(data_dir):
    path = data_dir / "ninapro-db1-e1" / "S1_A1_E1.mat"
    session = read_ninapro(path)
    assert isinstance(session, NinaproSession)
    assert session.database == "db1"
    rec = session.recording
    assert (rec.sfreq, rec.n_chans) == (100.0, 10)
    assert session.subject == 1 and session.exercise == 1
    mat = loadmat(path)
    np.testing.assert_allclose(rec.data, mat["emg"].T.astype(np.float32))
    assert session.restimulus.shape == session.rerepetition.shape == (rec.n_times,)
    assert set(np.unique(session.restimulus)) == set(range(13))
    assert set(np.unique(session.rerepetition)) == set(range(11))


def test_read_recording_returns_just_the_recording(data_dir):
    rec = read_recording(data_dir / "ninapro-db1-e1" / "S2_A1_E1.mat")
    assert rec.source["format"] == "ninapro"
    assert rec.n_chans == 10 and rec.sfreq == 100.0


def test_it_reads_a_db2_like_file_at_2khz(tmp_path, rng):
    content = _db2_like(tmp_path / "S7_E2_A1.mat", rng)
    session = read_ninapro(tmp_path / "S7_E2_A1.mat")
    assert session.database == "db2"
    assert session.recording.sfreq == 2000.0
    assert session.recording.data.shape == (12, 6000)
    assert (session.subject, session.exercise) == (7, 2)
    np.testing.assert_array_equal(session.restimulus, content["restimulus"].ravel())
    assert session.restimulus.dtype == np.int64


def test_a_frequency_variable_and_the_sfreq_argument_override_the_default(
    tmp_path, rng
):
    _db2_like(tmp_path / "f.mat", rng, frequency=np.array([[1500.0]]))
    assert read_ninapro(tmp_path / "f.mat").recording.sfreq == 1500.0
    assert read_ninapro(tmp_path / "f.mat", sfreq=1000).recording.sfreq == 1000.0


def test_it_rejects_an_unknown_channel_count_without_rate(tmp_path, rng):
    _db2_like(tmp_path / "odd.mat", rng, n_chans=7)
    with pytest.raises(InvalidRecordingError, match="7 EMG channels"):
        read_ninapro(tmp_path / "odd.mat")
    assert read_ninapro(tmp_path / "odd.mat", sfreq=1000).recording.n_chans == 7


def test_it_rejects_a_mat_without_emg(tmp_path):
    savemat(tmp_path / "x.mat", {"foo": np.zeros((10, 2))})
    with pytest.raises(InvalidRecordingError, match="emg, restimulus, rerepetition"):
        read_ninapro(tmp_path / "x.mat")


def test_it_rejects_labels_of_the_wrong_length(tmp_path, rng):
    _db2_like(tmp_path / "l.mat", rng, restimulus=np.zeros((10, 1)))
    with pytest.raises(InvalidRecordingError, match="'restimulus' has 10 values"):
        read_ninapro(tmp_path / "l.mat")


def test_it_rejects_a_file_that_is_not_matlab(tmp_path):
    (tmp_path / "junk.mat").write_bytes(b"\x00\x01garbage" * 50)
    with pytest.raises(InvalidRecordingError, match="junk.mat: not a readable MATLAB"):
        read_ninapro(tmp_path / "junk.mat")
