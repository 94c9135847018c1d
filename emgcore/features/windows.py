"""Classical EMG features over windows and the table :func:`extract_features` builds.

Windows are arrays shaped ``(n_windows, n_chans, n_times)``; every feature
function returns ``(n_windows, n_chans)``: MAV, RMS, WL, ZC, SSC, MNF, MDF
and turns, with the default and Hudgins sets. These are model inputs (the
classic baselines, the feature-linear model), kept apart from the
descriptive per-recording values shown on the result page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._validation import _check_option, _check_sfreq
from emgcore.errors import InvalidRecordingError

#: The default feature set: LibEMG-style time- and frequency-domain features.
DEFAULT_FEATURES: tuple[str, ...] = ("MAV", "RMS", "WL", "ZC", "SSC", "MNF", "MDF")
#: The Hudgins (1993) time-domain set used for gesture decoding.
HUDGINS_FEATURES: tuple[str, ...] = ("MAV", "ZC", "SSC", "WL")


def _as_windows(windows: Any) -> NDArray[np.float64]:
    """Return windows as a float64 array (n_windows, n_chans, n_times)."""
    arr = np.asarray(windows)
    if arr.ndim != 3:
        raise InvalidRecordingError(
            "Expected windows shaped (n_windows, n_chans, n_times), got an array "
            f"with {arr.ndim} dimension(s) and shape {arr.shape}."
        )
    if arr.shape[-1] < 3:
        raise InvalidRecordingError(
            f"Windows of {arr.shape[-1]} sample(s) are too short for EMG features; "
            "at least 3 samples are needed."
        )
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise InvalidRecordingError(f"Windows must hold real numbers, got {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise InvalidRecordingError("Windows hold NaN or infinite samples.")
    return arr


def _check_threshold(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"'{name}' must be a finite number >= 0, got {value!r}.")
    return value


def mav(windows: NDArray[np.floating]) -> NDArray[np.float64]:
    """Mean absolute value.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
        Signal windows in any unit.

    Returns
    -------
    ndarray, shape (n_windows, n_chans)
        ``mean(|x|)``, in the signal's unit.
    """
    x = _as_windows(windows)
    return np.mean(np.abs(x), axis=-1)


def rms(windows: NDArray[np.floating]) -> NDArray[np.float64]:
    """Root mean square, ``sqrt(mean(x**2))``, in the signal's unit.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)

    Returns
    -------
    ndarray, shape (n_windows, n_chans)
    """
    x = _as_windows(windows)
    return np.sqrt(np.mean(x * x, axis=-1))


def wl(windows: NDArray[np.floating]) -> NDArray[np.float64]:
    """Waveform length, ``sum(|x[i+1] - x[i]|)``, in the signal's unit.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)

    Returns
    -------
    ndarray, shape (n_windows, n_chans)
    """
    x = _as_windows(windows)
    return np.sum(np.abs(np.diff(x, axis=-1)), axis=-1)


def zc(windows: NDArray[np.floating], threshold: float = 0.0) -> NDArray[np.float64]:
    """Zero crossings: count of sign changes whose step is at least ``threshold``.

    A crossing between samples ``i`` and ``i+1`` counts when
    ``x[i] * x[i+1] < 0`` and ``|x[i] - x[i+1]| >= threshold`` (Hudgins 1993).
    Samples exactly at zero do not cross.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
    threshold : float
        Minimum step in the signal's unit (0 counts every crossing).

    Returns
    -------
    ndarray of float, shape (n_windows, n_chans)
        Counts per window (not per second).
    """
    x = _as_windows(windows)
    threshold = _check_threshold("threshold", threshold)
    a, b = x[..., :-1], x[..., 1:]
    crossing = (a * b < 0) & (np.abs(a - b) >= threshold)
    return crossing.sum(axis=-1).astype(np.float64)


def ssc(windows: NDArray[np.floating], threshold: float = 0.0) -> NDArray[np.float64]:
    """Slope sign changes.

    Sample ``i`` counts when ``(x[i] - x[i-1]) * (x[i] - x[i+1]) > threshold``
    (Hudgins 1993; the threshold is on the product, so it is in the signal's
    unit squared). The comparison is strict so that flat stretches
    (product 0) never count, also when ``threshold`` is 0.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
    threshold : float
        Threshold on the product of the two slopes, in unit**2.

    Returns
    -------
    ndarray of float, shape (n_windows, n_chans)
        Counts per window.
    """
    x = _as_windows(windows)
    threshold = _check_threshold("threshold", threshold)
    mid = x[..., 1:-1]
    prod = (mid - x[..., :-2]) * (mid - x[..., 2:])
    return (prod > threshold).sum(axis=-1).astype(np.float64)


def _power_spectrum(
    windows: NDArray[np.floating], sfreq: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Periodograms of the checked windows: ``(freqs, psd)``."""
    from scipy.signal import periodogram

    x = _as_windows(windows)
    sfreq = _check_sfreq(sfreq, what="windows")
    # A Hann-windowed periodogram of the whole window: one estimate per window
    # at the finest resolution the window allows; the mean is removed first.
    freqs, psd = periodogram(x, fs=sfreq, window="hann", detrend="constant", axis=-1)
    return freqs, psd


