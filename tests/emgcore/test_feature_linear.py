"""The shipped window-feature model: features, the sklearn copy, units at inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emgcore import Recording
from emgcore.checkpoint import load_checkpoint, save_checkpoint
from emgcore.config import PreprocessConfig
from emgcore.inference import NOT_ANALYSABLE, model_cache_clear, predict
from emgcore.models import FeatureLinear, build_model
from emgcore.models.feature_linear import feature_names, window_features

FS = 4000.0


def _emg(rng, seconds: float, uv: float) -> np.ndarray:
    """Band-limited noise with sparse spikes, about ``uv`` microvolts RMS."""
    n = int(seconds * FS)
    x = rng.normal(0.0, 1.0, n)
    x = np.convolve(x, np.hanning(9), mode="same")
    spikes = rng.random(n) < 0.002
    x[spikes] += rng.choice([-8.0, 8.0], spikes.sum())
    return (x / x.std() * uv).astype(np.float32)


def test_a_window_is_described_by_percentiles_over_its_sub_windows(rng) -> None:
    quiet, loud = _emg(rng, 1.0, 20.0), _emg(rng, 1.0, 400.0)
    window = np.concatenate([quiet, loud])[None, None, :]
    f = window_features(window, FS, int(0.25 * FS))
    names = feature_names()
    assert f.shape == (1, len(names)) == (1, 33)
    rms = {q: f[0, names.index(f"RMS_p{q}")] for q in (10, 50, 90)}
    # log10 of uV: the quiet half near 1.3, the loud half near 2.6
    assert rms[10] < 1.6 < 2.3 < rms[90]
    # One sub-window (window = sub-window): the three percentiles coincide.
    g = window_features(loud[None, None, :1000], FS, 1000)
    assert g[0, names.index("RMS_p10")] == pytest.approx(g[0, names.index("RMS_p90")])


def _fitted_model(rng) -> FeatureLinear:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    windows, y = [], []
    for label, uv in enumerate((50.0, 15.0, 600.0)):  # healthy, myopathy, neuropathy
        for _ in range(12):
            windows.append(_emg(rng, 1.0, uv * rng.uniform(0.7, 1.4)))
            y.append(label)
    X = np.stack(windows)[:, None, :]
    model = FeatureLinear(n_times=X.shape[-1], sfreq=FS, sub_window_s=0.25)
    feats = window_features(X, FS, model.sub_n_times)
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=1.0))
    pipe.fit(feats, np.array(y))
    model.set_from_sklearn(pipe)
    with torch.no_grad():
        p = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(p, pipe.predict_proba(feats), atol=1e-5)
    return model


def _checkpoint(model: FeatureLinear, path):
    config = PreprocessConfig(
        target_sfreq=FS,
        bandpass_hz=(20.0, 1800.0),
        notch_hz=50.0,
        zscore=None,
        window_s=1.0,
        step_s=0.5,
    )
    save_checkpoint(
        path,
        model,
        {
            "class_names": ["healthy", "myopathy", "neuropathy"],
            "preprocess": config.to_dict(),
            "metrics": {"temperature": 1.0},
            "min_confidence": 0.5,
        },
    )
    return path


def test_the_checkpoint_round_trips_and_the_registry_builds_it(rng, tmp_path) -> None:
    model = _fitted_model(rng)
    path = _checkpoint(model, tmp_path / "fl.pt")
    loaded, meta = load_checkpoint(path)
    assert meta["model_name"] == "feature_linear"
    assert meta["model_kwargs"]["input_units"] == "uV"
    x = torch.from_numpy(_emg(rng, 1.0, 80.0)[None, None, :])
    torch.testing.assert_close(loaded(x), model(x))
    assert isinstance(
        build_model("feature_linear", n_times=4000, sfreq=FS), FeatureLinear
    )


def test_inference_reads_amplitude_in_microvolts_whatever_the_files_unit(
    rng, tmp_path
) -> None:
    model_cache_clear()
    path = _checkpoint(_fitted_model(rng), tmp_path / "fl.pt")
    x_uv = _emg(rng, 6.0, 600.0)
    in_uv = Recording(data=x_uv[None, :], sfreq=FS, ch_names=("ch",), units=("uV",))
    in_mv = Recording(
        data=(x_uv / 1000.0)[None, :], sfreq=FS, ch_names=("ch",), units=("mV",)
    )
    a, b = predict(in_uv, path), predict(in_mv, path)
    assert a.analysable and a.label == "neuropathy"
    for c in a.probabilities:
        assert b.probabilities[c] == pytest.approx(a.probabilities[c], abs=1e-4)
    # Counts without a gain: amplitude would be read as uV, so it is refused.
    raw = Recording(data=x_uv[None, :], sfreq=FS, ch_names=("ch",), units=("adu",))
    c = predict(raw, path)
    assert c.label == NOT_ANALYSABLE and c.probabilities is None
    assert [r["code"] for r in c.gate["reasons"]] == ["units"]
    assert "physical units" in c.gate["message"]
