"""The band-passed signal the app shows (and measures its summary features on).

Not the model's preprocessing (:class:`~emgcore.preprocess.EMGPreprocessor`):
display keeps the recording's own rate and, for needle EMG, its high
frequencies, where MUAP spikes live.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from emgcore.preprocess.filters import bandpass_filter

#: Lower edge of the display band in Hz (drops baseline drift and motion).
DISPLAY_LOW_HZ = 20.0
#: Upper edges in Hz: surface EMG has little above 450 Hz; needle EMG keeps
#: up to 10 kHz. Never above 45 % of the sampling rate.
SURFACE_HIGH_HZ = 450.0
NEEDLE_HIGH_HZ = 10_000.0
#: Shorter signals are shown unfiltered: the zero-phase filter needs padding.
MIN_FILTER_SAMPLES = 64


def display_band(sfreq: float, *, surface: bool) -> tuple[float, float]:
    """Pass band in Hz for a recording at ``sfreq``."""
    high = SURFACE_HIGH_HZ if surface else NEEDLE_HIGH_HZ
    return DISPLAY_LOW_HZ, min(high, 0.45 * sfreq)


def display_signal(
    data: NDArray[np.floating], sfreq: float, *, surface: bool = False
) -> tuple[NDArray[np.floating], tuple[float, float]]:
    """Zero-phase 4th-order Butterworth band-pass of ``data`` for display.

    ``data`` is (n_chans, n_times). Returns ``(filtered, band)``; ``data``
    itself when the band is empty (a very low rate) or the signal too short.
    """
    band = display_band(sfreq, surface=surface)
    low, high = band
    if high <= low or data.shape[-1] < MIN_FILTER_SAMPLES:
        return data, band
    return bandpass_filter(data, sfreq, low, high, order=4), band
