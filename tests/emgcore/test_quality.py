"""Signal-quality report: synthetic signals with known answers and real records."""

from __future__ import annotations

import json

import numpy as np
import pytest
import wfdb

from emgcore.quality import assess_quality
from emgcore.recording import Recording


def _rec(data: np.ndarray, sfreq: float) -> Recording:
    data = np.atleast_2d(np.asarray(data, dtype=np.float32))
    n = data.shape[0]
    return Recording(data, sfreq, tuple(f"ch{i}" for i in range(n)), ("mV",) * n)


def _sine(freq: float, sfreq: float, duration_s: float) -> np.ndarray:
    t = np.arange(int(round(sfreq * duration_s))) / sfreq
    return np.sin(2 * np.pi * freq * t)


def test_it_measures_the_clipped_fraction_of_a_clipped_sine():
    x = _sine(7.0, 2000.0, 10.0)
    expected = float(np.mean(np.abs(x) >= 0.8))
    report = assess_quality(_rec(np.clip(x, -0.8, 0.8), 2000.0))
    assert report["clipping_fraction"] == pytest.approx(expected, abs=0.002)
    assert report["clipping_fraction_per_chan"] == [report["clipping_fraction"]]
    assert any("clipped" in w for w in report["warnings"])


def test_it_does_not_call_single_peak_samples_clipping(synthetic_emg):
    report = assess_quality(_rec(_sine(7.0, 2000.0, 10.0), 2000.0))
    assert report["clipping_fraction"] == 0.0
    report = assess_quality(_rec(synthetic_emg(sfreq=2000.0, duration_s=5.0), 2000.0))
    assert report["clipping_fraction"] < 1e-3
    assert report["warnings"] == []


@pytest.mark.parametrize("chunk_samples", [1_000_000, 777])
def test_it_finds_an_inserted_flat_run_with_its_start_and_duration(
    synthetic_emg, chunk_samples
):
    sfreq = 2000.0
    data = synthetic_emg(sfreq=sfreq, duration_s=10.0, n_chans=3)
    data[1, 4000:5000] = 0.25  # 2.0 s in, 0.5 s long
    report = assess_quality(_rec(data, sfreq), chunk_samples=chunk_samples)
    assert report["flat_segments"] == [
        {"channel": 1, "start_s": 2.0, "duration_s": 0.5}
    ]
    assert report["flat_fraction_per_chan"] == pytest.approx([0.0, 0.05, 0.0])
    assert report["flat_fraction"] == pytest.approx(0.05 / 3)
    assert any("flat" in w for w in report["warnings"])


def test_it_ignores_flat_runs_shorter_than_a_tenth_of_a_second(synthetic_emg):
    data = synthetic_emg(sfreq=2000.0, duration_s=5.0)
    data[0, 1000:1100] = 0.0  # 50 ms
    report = assess_quality(_rec(data, 2000.0))
    assert report["flat_segments"] == []
    assert report["flat_fraction"] == 0.0


def test_it_reports_a_constant_channel_as_flat_not_clipped():
    report = assess_quality(_rec(np.full((1, 3000), 1.5), 1000.0))
    assert report["flat_fraction"] == 1.0
    assert report["clipping_fraction"] == 0.0
    assert report["flat_segments"] == [
        {"channel": 0, "start_s": 0.0, "duration_s": 3.0}
    ]


@pytest.mark.parametrize("line_hz", [50.0, 60.0])
def test_it_detects_mains_frequency_and_a_high_line_ratio(synthetic_emg, line_hz):
    data = synthetic_emg(
        sfreq=2000.0, duration_s=10.0, n_chans=2, line_hz=line_hz, line_amp=0.5
    )
    report = assess_quality(_rec(data, 2000.0))
    assert report["line_freq_hz"] == line_hz
    assert report["line_noise_ratio"] > 0.2
    assert any(f"{line_hz:g} Hz" in w for w in report["warnings"])


def test_it_reports_no_mains_line_on_clean_emg(synthetic_emg):
    data = synthetic_emg(sfreq=2000.0, duration_s=10.0, n_chans=2)
    report = assess_quality(_rec(data, 2000.0))
    assert report["line_freq_hz"] is None
    assert report["line_noise_ratio"] < 0.1


def test_it_copes_with_a_rate_too_low_to_see_mains(synthetic_emg):
    data = synthetic_emg(sfreq=100.0, duration_s=20.0)
    report = assess_quality(_rec(data, 100.0))
    assert report["line_freq_hz"] is None


def test_it_flags_a_recording_shorter_than_one_window(synthetic_emg):
    data = synthetic_emg(sfreq=1000.0, duration_s=0.5)
    report = assess_quality(_rec(data, 1000.0), window_s=1.0)
    assert report["duration_s"] == 0.5
    assert report["long_enough_for_window"] is False
    assert any("shorter than one 1 s" in w for w in report["warnings"])
    assert report["line_noise_assessed"] is False
    assert report["line_noise_ratio"] == 0.0
    assert assess_quality(_rec(data, 1000.0), window_s=0.5)["long_enough_for_window"]


