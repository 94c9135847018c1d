"""Preprocessing: filters, resampling, windows and the chunked EMGPreprocessor."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import wfdb
from scipy.signal import butter, resample_poly, sosfreqz

from emgcore._spectral import chunked_welch, line_noise, line_noise_from_psd
from emgcore.config import PreprocessConfig
from emgcore.errors import InvalidRecordingError
from emgcore.preprocess import (
    EMGPreprocessor,
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
from emgcore.recording import Recording


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


def _rec(data: np.ndarray, sfreq: float) -> Recording:
    data = np.atleast_2d(np.asarray(data, dtype=np.float32))
    n = data.shape[0]
    return Recording(data, sfreq, tuple(f"ch{i}" for i in range(n)), ("mV",) * n)


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


# --- EMGPreprocessor -------------------------------------------------------


def test_chunked_processing_equals_one_shot(synthetic_emg):
    sfreq = 2000.0
    data = synthetic_emg(
        sfreq=sfreq, duration_s=30.0, n_chans=3, line_hz=50.0, line_amp=0.3
    )
    rec = _rec(data, sfreq)
    for cfg in (
        PreprocessConfig(),
        PreprocessConfig(bandpass_hz=(20.0, 500.0), notch_hz=60.0),
        PreprocessConfig(target_sfreq=None, zscore="window"),
    ):
        one = EMGPreprocessor(cfg, chunk_s=1000.0).transform(rec)
        chunked = EMGPreprocessor(cfg, chunk_s=2.7).transform(rec)  # 12 chunks
        assert chunked.windows.shape == one.windows.shape
        assert chunked.line_freq_hz == one.line_freq_hz
        np.testing.assert_allclose(chunked.signal, one.signal, atol=2e-5)
        np.testing.assert_allclose(chunked.windows, one.windows, atol=2e-5)


def test_the_preprocessor_output_matches_the_pure_functions(synthetic_emg):
    sfreq = 2000.0
    data = synthetic_emg(
        sfreq=sfreq, duration_s=10.0, n_chans=2, line_hz=50.0, line_amp=0.5
    )
    cfg = PreprocessConfig(zscore=None, notch_hz=50.0)
    out = EMGPreprocessor(cfg).transform(_rec(data, sfreq))
    expected = resample(data, sfreq, 1000.0)
    expected = bandpass_filter(expected, 1000.0, 20.0, 450.0, order=4)
    expected = notch_filter(expected, 1000.0, 50.0, max_hz=450.0)
    # The pipeline runs band-pass and notches as one cascade, so only the
    # edges (where each sosfiltfilt pads the signal its own way) may differ.
    mid = slice(3000, 7000)
    np.testing.assert_allclose(out.signal[:, mid], expected[:, mid], atol=1e-4)
    assert out.line_freq_hz == 50.0


def test_auto_notch_removes_detected_mains_and_skips_clean_signals(synthetic_emg):
    sfreq = 2000.0
    noisy = synthetic_emg(
        sfreq=sfreq, duration_s=10.0, n_chans=2, line_hz=60.0, line_amp=1.0
    )
    out = EMGPreprocessor().transform(_rec(noisy, sfreq))
    assert out.line_freq_hz == 60.0
    assert _db(_amplitude_at(out.signal[0, 1000:9000], 1000.0, 60.0)) < -20
    clean = synthetic_emg(sfreq=sfreq, duration_s=10.0, n_chans=2)
    assert EMGPreprocessor().transform(_rec(clean, sfreq)).line_freq_hz is None


def test_windows_carry_times_of_the_original_recording(synthetic_emg):
    sfreq = 4000.0
    rec = _rec(synthetic_emg(sfreq=sfreq, duration_s=5.2, n_chans=2), sfreq)
    out = EMGPreprocessor(PreprocessConfig(window_s=1.0, step_s=0.5)).transform(rec)
    assert out.sfreq == 1000.0
    assert out.windows.dtype == np.float32
    assert out.windows.shape == (9, 2, 1000)  # (5200 - 1000) // 500 + 1
    np.testing.assert_allclose(out.window_starts_s, np.arange(9) * 0.5)
    np.testing.assert_allclose(out.window_stops_s, np.arange(9) * 0.5 + 1.0)
    for i in range(out.n_windows):
        s = int(round(out.window_starts_s[i] * out.sfreq))
        np.testing.assert_array_equal(out.windows[i], out.signal[:, s : s + 1000])


def test_recording_zscore_normalises_each_channel(synthetic_emg):
    data = synthetic_emg(sfreq=2000.0, duration_s=10.0, n_chans=3) * [[1], [10], [100]]
    out = EMGPreprocessor().transform(_rec(data, 2000.0))
    np.testing.assert_allclose(out.signal.mean(axis=1), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.signal.std(axis=1), 1.0, atol=1e-4)


def test_window_zscore_normalises_each_window(synthetic_emg):
    data = synthetic_emg(sfreq=2000.0, duration_s=10.0, n_chans=2)
    out = EMGPreprocessor(PreprocessConfig(zscore="window")).transform(
        _rec(data, 2000.0)
    )
    np.testing.assert_allclose(out.windows.mean(axis=-1), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.windows.std(axis=-1), 1.0, atol=1e-4)
    assert out.windows.flags.writeable


def test_the_preprocessor_does_not_modify_the_recording(synthetic_emg):
    data = synthetic_emg(sfreq=1000.0, duration_s=5.0, n_chans=2)
    rec = _rec(data, 1000.0)
    before = rec.data.copy()
    out = EMGPreprocessor(PreprocessConfig(target_sfreq=None)).transform(rec)
    np.testing.assert_array_equal(rec.data, before)
    assert not np.shares_memory(out.signal, rec.data)


def test_it_replicates_a_single_channel_to_12(synthetic_emg):
    cfg = PreprocessConfig(replicate_to_n_chans=12)
    one = _rec(synthetic_emg(sfreq=4000.0, duration_s=3.0), 4000.0)
    out = EMGPreprocessor(cfg).transform(one)
    assert out.windows.shape == (5, 12, 1000)
    np.testing.assert_array_equal(out.windows[:, 0:1].repeat(12, axis=1), out.windows)
    twelve = _rec(synthetic_emg(sfreq=2000.0, duration_s=3.0, n_chans=12), 2000.0)
    assert EMGPreprocessor(cfg).transform(twelve).windows.shape == (5, 12, 1000)


def test_window_zscore_of_a_replicated_channel_equals_zscoring_the_copies(
    synthetic_emg,
):
    rec = _rec(synthetic_emg(sfreq=4000.0, duration_s=4.0), 4000.0)
    cfg = PreprocessConfig(zscore="window", replicate_to_n_chans=12)
    out = EMGPreprocessor(cfg).transform(rec)
    assert out.windows.shape == (7, 12, 1000)
    raw_windows, _ = make_windows(out.signal, 1000.0, 1.0, 0.5)
    np.testing.assert_array_equal(out.windows, zscore(raw_windows, axis=-1))


def test_it_rejects_channel_counts_it_cannot_replicate(synthetic_emg):
    rec = _rec(synthetic_emg(sfreq=2000.0, duration_s=3.0, n_chans=3), 2000.0)
    with pytest.raises(InvalidRecordingError, match="3 channels, but this model"):
        EMGPreprocessor(PreprocessConfig(replicate_to_n_chans=12)).transform(rec)


def test_it_rejects_a_recording_shorter_than_one_window(synthetic_emg):
    rec = _rec(synthetic_emg(sfreq=2000.0, duration_s=0.8), 2000.0)
    with pytest.raises(InvalidRecordingError, match="shorter than one 1 s"):
        EMGPreprocessor().transform(rec)


def test_it_rejects_a_band_above_the_native_nyquist(synthetic_emg):
    rec = _rec(synthetic_emg(sfreq=100.0, duration_s=5.0), 100.0)
    cfg = PreprocessConfig(target_sfreq=None, bandpass_hz=(60.0, 450.0))
    with pytest.raises(InvalidRecordingError, match="Nyquist frequency 50 Hz"):
        EMGPreprocessor(cfg).transform(rec)


def test_it_accepts_low_rate_recordings_and_upsamples_them(synthetic_emg):
    rec = _rec(synthetic_emg(sfreq=100.0, duration_s=5.0, n_chans=10), 100.0)
    out = EMGPreprocessor().transform(rec)  # NinaPro DB1 rate
    assert out.sfreq == 1000.0
    assert out.windows.shape == (9, 10, 1000)
    assert np.isfinite(out.windows).all()


def test_it_rejects_bad_chunk_sizes():
    with pytest.raises(ValueError, match="'chunk_s' must be a positive number"):
        EMGPreprocessor(chunk_s=0)


@pytest.mark.parametrize("n_jobs", [0, -1, 1.5, True, "2"])
def test_it_rejects_bad_thread_counts(n_jobs):
    with pytest.raises(ValueError, match="'n_jobs' must be a whole number"):
        EMGPreprocessor(n_jobs=n_jobs)


def test_it_uses_at_most_two_threads_by_default():
    assert 1 <= EMGPreprocessor().n_jobs <= 2
    assert EMGPreprocessor(n_jobs=3).n_jobs == 3


def _assert_same_float32(actual, expected):
    """Equal up to the last bits of float32.

    Channels are processed independently, but the resampler's matrix products
    run on channel groups of another shape when threaded, and BLAS may round
    the last bit differently for another shape (seen with OpenBLAS's Haswell
    kernels on an AMD EPYC). A channel in the wrong group or a chunk seam
    would differ by order 1, far above this tolerance.
    """
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


def test_concurrent_transforms_agree_and_give_blas_its_threads_back(synthetic_emg):
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    rec = _rec(synthetic_emg(sfreq=2000.0, duration_s=6.0, n_chans=4), 2000.0)
    serial = EMGPreprocessor(n_jobs=1).transform(rec)
    with ThreadPoolExecutor(3) as pool:  # overlapping enter/exit of the limit
        outs = list(pool.map(lambda _: EMGPreprocessor().transform(rec), range(6)))
    for out in outs:
        _assert_same_float32(out.windows, serial.windows)
    assert blas_threads() == before


@pytest.mark.parametrize("n_chans", [1, 5, 12])
def test_threaded_results_equal_serial_results(synthetic_emg, n_chans):
    sfreq = 2000.0
    data = synthetic_emg(
        sfreq=sfreq, duration_s=12.0, n_chans=n_chans, line_hz=50.0, line_amp=0.3
    )
    rec = _rec(data, sfreq)
    for cfg in (
        PreprocessConfig(),
        PreprocessConfig(zscore="window", notch_hz=60.0),
        PreprocessConfig(target_sfreq=None, notch_hz=None),
    ):
        serial = EMGPreprocessor(cfg, n_jobs=1, chunk_s=5.0).transform(rec)
        for n_jobs in (2, 3):
            threaded = EMGPreprocessor(cfg, n_jobs=n_jobs, chunk_s=5.0).transform(rec)
            assert threaded.line_freq_hz == serial.line_freq_hz
            _assert_same_float32(threaded.signal, serial.signal)
            _assert_same_float32(threaded.windows, serial.windows)
    assert serial.line_freq_hz is None  # the last config never notches


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_memory_stays_bounded_on_a_long_recording(rng, n_jobs):
    sfreq, n_chans, duration_s = 2000.0, 4, 300.0
    data = rng.standard_normal((n_chans, int(sfreq * duration_s)), dtype=np.float32)
    rec = _rec(data, sfreq)
    out_bytes = n_chans * int(1000.0 * duration_s) * 4  # the 1 kHz float32 output
    chunk_s = 20.0
    tracemalloc.start()
    try:
        # Threads each hold a padded chunk of their own channels: same bound.
        EMGPreprocessor(
            PreprocessConfig(notch_hz=50.0), chunk_s=chunk_s, n_jobs=n_jobs
        ).transform(rec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One padded chunk in float64, at the input rate, is the unit of working memory.
    chunk_bytes = n_chans * int(sfreq * (chunk_s + 10.0)) * 8
    assert peak < out_bytes + 8 * chunk_bytes, (peak, out_bytes, chunk_bytes)
    assert peak < 0.5 * (out_bytes + data.nbytes * 2)  # far from whole-signal float64


@pytest.mark.parametrize(
    ("record", "n_times", "n_windows"),
    [("emg_healthy", 50860, 24), ("emg_myopathy", 110337, 54)],
)
def test_a_real_emgdb_record_gives_the_expected_windows(
    data_dir, record, n_times, n_windows
):
    rec = wfdb.rdrecord(str(data_dir / "physionet-emgdb" / record))
    assert rec.sig_len == n_times
    recording = _rec(rec.p_signal.T, rec.fs)
    cfg = PreprocessConfig(bandpass_hz=(20.0, 500.0), replicate_to_n_chans=12)
    out = EMGPreprocessor(cfg).transform(recording)
    # ceil(n_times / 4) samples at 1 kHz; (n - 1000) // 500 + 1 windows.
    n_out = -(-n_times // 4)
    assert out.signal.shape == (12, n_out)
    assert out.windows.shape == (n_windows, 12, 1000)
    assert n_windows == (n_out - 1000) // 500 + 1
    assert np.isfinite(out.windows).all()
    assert out.window_stops_s[-1] <= n_times / 4000.0


def test_a_real_n2001_record_resamples_from_23437_5_hz(data_dir):
    counts = np.fromfile(data_dir / "emglab-n2001" / "N2001A01BB01.bin", dtype="<i2")
    rec = _rec(counts, 23437.5)
    out = EMGPreprocessor().transform(rec)
    assert out.sfreq == 1000.0
    assert out.signal.shape == (1, 11185)  # ceil(262144 * 16 / 375)
    assert out.windows.shape == (21, 1, 1000)
    chunked = EMGPreprocessor(chunk_s=1.7).transform(rec)  # 7 chunks, 16/375
    np.testing.assert_allclose(chunked.signal, out.signal, atol=2e-5)


def test_auto_notch_only_touches_the_harmonics_that_are_present(synthetic_emg):
    sfreq = 2000.0
    data = synthetic_emg(
        sfreq=sfreq, duration_s=10.0, n_chans=2, line_hz=50.0, line_amp=0.5
    )
    out = EMGPreprocessor(PreprocessConfig(zscore=None)).transform(_rec(data, sfreq))
    expected = resample(data, sfreq, 1000.0)
    expected = bandpass_filter(expected, 1000.0, 20.0, 450.0)
    expected = notch_filter(expected, 1000.0, 50.0, harmonics=False)
    mid = slice(3000, 7000)
    np.testing.assert_allclose(out.signal[:, mid], expected[:, mid], atol=1e-4)

    t = _t(sfreq, 10.0)
    with_third = data + (0.5 * np.sin(2 * np.pi * 150.0 * t)).astype(np.float32)
    out3 = EMGPreprocessor(PreprocessConfig(zscore=None)).transform(
        _rec(with_third, sfreq)
    )
    before = _amplitude_at(resample(with_third, sfreq, 1000.0)[0, mid], 1000.0, 150.0)
    after = _amplitude_at(out3.signal[0, mid], 1000.0, 150.0)
    assert _db(after / before) < -20.0
