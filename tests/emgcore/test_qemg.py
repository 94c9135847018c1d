"""Quantitative EMG on synthetic MUAP trains with known shape, and on real records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emgcore.errors import InvalidRecordingError
from emgcore.qemg import QEMG_FS, analyse, measure_muap


def muap_shape(fs: float, duration_ms: float, phases: int, ptp_uv: float):
    """A MUAP of ``phases`` alternating Gaussian lobes spanning ``duration_ms``.

    Lobe spacing d = duration / phases, width sd = d / 5 (a main spike of a few
    hundred Hz, like a fibre near the needle; the outer lobes are smaller).
    """
    n = int(round(duration_ms * fs / 1000))
    t = np.arange(n) / fs * 1000
    d = duration_ms / phases
    w = np.zeros(n)
    for i in range(phases):
        c = (i + 0.5) * d
        weight = np.sin(np.pi * c / duration_ms) ** 0.5
        w += (-1) ** i * weight * np.exp(-0.5 * ((t - c) / (d / 5)) ** 2)
    return w * ptp_uv / np.ptp(w)


def muap_train(rng, fs, units, seconds=8.0, noise_uv=4.0):
    """Units = [(duration_ms, phases, ptp_uv, rate_hz)], firing with 10 % jitter."""
    n = int(seconds * fs)
    x = noise_uv * rng.standard_normal(n)
    for duration, phases, ptp, rate in units:
        w = muap_shape(fs, duration, phases, ptp)
        t = rng.uniform(0.02, 0.1)
        while t < seconds - 0.05:
            i = int(t * fs)
            x[i : i + w.size] += w
            t += rng.normal(1 / rate, 0.1 / rate)
    return x


@pytest.mark.parametrize("fs", [23437.5, 32768.0, 10000.0])
def test_it_recovers_amplitude_duration_and_phases_of_one_unit(rng, fs) -> None:
    x = muap_train(rng, fs, [(8.0, 3, 600.0, 11.0)])
    res = analyse(x, fs, line_hz=None)
    assert len(res.muaps) >= 1
    m = max(res.muaps, key=lambda m: m.n_firings)
    assert m.amplitude_uv == pytest.approx(600.0, rel=0.12)
    assert m.phases == 3
    assert 6.0 <= m.duration_ms <= 10.0
    assert m.n_firings >= 0.8 * 8 * 11
    assert m.firing_rate_hz == pytest.approx(m.n_firings / 8.0, rel=0.05)
    # Thickness = area / amplitude, size index per Sonoo & Stålberg.
    assert m.thickness_ms == pytest.approx(m.area_uv_ms / m.amplitude_uv)
    assert m.size_index == pytest.approx(
        2 * np.log10(m.amplitude_uv / 1000) + m.thickness_ms
    )
    assert res.settings["analysis_fs_hz"] == QEMG_FS


def test_it_separates_a_small_biphasic_and_a_large_polyphasic_unit(rng) -> None:
    fs = 23437.5
    x = muap_train(rng, fs, [(4.0, 2, 400.0, 9.0), (14.0, 7, 1500.0, 13.0)])
    res = analyse(x, fs, line_hz=None)
    big = [m for m in res.muaps if m.amplitude_uv > 1000]
    small = [m for m in res.muaps if 250 < m.amplitude_uv < 600]
    assert big and small
    b = max(big, key=lambda m: m.n_firings)
    s = max(small, key=lambda m: m.n_firings)
    assert b.phases == 7 and s.phases == 2
    assert b.duration_ms > s.duration_ms + 4
    assert b.turns >= 6
    assert 0 < res.summary["frac_polyphasic"] < 1
    assert res.summary["muap_count"] == len(res.muaps)


def test_measure_muap_counts_phases_of_a_clean_template() -> None:
    for phases in (2, 3, 4, 5, 6):
        w = np.zeros(int(0.025 * QEMG_FS))
        shape = muap_shape(QEMG_FS, 10.0, phases, 800.0)
        w[100 : 100 + shape.size] = shape
        m = measure_muap(w, 10, 5.0)
        assert m.phases == phases
        assert m.amplitude_uv == pytest.approx(800.0, rel=0.01)
        assert 8.0 <= m.duration_ms <= 10.5


def test_it_notches_mains_and_reports_the_interference_pattern(rng) -> None:
    fs = 32768.0
    x = muap_train(rng, fs, [(8.0, 3, 500.0, 10.0)])
    t = np.arange(x.size) / fs
    mains = x + 2000 * np.sin(2 * np.pi * 50 * t)
    clean = analyse(x, fs, line_hz=None)
    dirty = analyse(mains, fs, line_hz="auto")
    assert dirty.settings["notch_hz"] == 50.0
    assert dirty.summary["env_rms_median_uv"] == pytest.approx(
        clean.summary["env_rms_median_uv"], rel=0.2
    )
    assert clean.summary["ip_turns_per_s"] > 0


def test_it_refuses_rates_and_lengths_it_cannot_analyse(rng) -> None:
    with pytest.raises(InvalidRecordingError, match="4-50 kHz"):
        analyse(rng.standard_normal(10000), 2000.0)
    with pytest.raises(InvalidRecordingError, match="at least 1 s"):
        analyse(rng.standard_normal(1000), 20000.0)
    x = rng.standard_normal(30000)
    x[5] = np.nan
    with pytest.raises(InvalidRecordingError, match="NaN"):
        analyse(x, 20000.0)


def test_it_finds_muaps_in_real_records_of_both_sites(data_dir: Path) -> None:
    from emgcore.datasets.clinical import clinical_records

    recs = {r.record: r for r in clinical_records(data_dir)}
    for name in ("n2001:N2001C01BB51", "mendeley:HEA05_LB_210"):
        x, fs = recs[name].load()
        res = analyse(x, fs, line_hz=50.0)
        assert res.summary["muap_count"] >= 5
        assert 20 < res.summary["amplitude_uv_median"] < 5000
        assert 2 < res.summary["duration_ms_median"] < 20
        assert all(np.isfinite(v) for v in res.summary.values())
