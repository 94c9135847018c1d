"""Preprocessing: filters, resampling, mains detection, z-score and windows.

The chunked EMGPreprocessor is tested in test_preprocess_pipeline.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, resample_poly, sosfreqz

from emgcore._spectral import chunked_welch, line_noise, line_noise_from_psd
from emgcore.errors import InvalidRecordingError
from emgcore.preprocess import (
    _polyphase_plan,
    _polyphase_resample,
    _resample_factors,
    bandpass_filter,
    detect_line_frequency,
    make_windows,
    notch_filter,
    resample,
    zscore,
)


def _t(sfreq: float, duration_s: float) -> np.ndarray:
    return np.arange(int(round(sfreq * duration_s))) / sfreq


def _sine(freq: float, sfreq: float, duration_s: float, amp: float = 1.0):
    return (amp * np.sin(2 * np.pi * freq * _t(sfreq, duration_s)))[None, :]


def _amplitude_at(x: np.ndarray, sfreq: float, freq: float) -> float:
    """Amplitude of the sinusoid at ``freq`` (Hann-windowed FFT peak)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    w = np.hanning(x.size)
    spec = np.abs(np.fft.rfft(x * w)) * 2 / w.sum()
    freqs = np.fft.rfftfreq(x.size, 1 / sfreq)
    k = np.argmin(np.abs(freqs - freq))
    return float(spec[max(k - 2, 0) : k + 3].max())


def _db(ratio: float) -> float:
    return 20 * np.log10(ratio)


# --- filters -------------------------------------------------------------


def test_the_notch_attenuates_a_50_hz_sine_by_more_than_20_db():
    sfreq = 1000.0
    x = _sine(50.0, sfreq, 10.0)
    y = notch_filter(x, sfreq, 50.0)
    mid = slice(2000, 8000)  # away from the filter's edge transients
    assert _db(np.std(y[:, mid]) / np.std(x[:, mid])) < -20.0
    # A 100 Hz sine is a harmonic: also removed; 75 Hz passes.
    assert (
        _db(np.std(notch_filter(_sine(100.0, sfreq, 10.0), sfreq, 50.0)[:, mid])) < -20
    )
    kept = notch_filter(_sine(75.0, sfreq, 10.0), sfreq, 50.0)
    assert np.std(kept[:, mid]) == pytest.approx(np.std(_sine(75, sfreq, 10)), rel=0.02)


def test_the_notch_can_leave_harmonics_alone():
    sfreq = 1000.0
    y = notch_filter(_sine(100.0, sfreq, 10.0), sfreq, 50.0, harmonics=False)
    assert np.std(y[:, 2000:8000]) == pytest.approx(np.sqrt(0.5), rel=0.02)


def test_the_bandpass_removes_5_hz_and_480_hz_at_2_khz_and_keeps_100_hz():
    sfreq = 2000.0
    x = (
        _sine(5.0, sfreq, 10.0)
        + _sine(100.0, sfreq, 10.0)
        + _sine(480.0, sfreq, 10.0)
        + _sine(800.0, sfreq, 10.0)
    )
    y = bandpass_filter(x, sfreq, 20.0, 450.0, order=4)
    mid = y[:, 4000:16000]
    assert _db(_amplitude_at(mid, sfreq, 5.0)) < -40.0
    assert _db(_amplitude_at(mid, sfreq, 800.0)) < -40.0
    assert _amplitude_at(mid, sfreq, 100.0) == pytest.approx(1.0, abs=0.02)
    # 480 Hz is only 30 Hz past a 4th-order edge: attenuated by |H(480)|^2
    # (about -9 dB forwards + backwards), as the filter design says.
    sos = butter(4, [20.0, 450.0], btype="bandpass", fs=sfreq, output="sos")
    gain = np.abs(sosfreqz(sos, worN=[480.0], fs=sfreq)[1][0]) ** 2
    assert _amplitude_at(mid, sfreq, 480.0) == pytest.approx(gain, abs=0.02)
    assert _db(gain) < -8.0
    # With the upper edge at 300 Hz the 480 Hz component is gone.
    y300 = bandpass_filter(x, sfreq, 20.0, 300.0, order=4)[:, 4000:16000]
    assert _db(_amplitude_at(y300, sfreq, 480.0)) < -30.0
    np.testing.assert_allclose(
        y300, _sine(100.0, sfreq, 10.0)[:, 4000:16000], atol=0.05
    )


