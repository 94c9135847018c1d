"""emgcore.gate on real emgdb recordings corrupted in the test, and predict's CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import wfdb

from emgcore.gate import ModelInput, check_recording
from emgcore.inference import predict
from emgcore.io import read_recording
from emgcore.recording import Recording

SHIPPED = ModelInput(n_chans=12, single_channel=True, min_sfreq_hz=4000.0)


def _real(data_dir, name="emg_healthy"):
    return read_recording(data_dir / "physionet-emgdb" / name)


def _like(rec, x):
    return Recording(
        np.asarray(x, np.float32)[None], rec.sfreq, rec.ch_names, rec.units
    )


def _corrupt(rec, how):
    x = rec.data[0].astype(np.float64)
    t = np.arange(x.size) / rec.sfreq
    if how == "zeroed":
        return np.zeros_like(x)
    if how == "clipped":
        return np.clip(x, *np.percentile(x, [20, 80]))
    if how == "mains_only":
        return 0.5 * np.sin(2 * np.pi * 50 * t)
    if how == "mains_added":
        return x + 10 * x.std() * np.sqrt(2) * np.sin(2 * np.pi * 50 * t)
    if how == "cut":
        return x[: int(rec.sfreq)]
    if how == "half_zeroed":
        return np.where(t < t[-1] / 2, x, 0.0)
    raise AssertionError(how)


@pytest.mark.parametrize("name", ["emg_healthy", "emg_myopathy", "emg_neuropathy"])
def test_it_passes_every_clean_emgdb_recording(data_dir, name):
    v = check_recording(_real(data_dir, name), SHIPPED)
    assert v.analysable and v.reasons == () and v.excluded_s == 0


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("zeroed", "flat"),
        ("clipped", "clipped"),
        ("mains_only", "mains"),
        ("cut", "too_short"),
    ],
)
def test_it_refuses_a_corrupted_real_recording_and_says_why(data_dir, how, code):
    rec = _real(data_dir)
    v = check_recording(_like(rec, _corrupt(rec, how)), SHIPPED)
    assert not v.analysable
    assert v.reasons[0].code == code
    assert v.reasons[0].limit is not None and v.reasons[0].message
    assert "cannot be analysed" in v.message


def test_added_mains_with_emg_underneath_is_analysed_with_a_warning(data_dir):
    rec = _real(data_dir)
    v = check_recording(_like(rec, _corrupt(rec, "mains_added")), SHIPPED)
    assert v.analysable and any("Mains interference" in w for w in v.warnings)


def test_nearly_flat_a06bb08_of_n2001_is_refused(data_dir):
    rec = read_recording(data_dir / "emglab-n2001-wfdb" / "N2001A06BB08.hea")
    v = check_recording(rec, SHIPPED)
    assert not v.analysable and v.reasons[0].code == "flat"


def test_a_half_zeroed_recording_is_analysed_on_its_good_half(
    data_dir, tiny_checkpoint
):
    rec = _real(data_dir)
    bad = _like(rec, _corrupt(rec, "half_zeroed"))
    pred = predict(bad, tiny_checkpoint)
    assert pred.probabilities is not None
    assert pred.gate["excluded_fraction"] == pytest.approx(0.5, abs=0.03)
    half = rec.duration_s / 2
    assert all(w["stop_s"] <= half for w in pred.windows)
    assert any("left out of the analysis" in n for n in pred.notes)


def test_units_off_by_a_thousand_are_refused(data_dir):
    rec = _real(data_dir)
    volts_as_mv = _like(rec, rec.data[0] / 1000.0)
    v = check_recording(volts_as_mv, SHIPPED)
    assert not v.analysable and "near_flat" in [r.code for r in v.reasons]
    uv_as_mv = _like(rec, rec.data[0] * 1000.0)
    assert "amplitude_high" in [
        r.code for r in check_recording(uv_as_mv, SHIPPED).reasons
    ]


def test_predict_cli_exits_2_with_not_analysable_json(
    data_dir, tiny_checkpoint, tmp_path
):
    rec = _real(data_dir)
    wfdb.wrsamp(
        "flat",
        fs=rec.sfreq,
        units=["mV"],
        sig_name=["EMG"],
        p_signal=np.zeros((rec.n_times, 1)),
        fmt=["16"],
        adc_gain=[1000.0],
        baseline=[0],
        write_dir=str(tmp_path),
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgcore",
            "predict",
            str(tmp_path / "flat.hea"),
            "--model",
            str(tiny_checkpoint),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    out = json.loads(proc.stdout.splitlines()[0])
    assert out["label"] == "not_analysable" and out["probabilities"] is None
    assert out["reasons"][0]["code"] == "flat"
    assert "flat" in proc.stderr and "Traceback" not in proc.stderr
