"""Format detection, path grouping and the checks every reader shares."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from emgcore.errors import DataNotFoundError, InvalidRecordingError
from emgcore.io import (
    SUPPORTED_FORMATS,
    _common,
    detect_format,
    group_paths,
    normalise_unit,
    read_recording,
)


def test_it_detects_each_format(data_dir, tmp_path):
    emgdb = data_dir / "physionet-emgdb"
    assert detect_format(emgdb / "emg_myopathy") == "wfdb"
    assert detect_format(emgdb / "emg_myopathy.hea") == "wfdb"
    assert detect_format(emgdb / "emg_myopathy.dat") == "wfdb"
    assert (
        detect_format([emgdb / "emg_myopathy.hea", emgdb / "emg_myopathy.dat"])
        == "wfdb"
    )
    assert detect_format(data_dir / "emglab-n2001" / "N2001C01BB51.bin") == "n2001"
    assert detect_format(data_dir / "ninapro-db1-e1" / "S1_A1_E1.mat") == "ninapro"
    (tmp_path / "a.csv").write_text("t,x\n0,1\n")
    assert detect_format(tmp_path / "a.csv") == "csv"
    z = tmp_path / "r.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(emgdb / "emg_myopathy.hea", "emg_myopathy.hea")
    assert detect_format(z) == "wfdb"


def test_it_rejects_an_unknown_format_naming_the_supported_ones(tmp_path):
    path = tmp_path / "scan.xyz"
    path.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InvalidRecordingError) as info:
        read_recording(path)
    msg = str(info.value)
    assert "scan.xyz" in msg and "unknown recording format" in msg
    for fmt in SUPPORTED_FORMATS:
        assert fmt in msg


def test_it_rejects_an_unknown_format_argument(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("t,x\n0,1\n")
    with pytest.raises(InvalidRecordingError, match="Supported formats are wfdb"):
        read_recording(path, format="mp3")


def test_it_raises_data_not_found_with_the_path(tmp_path):
    with pytest.raises(DataNotFoundError, match="missing.edf"):
        read_recording(tmp_path / "missing.edf")
    with pytest.raises(FileNotFoundError):
        read_recording(tmp_path / "missing.csv", sfreq=1000)


def test_it_rejects_a_folder(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InvalidRecordingError, match="is a folder"):
        read_recording(tmp_path / "d.csv", sfreq=1000)


def test_it_rejects_oversize_files_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "N2001A01BB01.bin"
    path.write_bytes(b"\x00\x00" * 6000)
    monkeypatch.setattr(_common, "MAX_FILE_BYTES", 10_000)
    with pytest.raises(InvalidRecordingError, match="larger than the .* limit"):
        read_recording(path)


def test_it_refuses_several_files_for_a_one_file_format(tmp_path):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("t,x\n0,1\n")
    with pytest.raises(InvalidRecordingError, match="WFDB .hea"):
        read_recording([tmp_path / "a.csv", tmp_path / "b.csv"])


def test_group_paths_pairs_headers_with_their_data(data_dir, tmp_path):
    emgdb = data_dir / "physionet-emgdb"
    hea_m, dat_m = emgdb / "emg_myopathy.hea", emgdb / "emg_myopathy.dat"
    hea_h, dat_h = emgdb / "emg_healthy.hea", emgdb / "emg_healthy.dat"
    csv = tmp_path / "x.csv"
    assert group_paths([hea_m, csv, dat_h, dat_m, hea_h]) == [
        [hea_m, dat_m],
        [csv],
        [hea_h, dat_h],
    ]
    # One header and one differently named data file are one upload.
    up_h = shutil.copy(hea_m, tmp_path / "u1.hea")
    up_d = shutil.copy(dat_m, tmp_path / "u2.dat")
    assert group_paths([up_d, up_h]) == [[up_h, up_d]]


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("mv", "mV"),
        ("MV", "mV"),
        ("uV", "uV"),
        ("µV", "uV"),
        ("", "a.u."),
        (None, "a.u."),
        ("g", "g"),
    ],
)
def test_it_normalises_unit_spellings(raw, unit):
    assert normalise_unit(raw) == unit
