from __future__ import annotations

import numpy as np
import pytest

from emgcore.errors import InvalidRecordingError
from emgcore.io import read_recording


def _write(path, header, rows, sep=","):
    lines = [sep.join(header)] + [sep.join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_it_infers_sfreq_from_a_time_column_in_seconds(tmp_path, synthetic_emg):
    emg = synthetic_emg(sfreq=2000.0, duration_s=1.5, n_chans=2)
    t = np.arange(emg.shape[1]) / 2000.0
    rows = [
        (f"{ti:.6f}", f"{a:.6g}", f"{b:.6g}") for ti, a, b in zip(t, *emg, strict=True)
    ]
    path = _write(tmp_path / "x.csv", ["time_s", "EMG1 (mV)", "EMG2 (mV)"], rows)
    rec = read_recording(path)
    assert rec.sfreq == 2000.0
    assert rec.ch_names == ("EMG1", "EMG2")
    assert rec.units == ("mV", "mV")
    np.testing.assert_allclose(rec.data, emg, rtol=1e-5, atol=1e-6)


def test_it_infers_sfreq_from_milliseconds(tmp_path):
    rows = [(i * 0.5, np.sin(i / 10)) for i in range(3000)]
    path = _write(tmp_path / "ms.tsv", ["time_ms", "emg"], rows, sep="\t")
    rec = read_recording(path)
    assert rec.sfreq == 2000.0
    assert rec.n_chans == 1 and rec.n_times == 3000


def test_it_takes_sfreq_from_the_argument_without_time_column(tmp_path):
    rows = [(i % 7, -(i % 5)) for i in range(1200)]
    path = _write(tmp_path / "n.csv", ["a", "b"], rows)
    rec = read_recording(path, sfreq=1000)
    assert rec.sfreq == 1000.0
    assert rec.data.shape == (2, 1200)
    assert rec.data[0, 8] == 1.0 and rec.data[1, 7] == -2.0


def test_it_requires_a_rate_when_there_is_no_time_column(tmp_path):
    path = _write(tmp_path / "n.csv", ["a", "b"], [(1, 2)] * 1200)
    with pytest.raises(InvalidRecordingError, match="no time column.*sfreq"):
        read_recording(path)


def test_it_rejects_a_non_uniform_time_column(tmp_path):
    t = np.cumsum(np.where(np.arange(2000) % 3 == 0, 0.002, 0.001))
    path = _write(tmp_path / "j.csv", ["time", "x"], [(f"{v:.4f}", 1.0) for v in t])
    with pytest.raises(InvalidRecordingError, match="not uniformly sampled"):
        read_recording(path)


def test_it_rejects_a_non_numeric_cell_naming_line_and_column(tmp_path):
    rows = [(i, i) for i in range(1500)]
    rows[9] = (9, "abc")  # file line 11 (header is line 1)
    path = _write(tmp_path / "bad.csv", ["a", "b"], rows)
    with pytest.raises(InvalidRecordingError, match=r"line 11, column 2: 'abc'"):
        read_recording(path, sfreq=1000)


def test_it_rejects_an_empty_cell(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("a,b\n1,2\n3,\n")
    with pytest.raises(InvalidRecordingError, match="line 3, column 2: an empty cell"):
        read_recording(path, sfreq=1000)


def test_it_rejects_ragged_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(InvalidRecordingError, match="line 4 has 2 values.*3 columns"):
        read_recording(path, sfreq=1000)


def test_it_rejects_an_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InvalidRecordingError, match="empty"):
        read_recording(path, sfreq=1000)


@pytest.mark.filterwarnings("error")  # our message, not numpy's warning
def test_it_rejects_a_header_only_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("time,emg\n")
    with pytest.raises(InvalidRecordingError, match="no samples"):
        read_recording(path)


def test_it_rejects_a_file_without_header_row(tmp_path):
    path = _write(tmp_path / "nh.csv", ["0.1", "0.2"], [(1, 2)] * 10)
    with pytest.raises(InvalidRecordingError, match="header row"):
        read_recording(path, sfreq=1000)


def test_it_rejects_nan_samples(tmp_path):
    rows = [(i, 1.0) for i in range(1500)]
    rows[100] = (100, "nan")
    path = _write(tmp_path / "nan.csv", ["a", "b"], rows)
    with pytest.raises(
        InvalidRecordingError, match=r"line 102, column 2 \('b'\) holds nan"
    ):
        read_recording(path, sfreq=1000)


def test_it_rejects_a_recording_shorter_than_one_window(tmp_path):
    path = _write(tmp_path / "s.csv", ["a"], [(1,)] * 500)
    with pytest.raises(InvalidRecordingError, match="500 samples"):
        read_recording(path, sfreq=1000)
