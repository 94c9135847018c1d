"""Site calibration of a site-standardised FeatureLinear on real Mendeley records."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from emgcore import Recording
from emgcore.checkpoint import load_checkpoint, save_checkpoint
from emgcore.cli import main
from emgcore.errors import IncompatibleCheckpointError, InvalidRecordingError
from emgcore.gate import ModelInput, check_recording
from emgcore.inference import model_cache_clear, model_windows, predict
from emgcore.io import read_recording
from emgcore.models import FeatureLinear
from emgcore.models.feature_linear import window_features
from emgcore.site_calibration import (
    calibrate_site,
    moments,
    window_rows,
)

DEFAULT = "models/disease/default.pt"
CLASSES = ("HEA", "MYO", "NEU")


def _headers(data_dir, prefix: str) -> list:
    return sorted((data_dir / "needle-emg-mendeley").glob(f"{prefix}*.hea"))


@pytest.fixture(scope="module")
def records(data_dir) -> dict[str, list]:
    """Training records (2 per class) and 20 calibration records, disjoint."""
    by_class = {c: _headers(data_dir, c) for c in CLASSES}
    train = [p for c in CLASSES for p in by_class[c][:2]]
    calib = [p for c in CLASSES for p in by_class[c][10:17]][:20]
    return {"train": train, "calib": calib}


@pytest.fixture(scope="module")
def uncalibrated(records, tmp_path_factory):
    """A site-standardised model fitted with scikit-learn on real windows."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, default_meta = load_checkpoint(DEFAULT)
    model = FeatureLinear(site_standardised=True)
    meta = {
        "class_names": ["healthy", "myopathy", "neuropathy"],
        "preprocess": default_meta["preprocess"],
        "metrics": {"temperature": 1.0},
        "min_confidence": 0.4,
    }
    built = {**meta, "model_kwargs": model.get_config(), "n_chans": 1, "sfreq": 4000.0}
    rows, y = [], []
    for path in records["train"]:
        r = window_rows(model, built, read_recording(path))
        rows.append(r)
        y += [CLASSES.index(path.name[:3])] * len(r)
    mean, spread = moments(rows)
    X = (
        np.where(np.isfinite(np.concatenate(rows)), np.concatenate(rows), np.nan) - mean
    ) / spread
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    pipe.fit(X, np.array(y))
    model.set_from_sklearn(pipe)
    path = tmp_path_factory.mktemp("site") / "site.pt"
    save_checkpoint(path, model, meta)
    path.with_suffix(".md").write_text("# A site model\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def calibrated(uncalibrated, records):
    out = uncalibrated.with_name("site-lab.pt")
    summary = calibrate_site(
        uncalibrated, records["calib"], out, site="Lab A", min_recordings=20
    )
    return out, summary


def test_the_statistics_are_those_of_the_windows_predict_reads(
    calibrated, records
) -> None:
    out, summary = calibrated
    model, meta = load_checkpoint(out)
    rows = []
    for path in records["calib"]:
        found = model_windows(read_recording(path), meta)
        rows.append(window_features(found.windows, 4000.0, model.sub_n_times))
    X = np.concatenate(rows)
    X = np.where(np.isfinite(X), X, np.nan)
    np.testing.assert_allclose(
        model.site_center.numpy(), np.nanmean(X, axis=0), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        model.site_scale.numpy(), np.nanstd(X, axis=0) + 1e-9, rtol=0, atol=1e-9
    )
    info = meta["site_calibration"]
    assert info["site"] == "Lab A" == summary["site"]
    assert info["n_recordings"] == 20 and info["n_windows"] == len(X)
    assert [r["name"] for r in info["recordings"]] == [p.name for p in records["calib"]]
    assert all(len(r["sha256"]) == 64 for r in info["recordings"])
    assert meta["preprocess"] == load_checkpoint(DEFAULT)[1]["preprocess"]
    card = out.with_suffix(".md").read_text(encoding="utf-8")
    assert card.startswith("# A site model")
    assert "Site calibration: standardised to Lab A on 20 recordings" in card


def test_predict_refuses_before_calibration_and_answers_after(
    uncalibrated, calibrated, records
) -> None:
    model_cache_clear()
    rec = read_recording(records["train"][0])
    with pytest.raises(IncompatibleCheckpointError, match="must first be calibrated"):
        predict(rec, uncalibrated)
    result = predict(rec, calibrated[0])
    assert result.analysable and result.label in {"healthy", "inconclusive"}
    assert sum(result.probabilities.values()) == pytest.approx(1.0)


def test_the_calibrated_checkpoint_round_trips(calibrated, tmp_path) -> None:
    model, meta = load_checkpoint(calibrated[0])
    save_checkpoint(tmp_path / "again.pt", model, meta)
    again, meta2 = load_checkpoint(tmp_path / "again.pt")
    assert meta2["site_calibration"] == meta["site_calibration"]
    assert meta2["model_kwargs"]["site_standardised"] is True
    torch.testing.assert_close(again.site_center, model.site_center)
    torch.testing.assert_close(again.site_scale, model.site_scale)
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 80, (2, 1, 8000)))
    torch.testing.assert_close(again(x.float()), model(x.float()))


