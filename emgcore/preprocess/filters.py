"""Band-pass and notch filters and mains-frequency detection.

Butterworth band-pass and harmonic notch designs are cached per sampling rate
(second-order sections); :func:`detect_line_frequency` finds 50 or 60 Hz
from the spectrum so notches are placed where the recording needs them.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
from numpy.typing import NDArray
from scipy.signal import (
    butter,
    iirnotch,
    sosfiltfilt,
    tf2sos,
)

from emgcore._spectral import line_noise
from emgcore.errors import InvalidRecordingError
from emgcore.preprocess._common import _as_float, _check_2d

logger = logging.getLogger(__name__)


#: Default -3 dB width of each notch, in Hz (the same at every harmonic).
NOTCH_BANDWIDTH_HZ = 2.0


def _bandpass_sos(
    sfreq: float, low_hz: float, high_hz: float | None, order: int
) -> NDArray[np.float64]:
    """Butterworth band-pass (or high-pass) sections (a copy of a cached design)."""
    return _bandpass_sos_cached(sfreq, low_hz, high_hz, order).copy()


# Filter designs are cached: butter + iirnotch + tf2sos took ~2.5 ms per
# transform, for the same few (rate, band) pairs every time. Callers get
# copies (scipy's sosfilt refuses read-only sections).
@functools.lru_cache(maxsize=64)
def _bandpass_sos_cached(
    sfreq: float, low_hz: float, high_hz: float | None, order: int
) -> NDArray[np.float64]:
    nyq = sfreq / 2.0
    if not 0 < low_hz < nyq:
        raise InvalidRecordingError(
            f"Band-pass low edge {low_hz:g} Hz must be between 0 and the Nyquist "
            f"frequency {nyq:g} Hz (sampling rate {sfreq:g} Hz)."
        )
    if high_hz is not None and high_hz <= low_hz:
        raise InvalidRecordingError(
            f"Band-pass low edge {low_hz:g} Hz must be below the high edge "
            f"{high_hz:g} Hz."
        )
    if high_hz is None or high_hz >= nyq:
        # Documented choice (PreprocessConfig.bandpass_hz): an upper edge at or
        # above Nyquist cannot be placed, so only the high-pass remains.
        return butter(order, low_hz, btype="highpass", fs=sfreq, output="sos")
    return butter(order, [low_hz, high_hz], btype="bandpass", fs=sfreq, output="sos")


def _notch_freqs(
    sfreq: float,
    notch_hz: float,
    *,
    harmonics: bool,
    max_hz: float | None,
    bandwidth_hz: float,
) -> list[float]:
    """``notch_hz`` and (optionally) its harmonics that fit below ``max_hz``."""
    nyq = sfreq / 2.0
    top = nyq if max_hz is None else min(max_hz, nyq)
    n_max = int(top // notch_hz) + 1 if harmonics else 1
    freqs = [notch_hz * k for k in range(1, n_max + 1)]
    return [f for f in freqs if f + bandwidth_hz < top]


def _notch_sos(
    sfreq: float, freqs_hz: list[float], bandwidth_hz: float
) -> NDArray[np.float64]:
    """One second-order ``iirnotch`` section per frequency (Q = f0 / bandwidth).

    A copy of a cached design.
    """
    return _notch_sos_cached(float(sfreq), tuple(freqs_hz), float(bandwidth_hz)).copy()


@functools.lru_cache(maxsize=64)
def _notch_sos_cached(
    sfreq: float, freqs_hz: tuple[float, ...], bandwidth_hz: float
) -> NDArray[np.float64]:
    sections = [tf2sos(*iirnotch(f0, Q=f0 / bandwidth_hz, fs=sfreq)) for f0 in freqs_hz]
    return np.concatenate(sections, axis=0) if sections else np.zeros((0, 6))


def bandpass_filter(
    data: NDArray[np.floating],
    sfreq: float,
    low_hz: float,
    high_hz: float | None,
    order: int = 4,
) -> NDArray[np.floating]:
    """Zero-phase Butterworth band-pass (second-order sections, ``sosfiltfilt``).

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Sampling rate in Hz.
    low_hz : float
        Lower -3 dB edge in Hz (per pass; the forward-backward response is
        squared, about -6 dB at the edge).
    high_hz : float or None
        Upper edge in Hz. None, or a value at or above Nyquist (``sfreq / 2``),
        gives a high-pass at ``low_hz`` only.
    order : int
        Butterworth order of one pass.

    Returns
    -------
    ndarray, shape (n_chans, n_times)
        Filtered signal, same dtype as ``data`` (float64 for integer input).

    Raises
    ------
    InvalidRecordingError
        If ``low_hz`` is not between 0 and Nyquist or not below ``high_hz``.
    """
    data = _as_float(data)
    sos = _bandpass_sos(float(sfreq), float(low_hz), high_hz, int(order))
    return sosfiltfilt(sos, data, axis=-1).astype(data.dtype, copy=False)


def notch_filter(
    data: NDArray[np.floating],
    sfreq: float,
    notch_hz: float,
    *,
    harmonics: bool = True,
    max_hz: float | None = None,
    bandwidth_hz: float = NOTCH_BANDWIDTH_HZ,
) -> NDArray[np.floating]:
    """Remove power-line interference with zero-phase IIR notches.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Sampling rate in Hz.
    notch_hz : float
        Mains frequency in Hz (50 or 60).
    harmonics : bool
        Also notch ``2 * notch_hz``, ``3 * notch_hz``, ... below ``max_hz``.
    max_hz : float or None
        Highest frequency notched, in Hz; None means Nyquist.
    bandwidth_hz : float
        -3 dB width of each notch in Hz (``iirnotch`` with
        ``Q = f0 / bandwidth_hz``), the same at every harmonic.

    Returns
    -------
    ndarray, shape (n_chans, n_times)
        Filtered signal (a copy if no notch fits below Nyquist).
    """
    data = _as_float(data)
    freqs = _notch_freqs(
        float(sfreq),
        float(notch_hz),
        harmonics=harmonics,
        max_hz=max_hz,
        bandwidth_hz=bandwidth_hz,
    )
    sos = _notch_sos(float(sfreq), freqs, bandwidth_hz)
    if sos.shape[0] == 0:
        logger.info("No notch at %g Hz fits below Nyquist at %g Hz.", notch_hz, sfreq)
        return data.copy()
    return sosfiltfilt(sos, data, axis=-1).astype(data.dtype, copy=False)


def detect_line_frequency(data: NDArray[np.floating], sfreq: float) -> float | None:
    """Detect 50 or 60 Hz power-line interference.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit, ideally unfiltered.
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    float or None
        50.0 or 60.0 when the line stands more than 10 dB above the neighbouring
        spectrum (chunked Welch estimate, channel-averaged), else None. Also None
        when the recording is too short (< 1 s) or the rate too low to tell.
    """
    data = _as_float(data)
    _check_2d(data)
    if data.shape[-1] < sfreq:
        return None
    return line_noise(data, float(sfreq)).line_freq_hz