def mnf(windows: NDArray[np.floating], sfreq: float) -> NDArray[np.float64]:
    """Mean frequency of the power spectrum, in Hz.

    ``MNF = sum(f * P(f)) / sum(P(f))`` over the Hann-windowed periodogram of
    each window (mean removed). A window with no power (constant) gives 0.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    ndarray, shape (n_windows, n_chans)
        Mean frequency in Hz.
    """
    freqs, psd = _power_spectrum(windows, sfreq)
    total = psd.sum(axis=-1)
    num = (psd * freqs).sum(axis=-1)
    return np.divide(num, total, out=np.zeros_like(total), where=total > 0)


def mdf(windows: NDArray[np.floating], sfreq: float) -> NDArray[np.float64]:
    """Median frequency of the power spectrum, in Hz.

    The frequency that splits the periodogram's power into two equal halves,
    linearly interpolated between bins. A window with no power gives 0.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    ndarray, shape (n_windows, n_chans)
        Median frequency in Hz.
    """
    freqs, psd = _power_spectrum(windows, sfreq)
    return _median_frequency(freqs, psd)


def _median_frequency(
    freqs: NDArray[np.float64], psd: NDArray[np.float64]
) -> NDArray[np.float64]:
    # Treat each bin's power as spread evenly over [f - df/2, f + df/2]; the
    # cumulative power is then piecewise linear and reaches half at the MDF.
    df = float(freqs[1] - freqs[0]) if freqs.size > 1 else 1.0
    cum = np.cumsum(psd, axis=-1)
    total = cum[..., -1:]
    half = 0.5 * total
    idx = np.argmax(cum >= half, axis=-1)[..., None]  # first bin reaching half
    cum_at = np.take_along_axis(cum, idx, axis=-1)
    p_at = np.take_along_axis(psd, idx, axis=-1)
    before = cum_at - p_at
    frac = np.divide(half - before, p_at, out=np.zeros_like(p_at), where=p_at > 0)
    out = freqs[idx] - df / 2 + frac * df
    out = np.clip(out, 0.0, freqs[-1])[..., 0]
    return np.where(total[..., 0] > 0, out, 0.0)


def _zigzag_turns(x: NDArray[np.float64], threshold: float) -> int:
    """Count turns of one 1-D signal (see :func:`turns`)."""
    if x.size < 3:
        return 0
    # Only local extrema (and the ends) can be turning points: dropping the
    # monotone samples in between leaves the count unchanged and is faster.
    d = np.diff(x)
    nz = np.flatnonzero(d != 0)
    if nz.size == 0:
        return 0
    s = np.sign(d[nz])
    rev = nz[1:][s[1:] != s[:-1]]  # index of the sample where the slope reverses
    seq = np.concatenate(([x[0]], x[rev], [x[-1]]))
    count = 0
    direction = 0
    hi = lo = cand = float(seq[0])
    for v in seq[1:].tolist():
        if direction == 0:
            hi = max(hi, v)
            lo = min(lo, v)
            if hi - lo >= threshold:
                direction = 1 if v == hi else -1
                cand = v
        elif direction == 1:
            if v > cand:
                cand = v
            elif cand - v >= threshold:
                count += 1  # cand was a peak with >= threshold on both sides
                direction, cand = -1, v
        else:
            if v < cand:
                cand = v
            elif v - cand >= threshold:
                count += 1
                direction, cand = 1, v
    return count