def test_the_gate_refuses_an_uncalibrated_site_model(
    uncalibrated, calibrated, records
) -> None:
    rec = read_recording(records["train"][0])
    verdict = check_recording(
        rec, ModelInput.from_metadata(load_checkpoint(uncalibrated)[1])
    )
    assert not verdict.analysable
    assert [r.code for r in verdict.reasons] == ["site"]
    assert "calibrated to your laboratory" in verdict.reasons[0].message
    ok = check_recording(
        rec, ModelInput.from_metadata(load_checkpoint(calibrated[0])[1])
    )
    assert ok.analysable


def test_calibration_refuses_what_it_cannot_use(
    uncalibrated, records, tmp_path
) -> None:
    with pytest.raises(IncompatibleCheckpointError, match="not site-standardised"):
        calibrate_site(DEFAULT, records["calib"][:2], tmp_path / "x.pt", site="A")
    with pytest.raises(InvalidRecordingError, match="at least 20 analysable"):
        calibrate_site(uncalibrated, records["calib"][:3], tmp_path / "x.pt", site="A")
    model, meta = load_checkpoint(uncalibrated)
    real = read_recording(records["calib"][0])
    counts = Recording(real.data, real.sfreq, real.ch_names, ("adu",))
    with pytest.raises(InvalidRecordingError, match="physical units"):
        window_rows(model, meta, counts)
    assert not (tmp_path / "x.pt").exists()


def test_the_command_calibrates_end_to_end(uncalibrated, records, tmp_path, capsys):
    out = tmp_path / "cli.pt"
    files = [str(p) for p in records["calib"][:3]]
    argv = ["site-calibrate", "--model", str(uncalibrated), "--site", "B"]
    rc = main([*argv, "--out", str(out), "--min-recordings", "3", *files])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["n_recordings"] == 3 and summary["site"] == "B"
    assert load_checkpoint(out)[1]["site_calibration"]["site"] == "B"
    assert main([*argv, "--out", str(out), *files]) == 2
    assert "at least 20" in capsys.readouterr().err


def test_an_old_checkpoint_loads_and_predicts_as_before(records) -> None:
    model_cache_clear()
    model, meta = load_checkpoint(DEFAULT)
    assert "site_standardised" not in meta["model_kwargs"]
    assert not model.site_standardised and not hasattr(model, "site_center")
    assert "site_calibration" not in meta
    rec = read_recording(records["calib"][0])
    x = torch.from_numpy(np.array(model_windows(rec, meta).windows))
    f = model.raw_features(x)
    before = (
        torch.where(torch.isfinite(f), f, model.fill) - model.center
    ) / model.scale
    torch.testing.assert_close(model.features(x), before)
    assert predict(rec, DEFAULT).analysable