def test_it_handles_a_recording_of_a_few_samples():
    report = assess_quality(_rec(np.arange(6.0).reshape(2, 3), 1000.0))
    assert report["n_times"] == 3
    assert report["line_freq_hz"] is None
    assert report["clipping_fraction"] == 0.0


def test_the_report_is_strict_json(synthetic_emg):
    data = synthetic_emg(sfreq=2000.0, duration_s=3.0, n_chans=2)
    data[0, :] = 0.0
    report = assess_quality(_rec(data, 2000.0))
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_it_lists_at_most_a_bounded_number_of_flat_segments():
    x = np.zeros((1, 200 * 300), dtype=np.float32)
    x[0, ::300] = 1.0  # 200 flat stretches of 299 samples (0.299 s) each
    report = assess_quality(_rec(x, 1000.0))
    assert len(report["flat_segments"]) == 100
    assert report["flat_segments_truncated"] is True
    assert report["flat_fraction"] > 0.99


def test_it_rates_real_emgdb_records_as_clean(data_dir):
    rec = wfdb.rdrecord(str(data_dir / "physionet-emgdb" / "emg_healthy"))
    report = assess_quality(_rec(rec.p_signal.T, rec.fs))
    assert report["duration_s"] == pytest.approx(50860 / 4000)
    assert report["long_enough_for_window"] is True
    assert report["clipping_fraction"] == 0.0
    assert report["flat_segments"] == []
    assert report["line_freq_hz"] is None
    assert report["warnings"] == []


def test_it_rates_a_real_n2001_record(data_dir):
    path = data_dir / "emglab-n2001" / "N2001A01BB01.bin"
    counts = np.fromfile(path, dtype="<i2").astype(np.float32)
    report = assess_quality(_rec(counts, 23437.5))
    assert report["duration_s"] == pytest.approx(262144 / 23437.5)
    assert report["flat_fraction"] == 0.0  # PROVENANCE: no file is flat
    assert report["clipping_fraction"] < 0.01


@pytest.mark.parametrize(("sfreq", "n_times"), [(1000.0, 30001), (23437.5, 120000)])
def test_the_chunked_welch_spectrum_equals_scipy_welch(rng, sfreq, n_times):
    from scipy.signal import welch

    from emgcore._spectral import chunked_welch

    x = rng.standard_normal((3, n_times)).astype(np.float32) + 5.0
    freqs, psd = chunked_welch(x, sfreq, chunk_s=1.3)  # many chunks
    nperseg = min(int(round(sfreq / 0.5)), n_times // 2)
    ref_f, ref_psd = welch(x, fs=sfreq, nperseg=nperseg, axis=-1)
    np.testing.assert_allclose(freqs, ref_f)
    # float32 FFTs here, float64 in scipy: equal to 1e-4 of the typical level.
    np.testing.assert_allclose(psd, ref_psd, rtol=1e-4, atol=1e-4 * np.median(ref_psd))


def test_it_lists_the_mains_harmonics_that_stand_out(synthetic_emg):
    from emgcore._spectral import line_noise

    sfreq = 2000.0
    x = synthetic_emg(
        sfreq=sfreq, duration_s=10.0, n_chans=2, line_hz=50.0, line_amp=0.5
    )
    t = np.arange(x.shape[-1]) / sfreq
    x = x + (0.3 * np.sin(2 * np.pi * 150.0 * t)).astype(np.float32)
    noise = line_noise(x, sfreq)
    assert noise.line_freq_hz == 50.0
    assert noise.harmonics_hz == [50.0, 150.0]


def test_the_floor_of_a_rectified_signal_is_not_clipping(rng):
    x = np.maximum(np.abs(rng.standard_normal(20_000)) - 1.0, 0.0)  # mostly 0
    report = assess_quality(_rec(x, 1000.0))
    assert np.mean(x == 0) > 0.5
    assert report["clipping_fraction"] == 0.0


def test_it_counts_clipping_at_one_rail_only(rng):
    x = _sine(7.0, 2000.0, 10.0) + 0.01 * rng.standard_normal(20_000)
    clipped = np.minimum(x, 0.9)
    report = assess_quality(_rec(clipped, 2000.0))
    # Noise makes a few isolated rail samples (runs < MIN_CLIP_RUN) at the edges.
    assert report["clipping_fraction"] == pytest.approx(np.mean(x >= 0.9), abs=0.005)


def test_it_rates_a_real_ninapro_db1_envelope_recording(data_dir):
    from scipy.io import loadmat

    emg = loadmat(data_dir / "ninapro-db1-e1" / "S10_A1_E1.mat")["emg"].T
    report = assess_quality(_rec(emg, 100.0))
    assert report["duration_s"] == pytest.approx(emg.shape[1] / 100.0)
    assert report["clipping_fraction"] == 0.0  # resting floor, not saturation
    assert report["flat_fraction"] > 0.1  # rests on one quantisation step
    assert report["line_freq_hz"] is None  # 50 Hz is Nyquist at 100 Hz
    assert any("resolution" in w for w in report["warnings"])