def test_an_upper_band_edge_at_nyquist_gives_a_high_pass():
    sfreq = 1000.0  # the paper's 20-500 Hz PhysioNet band at 1 kHz
    x = _sine(5.0, sfreq, 10.0) + _sine(480.0, sfreq, 10.0)
    y = bandpass_filter(x, sfreq, 20.0, 500.0)
    mid = y[:, 2000:8000]
    assert _db(_amplitude_at(mid, sfreq, 5.0)) < -40.0
    assert _amplitude_at(mid, sfreq, 480.0) == pytest.approx(1.0, abs=0.02)


def test_the_bandpass_rejects_edges_that_do_not_fit_the_rate():
    x = np.zeros((1, 1000))
    with pytest.raises(InvalidRecordingError, match="Nyquist frequency 50 Hz"):
        bandpass_filter(x, 100.0, 60.0, 80.0)
    with pytest.raises(InvalidRecordingError, match="must be below the high edge"):
        bandpass_filter(x, 1000.0, 100.0, 50.0)


def test_filters_keep_float32_and_do_not_modify_their_input(synthetic_emg):
    x = synthetic_emg(sfreq=2000.0, duration_s=3.0, n_chans=2)
    before = x.copy()
    for y in (
        bandpass_filter(x, 2000.0, 20.0, 450.0),
        notch_filter(x, 2000.0, 50.0),
        resample(x, 2000.0, 1000.0),
        zscore(x),
    ):
        assert y.dtype == np.float32
        assert not np.shares_memory(x, y)
    make_windows(x, 2000.0, 1.0, 0.5)
    np.testing.assert_array_equal(x, before)


# --- resampling ----------------------------------------------------------


def test_resampling_4000_to_1000_keeps_a_100_hz_sine():
    x = _sine(100.0, 4000.0, 5.0, amp=2.0)
    y = resample(x, 4000.0, 1000.0)
    assert y.shape == (1, 5000)
    mid = y[:, 500:4500]
    assert _amplitude_at(mid, 1000.0, 100.0) == pytest.approx(2.0, rel=0.01)
    spec = np.abs(np.fft.rfft(mid[0]))
    assert np.fft.rfftfreq(mid.shape[-1], 1 / 1000.0)[np.argmax(spec)] == 100.0
    np.testing.assert_allclose(
        mid, _sine(100.0, 1000.0, 5.0, 2.0)[:, 500:4500], atol=0.01
    )


@pytest.mark.parametrize(
    ("sfreq", "target", "factors", "n_in", "n_out"),
    [
        (23437.5, 1000.0, (16, 375), 262144, 11185),
        (4000.0, 1000.0, (1, 4), 110337, 27585),
        (100.0, 1000.0, (10, 1), 1000, 10000),
        (2000.0, 1000.0, (1, 2), 4001, 2001),
    ],
)
def test_resampling_handles_usual_emg_rates(sfreq, target, factors, n_in, n_out):
    assert _resample_factors(sfreq, target) == factors
    y = resample(np.zeros((2, n_in), dtype=np.float32), sfreq, target)
    assert y.shape == (2, n_out)


def test_resampling_approximates_an_odd_ratio_closely():
    up, down = _resample_factors(1111.11, 1000.0)
    assert abs(1111.11 * up / down / 1000.0 - 1) < 1e-6


def test_resampling_to_the_same_rate_returns_a_copy():
    x = np.ones((1, 10), dtype=np.float32)
    y = resample(x, 1000.0, 1000.0)
    np.testing.assert_array_equal(x, y)
    assert not np.shares_memory(x, y)


