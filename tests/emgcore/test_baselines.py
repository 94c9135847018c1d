"""Tests for the classic feature + scikit-learn baseline."""

from __future__ import annotations

import numpy as np
import pytest

from emgcore import baselines as B

SFREQ = 1000.0


def _two_class_windows(rng, n_per=40, n_chans=2, n_times=250):
    """Class 0: quiet low-frequency noise; class 1: louder, higher-frequency noise."""
    from scipy.signal import butter, sosfiltfilt

    lo = butter(4, [20, 80], btype="bandpass", fs=SFREQ, output="sos")
    hi = butter(4, [150, 300], btype="bandpass", fs=SFREQ, output="sos")
    noise = rng.standard_normal((2 * n_per, n_chans, n_times))
    w0 = sosfiltfilt(lo, noise[:n_per], axis=-1)
    w1 = 1.5 * sosfiltfilt(hi, noise[n_per:], axis=-1)
    x = np.concatenate([w0, w1])
    y = np.repeat([0, 1], n_per)
    return x, y


@pytest.mark.parametrize("classifier", B.CLASSIFIERS)
def test_classic_classifiers_separate_amplitude_and_frequency(rng, classifier):
    x, y = _two_class_windows(rng)
    xt, yt = _two_class_windows(rng, n_per=20)
    proba = B.fit_predict_classic(x, y, xt, SFREQ, B.ClassicConfig(classifier))
    assert proba.shape == (40, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert np.mean(proba.argmax(1) == yt) >= 0.95


def test_hudgins_lda_separates_frequency_content_alone(rng):
    x, y = _two_class_windows(rng)
    x[y == 1] *= 1 / 1.5 * np.sqrt(80 / 150)  # roughly equalise power
    xt, yt = _two_class_windows(rng, n_per=20)
    xt[yt == 1] *= 1 / 1.5 * np.sqrt(80 / 150)
    proba = B.fit_predict_classic(
        x, y, xt, SFREQ, B.ClassicConfig("lda", feature_set="hudgins")
    )
    assert np.mean(proba.argmax(1) == yt) >= 0.95


def test_random_forest_is_deterministic_with_its_seed(rng):
    x, y = _two_class_windows(rng, n_per=15)
    xt, _ = _two_class_windows(rng, n_per=5)
    x = x + 0.5 * rng.standard_normal(x.shape)  # make it less trivial
    a = B.fit_predict_classic(x, y, xt, SFREQ, B.ClassicConfig("rf"), seed=3)
    b = B.fit_predict_classic(x, y, xt, SFREQ, B.ClassicConfig("rf"), seed=3)
    np.testing.assert_array_equal(a, b)


def test_classes_missing_from_training_get_zero_probability(rng):
    x, y = _two_class_windows(rng, n_per=10)
    y3 = np.where(y == 1, 2, 0)  # classes 0 and 2 of 3; class 1 unseen
    proba = B.fit_predict_classic(
        x, y3, x[:4], SFREQ, B.ClassicConfig("logreg"), n_classes=3
    )
    assert proba.shape == (4, 3)
    np.testing.assert_array_equal(proba[:, 1], 0.0)


def test_classic_features_log_amplitude_only(rng):
    x, _ = _two_class_windows(rng, n_per=3, n_chans=1)
    raw, names = B.classic_features(x, SFREQ, log_amplitude=False)
    logged, _ = B.classic_features(x, SFREQ)
    i_mav, i_zc = names.index("MAV_ch0"), names.index("ZC_ch0")
    np.testing.assert_allclose(logged[:, i_mav], np.log(1e-12 + raw[:, i_mav]))
    np.testing.assert_array_equal(logged[:, i_zc], raw[:, i_zc])


def test_it_rejects_unknown_names_and_single_class_training(rng):
    x, y = _two_class_windows(rng, n_per=5)
    with pytest.raises(ValueError, match="Allowed values"):
        B.make_classic_classifier("svm")
    with pytest.raises(ValueError, match="Allowed values"):
        B.fit_predict_classic(x, y, x, SFREQ, B.ClassicConfig(feature_set="wavelet"))
    with pytest.raises(ValueError, match="two classes"):
        B.fit_predict_classic(x, np.zeros_like(y), x, SFREQ)
    with pytest.raises(ValueError, match="one label per training window"):
        B.fit_predict_classic(x, y[:-1], x, SFREQ)


def test_classic_pipeline_tells_emgdb_recordings_apart(data_dir):
    """Real data: the three emgdb recordings are easy to tell apart (issue 3)."""
    import wfdb

    wins, labels = [], []
    for k, name in enumerate(("healthy", "myopathy", "neuropathy")):
        rec = wfdb.rdrecord(str(data_dir / "physionet-emgdb" / f"emg_{name}"))
        sig = rec.p_signal[:, 0]
        n = 4000  # 1 s windows at 4 kHz, no overlap
        w = sig[: sig.size // n * n].reshape(-1, 1, n)
        wins.append(w)
        labels.append(np.full(len(w), k))
    # Blocked split: first 70 % of each recording trains, the rest tests.
    tr = [w[: int(0.7 * len(w))] for w in wins]
    te = [w[int(0.7 * len(w)) :] for w in wins]
    ytr = np.concatenate([lab[: len(t)] for lab, t in zip(labels, tr, strict=True)])
    yte = np.concatenate([lab[: len(t)] for lab, t in zip(labels, te, strict=True)])
    proba = B.fit_predict_classic(
        np.concatenate(tr), ytr, np.concatenate(te), 4000.0, B.ClassicConfig("lda")
    )
    assert np.mean(proba.argmax(1) == yte) >= 0.9
