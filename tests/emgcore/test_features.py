"""Tests for emgcore.features: known answers on synthetic signals and real emgdb."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emgcore import features as F
from emgcore.errors import InvalidRecordingError

SFREQ = 2000.0


def _sine(freq_hz: float, amp: float, duration_s: float, sfreq: float = SFREQ):
    t = np.arange(int(round(duration_s * sfreq))) / sfreq
    return amp * np.sin(2 * np.pi * freq_hz * t + 0.3)


def _read_emgdb(data_dir, name):
    import wfdb

    rec = wfdb.rdrecord(str(data_dir / "physionet-emgdb" / f"emg_{name}"))
    return rec.p_signal[:, 0], float(rec.fs), rec.units[0]


# A small example computed by hand:
# x = [1, -2, 3, 3, -1]
# MAV = 10/5 = 2, RMS = sqrt(24/5), WL = 3+5+0+4 = 12,
# ZC (thr 0): (1,-2) (-2,3) (3,-1) -> 3; ZC (thr 4.5): only the step of 5 -> 1,
# SSC (thr 0): i=1 product 15 > 0; i=2 and i=3 products 0 -> 1; SSC (thr 20) -> 0,
# turns (thr 2): trough -2 and peak 3 -> 2; turns (thr 4.5): 0.
HAND = np.array([[[1.0, -2.0, 3.0, 3.0, -1.0]]])


def test_it_matches_hand_computed_time_domain_features():
    assert F.mav(HAND)[0, 0] == pytest.approx(2.0)
    assert F.rms(HAND)[0, 0] == pytest.approx(np.sqrt(24 / 5))
    assert F.wl(HAND)[0, 0] == pytest.approx(12.0)
    assert F.zc(HAND)[0, 0] == 3
    assert F.zc(HAND, threshold=4.5)[0, 0] == 1
    assert F.ssc(HAND)[0, 0] == 1
    assert F.ssc(HAND, threshold=20.0)[0, 0] == 0
    assert F.turns(HAND, threshold=2.0)[0, 0] == 2
    assert F.turns(HAND, threshold=4.5)[0, 0] == 0


def test_mav_of_a_constant_is_that_constant():
    w = np.full((3, 2, 100), -0.7)
    np.testing.assert_allclose(F.mav(w), 0.7)
    np.testing.assert_allclose(F.mav(np.full((1, 1, 50), 2.5)), 2.5)


def test_rms_of_a_sine_is_amplitude_over_sqrt2():
    amp = 3.0
    w = _sine(50.0, amp, 1.0)[None, None]  # an integer number of periods
    assert F.rms(w)[0, 0] == pytest.approx(amp / np.sqrt(2), rel=1e-6)


def test_zero_crossings_of_a_sine_are_two_per_period():
    f, dur = 37.0, 2.0
    w = _sine(f, 1.0, dur)[None, None]
    assert abs(F.zc(w)[0, 0] - 2 * f * dur) <= 1


def test_zc_threshold_ignores_small_crossings():
    w = _sine(37.0, 0.01, 1.0)[None, None]
    assert F.zc(w)[0, 0] > 60
    assert F.zc(w, threshold=0.1)[0, 0] == 0


def test_mnf_and_mdf_of_a_100_hz_sine_are_100_hz():
    w = _sine(100.0, 1.0, 1.0)[None, None]
    assert F.mnf(w, SFREQ)[0, 0] == pytest.approx(100.0, abs=1.0)
    assert F.mdf(w, SFREQ)[0, 0] == pytest.approx(100.0, abs=1.0)
    # and a sum of two sines: MNF between them, the power-weighted mean
    two = (_sine(100.0, 1.0, 1.0) + _sine(300.0, 1.0, 1.0))[None, None]
    assert F.mnf(two, SFREQ)[0, 0] == pytest.approx(200.0, abs=2.0)


def test_mdf_splits_power_in_half_for_band_limited_noise(rng):
    from scipy.signal import butter, sosfiltfilt

    noise = rng.standard_normal(20000)
    sos = butter(6, [100, 300], btype="bandpass", fs=SFREQ, output="sos")
    x = sosfiltfilt(sos, noise)
    assert 170 < F.mdf(x[None, None], SFREQ)[0, 0] < 230


def test_spectral_features_are_zero_for_a_constant_window():
    w = np.ones((1, 1, 256))
    assert F.mnf(w, SFREQ)[0, 0] == 0
    assert F.mdf(w, SFREQ)[0, 0] == 0


def test_waveform_length_of_a_ramp_is_its_rise():
    w = np.linspace(0.0, 5.0, 101)[None, None]
    assert F.wl(w)[0, 0] == pytest.approx(5.0)
    assert F.ssc(w)[0, 0] == 0
    assert F.zc(w)[0, 0] == 0


def test_ssc_counts_every_peak_and_trough_of_a_zigzag():
    zigzag = np.tile([0.0, 1.0], 50)  # 100 samples, 98 interior extrema
    assert F.ssc(zigzag[None, None])[0, 0] == 98
    assert F.ssc(zigzag[None, None], threshold=1.0)[0, 0] == 0


def test_turns_count_sine_peaks_above_threshold_only():
    f, dur = 20.0, 1.0
    big = _sine(f, 0.5, dur)[None, None]  # mV: 1000 uV peak-to-peak
    small = _sine(f, 0.04, dur)[None, None]  # 80 uV peak-to-peak
    assert abs(F.turns(big, 0.1)[0, 0] - 2 * f * dur) <= 2
    assert F.turns(small, 0.1)[0, 0] == 0
    with pytest.raises(ValueError, match="threshold"):
        F.turns(big, 0.0)


def test_turns_ignore_ripples_smaller_than_the_threshold(rng):
    slow = _sine(5.0, 1.0, 1.0)
    ripple = 0.01 * rng.standard_normal(slow.size)
    assert F.turns((slow + ripple)[None, None], 0.1)[0, 0] == pytest.approx(10, abs=1)
    assert F.ssc((slow + ripple)[None, None])[0, 0] > 100


def test_features_have_window_by_channel_shape(synthetic_emg):
    x = synthetic_emg(sfreq=SFREQ, duration_s=1.0, n_chans=3)
    w = x[:, :1800].reshape(3, 6, 300).transpose(1, 0, 2)  # (6 windows, 3 ch, 300)
    for fn in (F.mav, F.rms, F.wl, F.zc, F.ssc, F.turns):
        assert fn(w).shape == (6, 3)
    assert F.mnf(w, SFREQ).shape == (6, 3)
    assert F.mdf(w, SFREQ).shape == (6, 3)


def test_extract_features_stacks_feature_major_with_names(synthetic_emg):
    x = synthetic_emg(sfreq=SFREQ, duration_s=1.0, n_chans=2)
    w = np.stack([x[:, :500], x[:, 500:1000]])
    feats, names = F.extract_features(w, SFREQ)
    assert feats.shape == (2, 2 * 7)
    assert names[:3] == ["MAV_ch0", "MAV_ch1", "RMS_ch0"]
    np.testing.assert_allclose(feats[:, 0:2], F.mav(w))
    np.testing.assert_allclose(feats[:, 12:14], F.mdf(w, SFREQ))
    hud, hnames = F.extract_features(w, SFREQ, F.HUDGINS_FEATURES, ch_names=["a", "b"])
    assert hnames == [f"{f}_{c}" for f in ("MAV", "ZC", "SSC", "WL") for c in "ab"]
    assert hud.shape == (2, 8)


def test_extract_features_rejects_bad_input():
    w = np.zeros((2, 1, 100))
    with pytest.raises(ValueError, match="Allowed values"):
        F.extract_features(w, SFREQ, ["MAV", "FOO"])
    with pytest.raises(InvalidRecordingError, match="n_windows, n_chans, n_times"):
        F.extract_features(np.zeros((1, 100)), SFREQ)
    with pytest.raises(InvalidRecordingError, match="Sampling rate"):
        F.extract_features(w, 1.0)
    bad = w.copy()
    bad[0, 0, 5] = np.nan
    with pytest.raises(InvalidRecordingError, match="NaN"):
        F.mav(bad)


def test_features_do_not_change_their_input(synthetic_emg):
    w = synthetic_emg(sfreq=SFREQ, duration_s=0.5, n_chans=2)[None]
    before = w.copy()
    F.extract_features(w, SFREQ, F.FEATURE_NAMES)
    np.testing.assert_array_equal(w, before)


def test_muap_estimates_find_synthetic_spikes(rng):
    sfreq = 10000.0
    x = 0.005 * rng.standard_normal(int(2 * sfreq))  # mV noise
    # a biphasic 1 mV peak-to-peak, ~4 ms potential every 100 ms
    t = np.arange(int(0.004 * sfreq)) / sfreq
    spike = 0.5 * np.sin(2 * np.pi * t / 0.004)
    for start in range(1000, x.size - 100, 1000):
        x[start : start + spike.size] += spike
    est = F.muap_estimates(x, sfreq, unit="mV")
    assert est["reason"] is None
    assert 15 <= est["n_spikes"] <= 40  # one or two lobes detected per potential
    assert est["amplitude_pp_median"] == pytest.approx(1000, rel=0.1)  # uV
    assert est["amplitude_unit"] == "uV"
    assert 2.0 < est["duration_ms_median"] < 6.0


def test_muap_estimates_say_why_they_are_missing(rng):
    noise = rng.standard_normal(4000)
    est = F.muap_estimates(noise, 4000.0)
    assert est["amplitude_pp_median"] is None and "spike" in est["reason"]
    low = F.muap_estimates(noise, 200.0)
    assert low["duration_ms_median"] is None and "200 Hz" in low["reason"]


def test_recording_summary_converts_units_for_turns(rng):
    x_mv = _sine(30.0, 0.5, 2.0) + 0.01 * rng.standard_normal(4000)
    in_mv = F.recording_summary_features(x_mv, SFREQ, unit="mV")
    in_v = F.recording_summary_features(x_mv * 1e-3, SFREQ, unit="V")
    assert in_mv["turns_per_s"] == pytest.approx(60, abs=2)
    assert in_v["turns_per_s"] == in_mv["turns_per_s"]
    assert in_mv["zc_per_s"] == pytest.approx(60, abs=15)  # noise adds a few
    assert in_mv["mnf_hz"] == pytest.approx(30, abs=20)
    counts = F.recording_summary_features(x_mv, SFREQ, unit="counts")
    assert counts["turns_per_s"] is None and counts["notes"]


def test_recording_summary_of_real_emgdb_is_json_and_clinically_plausible(data_dir):
    summaries = {}
    for name in ("healthy", "neuropathy"):
        x, fs, unit = _read_emgdb(data_dir, name)
        summaries[name] = json.loads(
            json.dumps(F.recording_summary_features(x, fs, unit=unit))
        )
    neuro, healthy = summaries["neuropathy"], summaries["healthy"]
    # Neuropathy (reinnervation) gives large motor unit potentials.
    assert neuro["muap"]["reason"] is None
    amp_n = neuro["muap"]["amplitude_pp_median"]
    assert amp_n > 2 * healthy["muap"]["amplitude_pp_median"]
    assert 0 < healthy["mdf_hz"] < healthy["mnf_hz"] < 2000
    assert neuro["turns_per_s"] > 0 and neuro["rms"] > healthy["rms"]
