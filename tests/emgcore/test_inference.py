from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from emgcore import InvalidRecordingError, Recording
from emgcore.inference import INCONCLUSIVE, predict, window_probabilities
from emgcore.io import read_recording
from tests.conftest import make_tiny_disease_checkpoint


def test_predict_gives_probabilities_per_recording_and_per_window(
    data_dir, tiny_checkpoint
):
    rec = read_recording(data_dir / "physionet-emgdb" / "emg_healthy")
    pred = predict(rec, tiny_checkpoint)
    assert list(pred.probabilities) == ["healthy", "myopathy", "neuropathy"]
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    # 12.7 s at 1 s windows with 0.5 s steps -> 24 windows
    assert len(pred.windows) == 24
    assert pred.windows[0]["start_s"] == 0.0 and pred.windows[1]["start_s"] == 0.5
    window_mean = np.mean(
        [[w["probabilities"][c] for c in pred.probabilities] for w in pred.windows],
        axis=0,
    )
    assert np.allclose(window_mean, list(pred.probabilities.values()), atol=1e-6)
    assert pred.label in (*pred.probabilities, INCONCLUSIVE)
    assert len(pred.model["sha256"]) == 64
    assert "clipping_fraction" in pred.quality


def test_low_confidence_is_inconclusive_never_rounded_to_a_class(data_dir, tmp_path):
    ckpt = make_tiny_disease_checkpoint(tmp_path / "strict.pt", min_confidence=0.99)
    rec = read_recording(data_dir / "physionet-emgdb" / "emg_healthy")
    pred = predict(rec, ckpt)
    assert pred.confidence < 0.99
    assert pred.label == INCONCLUSIVE


def test_it_rejects_a_sampling_rate_below_the_models(tiny_checkpoint, synthetic_emg):
    rec = Recording(
        synthetic_emg(sfreq=500.0, duration_s=3.0), 500.0, ("ch1",), ("mV",)
    )
    pred = predict(rec, tiny_checkpoint)
    assert pred.label == "not_analysable" and pred.probabilities is None
    assert "500 Hz, below the 1000 Hz" in pred.gate["reasons"][0]["message"]


def test_it_rejects_a_recording_shorter_than_one_window(tiny_checkpoint, synthetic_emg):
    rec = Recording(
        synthetic_emg(sfreq=2000.0, duration_s=0.5), 2000.0, ("ch1",), ("mV",)
    )
    pred = predict(rec, tiny_checkpoint)
    assert pred.label == "not_analysable" and pred.confidence is None
    assert [r["code"] for r in pred.gate["reasons"]] == ["too_short"]


def test_multichannel_recordings_analyse_the_chosen_channel(
    tiny_checkpoint, synthetic_emg
):
    rec = Recording(
        synthetic_emg(sfreq=2000.0, duration_s=3.0, n_chans=3),
        2000.0,
        ("a", "b", "c"),
        ("mV",) * 3,
    )
    pred = predict(rec, tiny_checkpoint, channel=2)
    assert "channel 2 (c) of 3" in pred.notes[0]
    with pytest.raises(InvalidRecordingError, match="channels 0-2"):
        predict(rec, tiny_checkpoint, channel=5)


def test_a_tampered_checkpoint_is_refused(data_dir, tmp_path):
    from emgcore.errors import IncompatibleCheckpointError

    ckpt = make_tiny_disease_checkpoint(tmp_path / "t.pt")
    rec = read_recording(data_dir / "physionet-emgdb" / "emg_healthy")
    with pytest.raises(IncompatibleCheckpointError, match="expected"):
        predict(rec, ckpt, expected_sha256="0" * 64)


def test_predict_cli_prints_json_and_fails_cleanly(data_dir, tiny_checkpoint, tmp_path):
    rec = data_dir / "physionet-emgdb" / "emg_neuropathy"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgcore",
            "predict",
            str(rec),
            "--model",
            str(tiny_checkpoint),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[0])
    assert set(out["probabilities"]) == {"healthy", "myopathy", "neuropathy"}
    assert out["model"]["name"] == "cnn_tcn"
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgcore",
            "predict",
            str(bad),
            "--model",
            str(tiny_checkpoint),
            "--sfreq",
            "2000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "record",
    ["emglab-n2001-wfdb/N2001A01BB01.hea", "needle-emg-mendeley/HEA01_RD_001.hea"],
)
def test_the_shipped_default_model_runs_on_records_of_both_clinical_sets(
    data_dir, record
):
    # The committed checkpoint through the CLI on one record of each site (both
    # in its training data, so this guards the plumbing and the shipped file,
    # not the medicine): a decision or 'inconclusive', the QEMG values and the
    # card's expected performance on new people.
    repo = Path(__file__).resolve().parents[2]
    model = repo / "models" / "disease" / "default.pt"
    path = data_dir / record
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgcore",
            "predict",
            str(path),
            str(path.with_suffix(".bin" if "n2001" in record else ".dat")),
        ]
        + ["--model", str(model), "--no-windows"],
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[0])
    assert out["analysable"] and out["model"]["name"] == "feature_linear"
    assert out["label"] in ("healthy", "myopathy", "neuropathy", INCONCLUSIVE)
    assert sum(out["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert out["qemg"]["muap_count"] > 0
    expected = out["expected_performance"]
    assert expected["known"] and "never saw" in expected["text"]
    # The shipped figures are per recording, and the words say so.
    assert "one recording at a time" in expected["text"]
    assert "% of recordings of people who have it" in expected["text"]
    assert set(expected["per_class"]) == {"healthy", "myopathy", "neuropathy"}
    shipped_sha = (
        (repo / "models" / "disease" / "default.pt.sha256").read_text().split()[0]
    )
    assert out["model"]["sha256"] == shipped_sha


class _ScalesItsInputInPlace(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.mul_(2.0)
        return x.flatten(1)[:, :3]


def test_window_probabilities_never_write_into_the_callers_windows():
    # Windows are often a read-only strided view of the stored signal.
    windows = np.arange(5 * 1 * 8, dtype=np.float32).reshape(5, 1, 8)
    windows.flags.writeable = False
    before = windows.copy()
    proba = window_probabilities(_ScalesItsInputInPlace(), windows, batch_size=2)
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(windows, before)