def turns(windows: NDArray[np.floating], threshold: float = 0.1) -> NDArray[np.float64]:
    """Turns count of the clinical turns-amplitude analysis (Willison 1964).

    A turn is a peak or trough of the signal that is reached by a change of at
    least ``threshold`` and left by a change of at least ``threshold``
    (slope reversals smaller than that, such as noise ripples, are ignored).
    It is computed with a hysteresis ("zig-zag") scan over the local extrema.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
        Signal windows.
    threshold : float
        Minimum amplitude change, in the signal's unit. The default 0.1
        assumes the signal is in millivolts, so that it is the classic 100 uV;
        use ``0.1 * 1e-3`` for volts or ``100`` for microvolts (see
        :data:`UV_PER_UNIT` and :func:`recording_summary_features`, which
        convert for you).

    Returns
    -------
    ndarray of float, shape (n_windows, n_chans)
        Turns per window (divide by the window length in s for turns/s).
    """
    x = _as_windows(windows)
    threshold = _check_threshold("threshold", threshold)
    if threshold == 0:
        raise ValueError("'threshold' must be > 0 for turns (100 uV is the norm).")
    n_w, n_c, _ = x.shape
    out = np.empty((n_w, n_c), dtype=np.float64)
    for i in range(n_w):
        for c in range(n_c):
            out[i, c] = _zigzag_turns(x[i, c], threshold)
    return out


_FEATURES: dict[str, Callable[..., NDArray[np.float64]]] = {
    "MAV": lambda w, sfreq, kw: mav(w),
    "RMS": lambda w, sfreq, kw: rms(w),
    "WL": lambda w, sfreq, kw: wl(w),
    "ZC": lambda w, sfreq, kw: zc(w, kw["zc_threshold"]),
    "SSC": lambda w, sfreq, kw: ssc(w, kw["ssc_threshold"]),
    "MNF": lambda w, sfreq, kw: mnf(w, sfreq),
    "MDF": lambda w, sfreq, kw: mdf(w, sfreq),
    "TURNS": lambda w, sfreq, kw: turns(w, kw["turns_threshold"]),
}
#: Every feature :func:`extract_features` knows.
FEATURE_NAMES: tuple[str, ...] = tuple(_FEATURES)


def extract_features(
    windows: NDArray[np.floating],
    sfreq: float,
    names: Sequence[str] = DEFAULT_FEATURES,
    *,
    zc_threshold: float = 0.0,
    ssc_threshold: float = 0.0,
    turns_threshold: float = 0.1,
    ch_names: Sequence[str] | None = None,
) -> tuple[NDArray[np.float64], list[str]]:
    """Compute several features and stack them into one matrix.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
        Signal windows.
    sfreq : float
        Sampling rate in Hz (used by MNF and MDF).
    names : sequence of str
        Features to compute, from :data:`FEATURE_NAMES` (``"TURNS"`` for turns).
    zc_threshold, ssc_threshold, turns_threshold : float
        Passed to :func:`zc`, :func:`ssc` and :func:`turns`.
    ch_names : sequence of str, optional
        Channel names for the column names; default ``ch0``, ``ch1``, ...

    Returns
    -------
    features : ndarray, shape (n_windows, n_chans * n_features)
        Feature-major columns: all channels of the first feature, then all
        channels of the second, ... (LibEMG's order).
    feature_names : list of str
        ``"<FEATURE>_<channel>"`` for each column.
    """
    x = _as_windows(windows)
    sfreq = _check_sfreq(sfreq, what="windows")
    names = [str(n).upper() for n in names]
    if not names:
        raise ValueError("'names' must list at least one feature.")
    for n in names:
        _check_option("names", n, FEATURE_NAMES)
    n_chans = x.shape[1]
    if ch_names is None:
        ch_names = [f"ch{c}" for c in range(n_chans)]
    elif len(ch_names) != n_chans:
        raise ValueError(
            f"{len(ch_names)} channel names given for windows with {n_chans} channels."
        )
    kw = {
        "zc_threshold": zc_threshold,
        "ssc_threshold": ssc_threshold,
        "turns_threshold": turns_threshold,
    }
    blocks = [_FEATURES[n](x, sfreq, kw) for n in names]
    columns = [f"{n}_{ch}" for n in names for ch in ch_names]
    return np.concatenate(blocks, axis=1), columns
