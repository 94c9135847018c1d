"""EMG preprocessing as in the CNN-TCN paper, vectorised and chunked.

Pure functions take ``(data, sfreq, ...)`` with ``data`` shaped
``(n_chans, n_times)`` and return new arrays; the inputs are never changed.
:class:`EMGPreprocessor` chains them (resample -> band-pass + notch -> z-score ->
windows) over a whole :class:`~emgcore.recording.Recording`, filtering the
continuous signal once, in overlapping chunks so memory stays bounded.

References
----------
CNN-TCN transfer learning for EMG disease classification, section 3.2
(``../shared/papers/cnn-tcn-tl-emg-disease-classification.md``): resample to
1 kHz, 4th-order Butterworth band-pass, z-score, 1 s windows with 50 % overlap,
single-channel recordings replicated to 12 channels.

The package is split by stage; every name is re-exported here, so
``from emgcore.preprocess import ...`` works as before: :mod:`.resample`,
:mod:`.filters`, :mod:`.display` (the app's display band-pass),
:mod:`.windows` (z-score, windows), :mod:`.pipeline`
(:class:`EMGPreprocessor`, :class:`Preprocessed`) and the private
:mod:`._common` (input checks, thread helpers).
"""

from __future__ import annotations

# Mains detection with its details (ratios, harmonics), public here; the
# spectra themselves stay private to emgcore.
from emgcore._spectral import LineNoise, line_noise
from emgcore.preprocess.display import display_band, display_signal
from emgcore.preprocess.filters import (
    NOTCH_BANDWIDTH_HZ,
    bandpass_filter,
    detect_line_frequency,
    notch_filter,
)
from emgcore.preprocess.pipeline import (
    DEFAULT_CHUNK_S,
    EMGPreprocessor,
    Preprocessed,
)
from emgcore.preprocess.resample import (
    _polyphase_plan,
    _polyphase_resample,
    _resample_factors,
    resample,
)
from emgcore.preprocess.windows import (
    make_windows,
    zscore,
)

__all__ = [
    "_polyphase_plan",
    "_polyphase_resample",
    "_resample_factors",
    "bandpass_filter",
    "DEFAULT_CHUNK_S",
    "detect_line_frequency",
    "display_band",
    "display_signal",
    "EMGPreprocessor",
    "LineNoise",
    "line_noise",
    "make_windows",
    "NOTCH_BANDWIDTH_HZ",
    "notch_filter",
    "Preprocessed",
    "resample",
    "zscore",
]
