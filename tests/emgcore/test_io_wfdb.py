from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest

from emgcore.errors import DataNotFoundError, InvalidRecordingError
from emgcore.io import read_recording


@pytest.fixture
def emgdb(data_dir):
    return data_dir / "physionet-emgdb"


def test_it_reads_a_record_path_in_physical_units(emgdb):
    import wfdb

    rec = read_recording(emgdb / "emg_myopathy")
    assert rec.sfreq == 4000.0
    assert rec.data.shape == (1, 110337)
    assert rec.data.dtype == np.float32
    assert rec.ch_names == ("EMG",)
    # The header spells the unit "mv"; it is normalised.
    assert rec.units == ("mV",)
    ref = wfdb.rdrecord(str(emgdb / "emg_myopathy")).p_signal[:, 0]
    np.testing.assert_allclose(rec.data[0], ref, rtol=1e-6)
    assert rec.source["format"] == "wfdb"
    assert any("polymostis" in c for c in rec.source["comments"])


def test_it_reads_a_hea_dat_pair_with_a_renamed_dat(emgdb, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    hea = shutil.copy(emgdb / "emg_healthy.hea", tmp_path / "a" / "upload_x1.hea")
    dat = shutil.copy(emgdb / "emg_healthy.dat", tmp_path / "b" / "tmp9f3k2.dat")
    rec = read_recording([dat, hea])
    assert rec.n_times == 50860
    assert rec.sfreq == 4000.0
    assert rec.source["record_name"] == "emg_healthy"


def test_it_reads_a_zip_holding_hea_and_dat(emgdb, tmp_path):
    zpath = tmp_path / "upload.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(emgdb / "emg_myopathy.hea", "folder/emg_myopathy.hea")
        zf.write(emgdb / "emg_myopathy.dat", "folder/emg_myopathy.dat")
    rec = read_recording(zpath)
    assert (rec.sfreq, rec.n_times) == (4000.0, 110337)
    assert rec.source["path"] == str(zpath)


def test_it_rejects_a_zip_with_path_traversal(emgdb, tmp_path):
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(emgdb / "emg_myopathy.hea", "emg_myopathy.hea")
        zf.write(emgdb / "emg_myopathy.dat", "../../emg_myopathy.dat")
    with pytest.raises(InvalidRecordingError, match="outside the archive"):
        read_recording(zpath)
    assert not (tmp_path.parent / "emg_myopathy.dat").exists()


def test_it_rejects_a_zip_without_header(emgdb, tmp_path):
    zpath = tmp_path / "nohea.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(emgdb / "emg_myopathy.dat", "emg_myopathy.dat")
    with pytest.raises(InvalidRecordingError, match=r"no WFDB header"):
        read_recording(zpath)


def test_it_rejects_a_truncated_dat_saying_expected_and_found(emgdb, tmp_path):
    hea = shutil.copy(emgdb / "emg_myopathy.hea", tmp_path / "emg_myopathy.hea")
    raw = (emgdb / "emg_myopathy.dat").read_bytes()
    (tmp_path / "emg_myopathy.dat").write_bytes(raw[:20000])
    with pytest.raises(InvalidRecordingError) as info:
        read_recording([hea, tmp_path / "emg_myopathy.dat"])
    msg = str(info.value)
    assert "truncated" in msg
    assert "110337" in msg and "10000" in msg
    assert "emg_myopathy.dat" in msg


def test_it_rejects_a_dat_without_its_header(emgdb, tmp_path):
    dat = shutil.copy(emgdb / "emg_myopathy.dat", tmp_path / "lonely.dat")
    with pytest.raises(InvalidRecordingError, match=r"\.hea"):
        read_recording(dat)


def test_it_rejects_a_garbled_header(tmp_path):
    (tmp_path / "x.hea").write_text("this is not a header\n")
    (tmp_path / "x.dat").write_bytes(b"\0" * 100)
    with pytest.raises(
        InvalidRecordingError, match="signal count .* 'is', not a whole"
    ):
        read_recording([tmp_path / "x.hea", tmp_path / "x.dat"])


def test_it_rejects_a_header_with_absurd_channel_count(tmp_path):
    lines = ["big 600 1000 100"] + ["big.dat 16 200 16 0"] * 600
    (tmp_path / "big.hea").write_text("\n".join(lines) + "\n")
    (tmp_path / "big.dat").write_bytes(b"\0" * 2 * 600 * 100)
    with pytest.raises(InvalidRecordingError, match="600 channels"):
        read_recording(tmp_path / "big.hea")


def test_it_rejects_an_absurd_sampling_rate(tmp_path):
    data = (np.arange(2000) % 50).astype("<i2")
    data.tofile(tmp_path / "fast.dat")
    (tmp_path / "fast.hea").write_text("fast 1 5000000 2000\nfast.dat 16 200/mV 16 0\n")
    with pytest.raises(InvalidRecordingError, match="outside the supported range"):
        read_recording(tmp_path / "fast", min_duration_s=0)


def test_it_reads_a_synthetic_record_with_known_values(tmp_path):
    import wfdb

    sig = np.stack([np.linspace(-1, 1, 3000), np.sin(np.arange(3000) / 7)], axis=1)
    wfdb.wrsamp(
        "syn",
        fs=1500,
        units=["uV", "MV"],
        sig_name=["a", "b"],
        p_signal=sig,
        fmt=["16", "16"],
        write_dir=str(tmp_path),
    )
    rec = read_recording([tmp_path / "syn.hea", tmp_path / "syn.dat"])
    assert rec.units == ("uV", "mV")
    assert rec.ch_names == ("a", "b")
    np.testing.assert_allclose(rec.data, sig.T, atol=1e-3)


def test_it_rejects_a_recording_shorter_than_one_window(tmp_path):
    import wfdb

    sig = np.zeros((200, 1)) + np.arange(200)[:, None] / 100
    wfdb.wrsamp(
        "short",
        fs=1000,
        units=["mV"],
        sig_name=["a"],
        p_signal=sig,
        fmt=["16"],
        write_dir=str(tmp_path),
    )
    with pytest.raises(InvalidRecordingError, match="shorter than one 1 s"):
        read_recording(tmp_path / "short.hea")
    assert read_recording(tmp_path / "short.hea", min_duration_s=0).n_times == 200


def test_it_rejects_a_conflicting_sfreq_argument(emgdb):
    with pytest.raises(InvalidRecordingError, match="4000 Hz"):
        read_recording(emgdb / "emg_healthy", sfreq=1000)


def test_it_names_a_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="nothere.hea"):
        read_recording(tmp_path / "nothere.hea")
