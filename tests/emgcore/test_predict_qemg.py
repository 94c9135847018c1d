"""``predict`` prints the quantitative EMG values beside the probabilities."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from emgcore.cli import main
from emgcore.errors import InvalidRecordingError
from emgcore.io import read_recording
from emgcore.qemg import analyse_recording


def _predict(capsys, paths, checkpoint) -> dict:
    status = main(
        ["predict", *map(str, paths), "--model", str(checkpoint), "--no-windows"]
    )
    assert status == 0
    return json.loads(capsys.readouterr().out.splitlines()[0])


@pytest.mark.parametrize(
    "folder, record, data_ext",
    [
        ("needle-emg-mendeley", "HEA01_LB_202", ".dat"),
        ("emglab-n2001-wfdb", "N2001A01BB01", ".bin"),
    ],
)
def test_predict_prints_qemg_for_records_of_both_clinical_folders(
    capsys, data_dir, tiny_checkpoint, folder, record, data_ext
):
    base = data_dir / folder / record
    out = _predict(
        capsys, [base.with_suffix(".hea"), base.with_suffix(data_ext)], tiny_checkpoint
    )
    q = out["qemg"]
    assert q["muap_count"] >= 1
    # Needle MUAPs are tens of uV to a few mV and a few ms to tens of ms long.
    assert 20 < q["amplitude_uv_median"] < 5000
    assert 1 < q["duration_ms_median"] < 30
    assert 0 <= q["frac_polyphasic"] <= 1


def test_qemg_follows_the_stated_unit_and_refuses_counts(data_dir):
    rec = read_recording(data_dir / "physionet-emgdb" / "emg_healthy")
    assert rec.units[0] == "mV"
    in_mv = analyse_recording(rec).summary
    as_uv = dataclasses.replace(
        rec, data=(rec.data.astype(np.float64) * 1000).astype(np.float32), units=("uV",)
    )
    in_uv = analyse_recording(as_uv).summary
    assert in_uv["amplitude_uv_median"] == pytest.approx(
        in_mv["amplitude_uv_median"], rel=1e-3
    )
    counts = dataclasses.replace(rec, units=("counts",))
    with pytest.raises(InvalidRecordingError, match="physical units"):
        analyse_recording(counts)


def test_predict_says_why_when_qemg_cannot_be_measured(
    capsys, data_dir, tiny_checkpoint, tmp_path
):
    # A CSV with no unit in its header carries no amplitude scale: a note, not a
    # crash, and the probabilities are still given.
    rec = read_recording(data_dir / "physionet-emgdb" / "emg_healthy")
    x = rec.data[0][::2][:8000]
    path = tmp_path / "no_unit.csv"
    path.write_text("emg_mV\n" + "\n".join(f"{v:.5f}" for v in x))
    status = main(
        ["predict", str(path), "--model", str(tiny_checkpoint), "--sfreq", "2000"]
    )
    out = json.loads(capsys.readouterr().out.splitlines()[0])
    if not out["analysable"]:
        pytest.fail(f"the test recording should pass the gate: {out['message']}")
    assert status == 0
    assert out["qemg"] is None and "physical units" in out["qemg_note"]
    assert set(out["probabilities"]) == {"healthy", "myopathy", "neuropathy"}
