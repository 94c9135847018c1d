"""The chunked EMGPreprocessor: equivalence, options, threads, memory, real records."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import wfdb

from emgcore.config import PreprocessConfig
from emgcore.errors import InvalidRecordingError
from emgcore.preprocess import (
    EMGPreprocessor,
    bandpass_filter,
    make_windows,
    notch_filter,
    resample,
    zscore,
)
from emgcore.recording import Recording
from tests.emgcore.test_preprocess import _amplitude_at, _db, _t


def _rec(data: np.ndarray, sfreq: float) -> Recording:
    data = np.atleast_2d(np.asarray(data, dtype=np.float32))
    n = data.shape[0]
    return Recording(data, sfreq, tuple(f"ch{i}" for i in range(n)), ("mV",) * n)


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
