from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np

from emgcore.cli import main
from tests.conftest import REPO_ROOT


def _inspect(capsys, *argv):
    rc = main(["inspect", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


def test_it_reports_the_emgdb_myopathy_record(data_dir):
    # Through a real process: stdout is one JSON line, the exit status is 0.
    path = data_dir / "physionet-emgdb" / "emg_myopathy"
    proc = subprocess.run(
        [sys.executable, "-m", "emgcore", "inspect", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["format"] == "wfdb"
    assert report["sfreq"] == 4000
    assert report["n_times"] == 110337
    assert report["n_chans"] == 1
    assert report["duration_s"] == 110337 / 4000
    assert report["ch_names"] == ["EMG"] and report["units"] == ["mV"]
    assert report["quality"]["long_enough_for_window"] is True
    assert set(report) >= {
        "path",
        "format",
        "sfreq",
        "n_chans",
        "n_times",
        "duration_s",
        "ch_names",
        "units",
        "quality",
    }


def test_it_reports_an_n2001_bin_without_flags(capsys, data_dir):
    rc, reports, _ = _inspect(capsys, data_dir / "emglab-n2001" / "N2001C01BB51.bin")
    assert rc == 0
    assert reports[0]["format"] == "n2001"
    assert reports[0]["sfreq"] == 23437.5
    assert reports[0]["n_times"] == 262144


def test_a_hea_dat_pair_is_one_recording_even_renamed(capsys, data_dir, tmp_path):
    emgdb = data_dir / "physionet-emgdb"
    hea = shutil.copy(emgdb / "emg_healthy.hea", tmp_path / "f1.hea")
    dat = shutil.copy(emgdb / "emg_healthy.dat", tmp_path / "f2.dat")
    rc, reports, _ = _inspect(
        capsys, emgdb / "emg_myopathy.hea", emgdb / "emg_myopathy.dat", hea, dat
    )
    assert rc == 0
    assert [r["n_times"] for r in reports] == [110337, 50860]
    assert reports[1]["files"] == [str(hea), str(dat)]


def test_it_reads_a_zipped_record(capsys, data_dir, tmp_path):
    zpath = tmp_path / "rec.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for ext in ("hea", "dat"):
            zf.write(
                data_dir / "physionet-emgdb" / f"emg_neuropathy.{ext}",
                f"emg_neuropathy.{ext}",
            )
    rc, reports, _ = _inspect(capsys, zpath)
    assert rc == 0 and reports[0]["n_times"] == 147858


def test_it_takes_format_and_sfreq_options(capsys, tmp_path):
    path = tmp_path / "signal.txt"
    x = np.sin(np.arange(3000) / 5)
    path.write_text("emg\n" + "\n".join(f"{v:.5f}" for v in x) + "\n")
    rc, reports, _ = _inspect(capsys, path, "--format", "csv", "--sfreq", "1500")
    assert rc == 0
    assert reports[0]["format"] == "csv" and reports[0]["sfreq"] == 1500.0
    assert reports[0]["duration_s"] == 2.0


def test_a_short_recording_is_reported_not_rejected(capsys, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("emg\n" + "1\n2\n" * 100)
    rc, reports, _ = _inspect(capsys, path, "--sfreq", "1000")
    assert rc == 0
    assert reports[0]["quality"]["long_enough_for_window"] is False


def test_a_truncated_dat_exits_2_with_one_line(data_dir, tmp_path):
    emgdb = data_dir / "physionet-emgdb"
    hea = shutil.copy(emgdb / "emg_myopathy.hea", tmp_path / "emg_myopathy.hea")
    dat = tmp_path / "emg_myopathy.dat"
    dat.write_bytes((emgdb / "emg_myopathy.dat").read_bytes()[:150000])
    proc = subprocess.run(
        [sys.executable, "-m", "emgcore", "inspect", str(hea), str(dat)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(dat) in lines[0]
    assert "truncated" in lines[0] and "110337" in lines[0] and "75000" in lines[0]


def test_an_unknown_format_exits_2_naming_the_file(capsys, tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 something")
    rc, reports, err = _inspect(capsys, path)
    assert rc == 2 and reports == []
    assert str(path) in err and "unknown recording format" in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_exits_2(capsys, tmp_path):
    rc, _, err = _inspect(capsys, tmp_path / "gone.edf")
    assert rc == 2 and "gone.edf" in err and "not found" in err
