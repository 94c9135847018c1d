from __future__ import annotations

import shutil

import numpy as np
import pytest

from emgcore.errors import InvalidRecordingError
from emgcore.io import N2001_SFREQ_HZ, detect_format, parse_n2001_name, read_recording


def test_it_reads_a_real_n2001_file_by_its_name(data_dir):
    path = data_dir / "emglab-n2001" / "N2001M02BB01.bin"
    assert detect_format(path) == "n2001"
    rec = read_recording(path)
    assert rec.sfreq == N2001_SFREQ_HZ == 23437.5
    assert rec.data.shape == (1, 262144)
    assert rec.units == ("counts",)
    raw = np.fromfile(path, dtype="<i2")
    np.testing.assert_array_equal(rec.data[0], raw.astype(np.float32))
    assert rec.source["subject"] == "M02"
    assert rec.source["class"] == "myopathy"
    assert rec.source["muscle"] == "BB"


def test_it_parses_subject_class_and_muscle_from_the_name():
    assert parse_n2001_name("N2001A03VM51.bin") == {
        "subject": "A03",
        "class": "ALS",
        "muscle": "VM",
        "muscle_name": "vastus medialis",
        "record": "51",
    }
    assert parse_n2001_name("N2001C01BB55.bin")["class"] == "control"
    assert parse_n2001_name("N2001X01BB55.bin") is None
    assert parse_n2001_name("upload.bin") is None


def test_it_reads_little_endian_int16_with_an_sfreq_override(tmp_path):
    values = np.array([0, 1, -1, 32767, -32768] * 2000, dtype="<i2")
    path = tmp_path / "N2001C03VM61.bin"
    values.tofile(path)
    rec = read_recording(path, sfreq=10000)
    assert rec.sfreq == 10000.0
    np.testing.assert_array_equal(rec.data[0, :5], [0, 1, -1, 32767, -32768])


def test_it_needs_the_format_for_a_bin_with_another_name(data_dir, tmp_path):
    path = shutil.copy(
        data_dir / "emglab-n2001" / "N2001A01BB01.bin", tmp_path / "x.bin"
    )
    with pytest.raises(InvalidRecordingError, match="format='n2001'"):
        read_recording(path)
    rec = read_recording(path, format="n2001")
    assert rec.n_times == 262144 and "subject" not in rec.source


def test_it_rejects_an_odd_byte_count(tmp_path):
    path = tmp_path / "N2001A01BB01.bin"
    path.write_bytes(b"\x01\x00" * 30000 + b"\x07")
    with pytest.raises(InvalidRecordingError, match="60001 bytes is an odd number"):
        read_recording(path)


def test_it_rejects_an_empty_bin(tmp_path):
    path = tmp_path / "N2001A01BB01.bin"
    path.write_bytes(b"")
    with pytest.raises(InvalidRecordingError, match="empty"):
        read_recording(path)