@pytest.mark.parametrize(
    ("up", "down"), [(1, 2), (1, 4), (16, 375), (10, 1), (3, 7), (997, 1000)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_matrix_product_resampler_equals_resample_poly(rng, up, down, dtype):
    # Lengths that are not multiples of the block size, and shorter than the
    # filter, exercise the zero padding at both ends.
    for n_times in (1, 37, 4001, 26_214):
        x = rng.standard_normal((3, n_times)).astype(dtype)
        expected = resample_poly(x, up, down, axis=-1)
        y = _polyphase_resample(x, up, down)
        assert y.shape == expected.shape and y.dtype == expected.dtype
        tol = 3e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y, expected, rtol=0, atol=tol)
    # 997/1000 would need ~50x the multiply-adds as matrix products.
    assert (_polyphase_plan(up, down, np.dtype(dtype).str) is None) == (up == 997)


def test_resampling_2_to_1_khz_keeps_100_hz_and_removes_700_hz_by_40_db():
    sfreq = 2000.0
    x = _sine(100.0, sfreq, 10.0) + _sine(700.0, sfreq, 10.0)
    y = resample(x.astype(np.float32), sfreq, 1000.0)
    assert y.shape == (1, 10_000)
    mid = y[:, 1000:9000]
    assert _amplitude_at(mid, 1000.0, 100.0) == pytest.approx(1.0, abs=0.01)
    # 700 Hz folds to 300 Hz at 1 kHz: what is left there must be tiny.
    assert _db(_amplitude_at(mid, 1000.0, 300.0)) < -40.0


def test_line_detection_from_stacked_channel_group_spectra_equals_whole_signal(
    synthetic_emg,
):
    sfreq = 2000.0
    x = synthetic_emg(
        sfreq=sfreq, duration_s=10.0, n_chans=5, line_hz=60.0, line_amp=0.3
    )
    whole = line_noise(x, sfreq)
    freqs, psd_a = chunked_welch(x[:2], sfreq)
    _, psd_b = chunked_welch(x[2:], sfreq)
    grouped = line_noise_from_psd(freqs, np.concatenate([psd_a, psd_b]), sfreq)
    assert whole == grouped
    assert grouped.line_freq_hz == 60.0


# --- mains detection, z-score ---------------------------------------------


@pytest.mark.parametrize("line_hz", [50.0, 60.0, None])
def test_it_detects_the_mains_frequency(synthetic_emg, line_hz):
    x = synthetic_emg(
        sfreq=2000.0, duration_s=10.0, n_chans=2, line_hz=line_hz, line_amp=0.3
    )
    assert detect_line_frequency(x, 2000.0) == line_hz


def test_zscore_gives_zero_mean_unit_std_and_leaves_flat_slices_centred(rng):
    x = rng.normal(3.0, 2.0, size=(2, 5000)).astype(np.float32)
    x[1] = 7.0
    z = zscore(x)
    assert z[0].mean() == pytest.approx(0.0, abs=1e-5)
    assert z[0].std() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(z[1], 0.0)


# --- windows --------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_times", "sfreq", "window_s", "step_s", "n_expected"),
    [
        (10_000, 1000.0, 1.0, 0.5, 19),  # (10000 - 1000) // 500 + 1
        (10_499, 1000.0, 1.0, 0.5, 19),
        (10_500, 1000.0, 1.0, 0.5, 20),
        (1000, 1000.0, 1.0, 0.5, 1),
        (999, 1000.0, 1.0, 0.5, 0),
        (7000, 2000.0, 1.0, 1.0, 3),
        (5000, 1000.0, 0.2, 0.3, 17),  # steps longer than windows leave gaps
    ],
)
def test_window_count_and_starts_follow_the_formula(
    n_times, sfreq, window_s, step_s, n_expected
):
    data = np.arange(2 * n_times, dtype=np.float32).reshape(2, n_times)
    windows, starts = make_windows(data, sfreq, window_s, step_s)
    n_win, step = round(window_s * sfreq), round(step_s * sfreq)
    assert windows.shape == (n_expected, 2, n_win)
    np.testing.assert_array_equal(starts, np.arange(n_expected) * step)
    for i, s in enumerate(starts):
        np.testing.assert_array_equal(windows[i], data[:, s : s + n_win])


def test_windows_are_a_read_only_view_unless_copied():
    data = np.zeros((3, 5000), dtype=np.float32)
    view, _ = make_windows(data, 1000.0, 1.0, 0.5)
    assert np.shares_memory(view, data) and not view.flags.writeable
    copy, _ = make_windows(data, 1000.0, 1.0, 0.5, copy=True)
    assert not np.shares_memory(copy, data) and copy.flags.c_contiguous


def test_windows_shorter_than_a_sample_are_rejected():
    with pytest.raises(InvalidRecordingError, match="shorter than one sample"):
        make_windows(np.zeros((1, 100)), 100.0, 0.001, 0.5)
