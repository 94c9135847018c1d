"""emgcore.preprocess.display_signal: the band-pass the app shows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from emgcore.preprocess import display_band, display_signal


@pytest.mark.parametrize("surface", [True, False])
@pytest.mark.parametrize("sfreq", [1000.0, 4000.0, 23437.5, 48000.0])
def test_display_signal_is_a_zero_phase_butterworth_band_pass(rng, sfreq, surface):
    data = rng.standard_normal((2, 3000))
    filtered, band = display_signal(data, sfreq, surface=surface)
    top = 450.0 if surface else 10_000.0
    assert band == (20.0, min(top, 0.45 * sfreq))
    sos = butter(4, list(band), btype="bandpass", fs=sfreq, output="sos")
    np.testing.assert_array_equal(filtered, sosfiltfilt(sos, data, axis=-1))


def test_short_or_slow_signals_are_shown_unfiltered(rng):
    short = rng.standard_normal((1, 63))
    assert display_signal(short, 1000.0)[0] is short
    slow = rng.standard_normal((1, 500))
    assert display_band(40.0, surface=False) == (20.0, 18.0)
    assert display_signal(slow, 40.0)[0] is slow
