from __future__ import annotations

import edfio
import numpy as np
import pytest

from emgcore.errors import InvalidRecordingError
from emgcore.io import detect_format, read_recording


def _sine(n: int, sfreq: float, hz: float, amp: float) -> np.ndarray:
    return amp * np.sin(2 * np.pi * hz * np.arange(n) / sfreq)


def _write_edf(path, signals, *, bdf=False):
    cls = edfio.BdfSignal if bdf else edfio.EdfSignal
    sigs = [
        cls(
            data,
            sampling_frequency=fs,
            label=label,
            physical_dimension=unit,
            physical_range=(-1000, 1000),
        )
        for data, fs, label, unit in signals
    ]
    (edfio.Bdf if bdf else edfio.Edf)(sigs).write(path)
    return path


def test_it_reads_edf_in_physical_units(tmp_path):
    x = _sine(4000, 2000, 50, 500.0)
    path = _write_edf(
        tmp_path / "a.edf", [(x, 2000, "EMG1", "uV"), (-x, 2000, "EMG2", "uV")]
    )
    rec = read_recording(path)
    assert rec.source["format"] == "edf"
    assert (rec.sfreq, rec.n_chans, rec.n_times) == (2000.0, 2, 4000)
    assert rec.ch_names == ("EMG1", "EMG2")
    assert rec.units == ("uV", "uV")
    # 16-bit quantisation over a 2000 uV range: step ~0.03 uV.
    np.testing.assert_allclose(rec.data[0], x, atol=0.05)
    np.testing.assert_allclose(rec.data[1], -x, atol=0.05)


def test_it_reads_bdf_with_24_bit_resolution(tmp_path):
    x = _sine(3000, 1000, 13, 900.0)
    path = _write_edf(tmp_path / "b.bdf", [(x, 1000, "EMG", "mv")], bdf=True)
    assert detect_format(path) == "bdf"
    rec = read_recording(path)
    assert rec.source["format"] == "bdf"
    assert rec.units == ("mV",)
    # 24-bit over 2000 mV: step ~1.2e-4 mV, far finer than EDF's 0.03.
    np.testing.assert_allclose(rec.data[0], x, atol=1e-3)


def test_it_keeps_the_channels_at_the_highest_rate(tmp_path):
    emg = _sine(4000, 2000, 40, 100.0)
    acc = _sine(200, 100, 1, 10.0)
    path = _write_edf(
        tmp_path / "mixed.edf",
        [(emg, 2000, "EMG", "uV"), (acc, 100, "ACC", "g"), (emg, 2000, "EMG2", "uV")],
    )
    rec = read_recording(path)
    assert rec.ch_names == ("EMG", "EMG2")
    assert rec.sfreq == 2000.0
    assert rec.source["dropped_channels"] == ["ACC"]


def test_it_detects_edf_by_content_without_extension(tmp_path):
    path = _write_edf(
        tmp_path / "a.edf", [(_sine(2000, 1000, 5, 1.0), 1000, "x", "mV")]
    )
    renamed = path.rename(tmp_path / "upload_tmp")
    assert detect_format(renamed) == "edf"
    assert read_recording(renamed).n_times == 2000


@pytest.mark.parametrize("cut", [1500, 2000])  # mid-record, whole record
def test_it_rejects_a_truncated_edf(tmp_path, cut):
    path = _write_edf(
        tmp_path / "t.edf", [(_sine(4000, 1000, 5, 1.0), 1000, "x", "mV")]
    )
    raw = path.read_bytes()
    path.write_bytes(raw[:-cut])
    with pytest.raises(InvalidRecordingError, match="truncated"):
        read_recording(path)


def test_it_rejects_a_garbage_edf(tmp_path):
    path = tmp_path / "g.edf"
    path.write_bytes(b"not an edf file at all " * 40)
    with pytest.raises(InvalidRecordingError, match=r"g\.edf: not an EDF file"):
        read_recording(path)


def test_it_rejects_a_conflicting_sfreq(tmp_path):
    path = _write_edf(
        tmp_path / "a.edf", [(_sine(2000, 1000, 5, 1.0), 1000, "x", "mV")]
    )
    with pytest.raises(InvalidRecordingError, match="1000 Hz"):
        read_recording(path, sfreq=500)


def test_it_keeps_edf_plus_annotations_out_of_the_channels(tmp_path):
    sig = edfio.EdfSignal(
        _sine(3000, 1000, 5, 1.0),
        sampling_frequency=1000,
        label="EMG",
        physical_dimension="uV",
    )
    ann = [edfio.EdfAnnotation(0.5, 1.0, "contraction")]
    edfio.Edf([sig], annotations=ann).write(tmp_path / "plus.edf")
    rec = read_recording(tmp_path / "plus.edf")
    assert rec.ch_names == ("EMG",)
    assert rec.source["annotations"] == [
        {"onset_s": 0.5, "duration_s": 1.0, "text": "contraction"}
    ]
