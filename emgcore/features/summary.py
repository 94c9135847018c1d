"""Descriptive features of a whole recording, for the result page.

MUAP estimates from detected spikes (:func:`muap_estimates`) and
:func:`recording_summary_features` (amplitude in microvolts where the units
are known, spectral medians, turns-amplitude at ``TURNS_THRESHOLD_UV``;
Willison 1964). These describe a recording for a reader and are never model
inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._validation import _check_sfreq
from emgcore.errors import InvalidRecordingError
from emgcore.features.windows import _median_frequency, turns, zc

#: Turns threshold of the clinical turns-amplitude analysis, in microvolts.
TURNS_THRESHOLD_UV = 100.0
#: Microvolts per unit for the signal units we can convert.
#: Keys are lower case; the lookup ignores case (some headers write ``mv``).
UV_PER_UNIT: dict[str, float] = {"v": 1e6, "mv": 1e3, "uv": 1.0, "µv": 1.0}

#: Spike detection threshold, in robust noise standard deviations.
MUAP_DETECT_SD = 5.0
#: Shortest gap between two detected spikes, in ms.
MUAP_MIN_GAP_MS = 5.0
#: Half-width of the segment examined around each spike, in ms.
MUAP_HALF_WINDOW_MS = 10.0
#: Fewest spikes for which estimates are reported.
MUAP_MIN_SPIKES = 5
#: Lowest sampling rate at which MUAP shapes are resolved well enough, in Hz.
MUAP_MIN_SFREQ_HZ = 1000.0


def _as_signal(signal: Any) -> NDArray[np.float64]:
    x = np.asarray(signal)
    if x.ndim != 1:
        raise InvalidRecordingError(
            f"Expected one channel shaped (n_times,), got shape {x.shape}."
        )
    if x.size < 3:
        raise InvalidRecordingError(
            f"The signal has {x.size} sample(s); at least 3 are needed."
        )
    x = x.astype(np.float64, copy=False)
    if not np.isfinite(x).all():
        raise InvalidRecordingError("The signal holds NaN or infinite samples.")
    return x


def _unit_scale(unit: str | None) -> float | None:
    """Microvolts per signal unit, or None when the unit is not a voltage."""
    if unit is None:
        return None
    return UV_PER_UNIT.get(unit.strip().lower())


def muap_estimates(
    signal: NDArray[np.floating], sfreq: float, *, unit: str | None = "mV"
) -> dict[str, Any]:
    """MUAP-like amplitude and duration estimates from simple spike detection.

    A descriptive aid, not a motor-unit decomposition. Method:

    1. remove the mean and estimate the noise level robustly as
       ``sigma = median(|x|) / 0.6745``;
    2. find spikes with :func:`scipy.signal.find_peaks` on ``|x|`` higher than
       ``MUAP_DETECT_SD * sigma`` and at least ``MUAP_MIN_GAP_MS`` apart;
    3. around each spike (+-``MUAP_HALF_WINDOW_MS``) take the peak-to-peak
       amplitude, and the duration as the span between the first and the last
       sample whose ``|x|`` exceeds ``max(2 * sigma, 10 % of the spike's peak)``.

    Durations cannot exceed ``2 * MUAP_HALF_WINDOW_MS``. Overlapping units
    and interference patterns make these numbers biased;
    they are shown beside, never instead of, a clinician's reading.

    Parameters
    ----------
    signal : ndarray, shape (n_times,)
        One channel (ideally needle EMG, band-passed).
    sfreq : float
        Sampling rate in Hz.
    unit : str or None
        Unit of ``signal`` (``"V"``, ``"mV"``, ``"uV"``). When it is a voltage,
        amplitudes are reported in uV; otherwise in the signal's unit.

    Returns
    -------
    dict
        JSON-serialisable: ``n_spikes``, ``amplitude_pp_median``,
        ``amplitude_pp_iqr`` ([q25, q75]), ``amplitude_unit``,
        ``duration_ms_median``, ``duration_ms_iqr``, ``method`` and
        ``reason`` (None when the estimates were computed, else why the
        values are None).
    """
    from scipy.signal import find_peaks

    x = _as_signal(signal)
    sfreq = _check_sfreq(sfreq, what="signal")
    scale = _unit_scale(unit)
    out: dict[str, Any] = {
        "n_spikes": 0,
        "amplitude_pp_median": None,
        "amplitude_pp_iqr": None,
        "amplitude_unit": "uV" if scale is not None else (unit or "unknown"),
        "duration_ms_median": None,
        "duration_ms_iqr": None,
        "method": (
            f"find_peaks on |x| > {MUAP_DETECT_SD:g} robust SD, >= "
            f"{MUAP_MIN_GAP_MS:g} ms apart; peak-to-peak and above-baseline span "
            f"within +-{MUAP_HALF_WINDOW_MS:g} ms"
        ),
        "reason": None,
    }
    if sfreq < MUAP_MIN_SFREQ_HZ:
        out["reason"] = (
            f"Sampling rate {sfreq:g} Hz is below the {MUAP_MIN_SFREQ_HZ:g} Hz needed "
            "to resolve motor unit potentials."
        )
        return out
    x = x - x.mean()
    ax = np.abs(x)
    sigma = float(np.median(ax) / 0.6745)
    if sigma <= 0:
        out["reason"] = "The signal is flat for most of its length; no noise level."
        return out
    gap = max(1, int(round(MUAP_MIN_GAP_MS * 1e-3 * sfreq)))
    peaks, props = find_peaks(ax, height=MUAP_DETECT_SD * sigma, distance=gap)
    out["n_spikes"] = int(peaks.size)
    if peaks.size < MUAP_MIN_SPIKES:
        out["reason"] = (
            f"Only {peaks.size} spike(s) above {MUAP_DETECT_SD:g} times the noise "
            f"level; at least {MUAP_MIN_SPIKES} are needed."
        )
        return out
    half = max(1, int(round(MUAP_HALF_WINDOW_MS * 1e-3 * sfreq)))
    amps = np.empty(peaks.size)
    durs = np.empty(peaks.size)
    for k, p in enumerate(peaks):
        lo, hi = max(0, p - half), min(x.size, p + half + 1)
        seg = x[lo:hi]
        amps[k] = seg.max() - seg.min()
        level = max(2.0 * sigma, 0.1 * ax[p])
        above = np.flatnonzero(np.abs(seg) > level)
        durs[k] = (above[-1] - above[0] + 1) / sfreq * 1e3
    if scale is not None:
        amps = amps * scale
    q = np.percentile(amps, [25, 50, 75])
    qd = np.percentile(durs, [25, 50, 75])
    out.update(
        amplitude_pp_median=float(q[1]),
        amplitude_pp_iqr=[float(q[0]), float(q[2])],
        duration_ms_median=float(qd[1]),
        duration_ms_iqr=[float(qd[0]), float(qd[2])],
    )
    return out


def recording_summary_features(
    signal: NDArray[np.floating], sfreq: float, *, unit: str | None = "mV"
) -> dict[str, Any]:
    """Domain features of one channel for the result page.

    Parameters
    ----------
    signal : ndarray, shape (n_times,)
        One channel, ideally already band-passed.
    sfreq : float
        Sampling rate in Hz.
    unit : str or None
        Unit of ``signal``. Turns need a voltage unit (``"V"``, ``"mV"``,
        ``"uV"``) to apply the 100 uV threshold; otherwise they are None.

    Returns
    -------
    dict
        JSON-serialisable: ``duration_s``, ``rms`` (signal unit, mean removed),
        ``unit``,
        ``mnf_hz`` and ``mdf_hz`` (Welch spectrum, ~1 Hz resolution),
        ``zc_per_s``, ``turns_per_s`` (None without a voltage unit),
        ``turns_threshold_uv``, ``muap`` (see :func:`muap_estimates`) and
        ``notes`` (list of str).
    """
    from scipy.signal import welch

    x = _as_signal(signal)
    sfreq = _check_sfreq(sfreq, what="signal")
    duration_s = x.size / sfreq
    notes: list[str] = []
    xc = x - x.mean()
    nperseg = int(min(x.size, max(8, round(sfreq))))  # ~1 Hz resolution
    freqs, psd = welch(xc, fs=sfreq, nperseg=nperseg, detrend="constant")
    total = float(psd.sum())
    mnf_hz = float((freqs * psd).sum() / total) if total > 0 else 0.0
    mdf_hz = float(_median_frequency(freqs, psd[None, :])[0])
    w = xc[None, None, :]
    zc_count = float(zc(w)[0, 0])
    scale = _unit_scale(unit)
    if scale is None:
        turns_per_s = None
        notes.append(
            f"Turns need the signal in a voltage unit; got {unit!r}, so they are "
            "not computed."
        )
    else:
        thr = TURNS_THRESHOLD_UV / scale
        turns_per_s = float(turns(w, thr)[0, 0]) / duration_s
    return {
        "duration_s": float(duration_s),
        "rms": float(np.sqrt(np.mean(xc * xc))),
        "unit": unit,
        "mnf_hz": mnf_hz,
        "mdf_hz": mdf_hz,
        "zc_per_s": zc_count / duration_s,
        "turns_per_s": turns_per_s,
        "turns_threshold_uv": TURNS_THRESHOLD_UV,
        "muap": muap_estimates(x, sfreq, unit=unit),
        "notes": notes,
    }
