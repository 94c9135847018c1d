"""Classical EMG features over windows, and descriptive features of a recording.

Windows are arrays shaped ``(n_windows, n_chans, n_times)``; every feature
function returns ``(n_windows, n_chans)``. Names follow the usual EMG
vocabulary (as in LibEMG): MAV, RMS, WL, ZC, SSC, MNF, MDF.

References
----------
Hudgins B, Parker P, Scott RN (1993). A new strategy for multifunction
myoelectric control. IEEE Trans Biomed Eng 40(1):82-94 (MAV, ZC, SSC, WL).
Phinyomark A, Phukpattaranont P, Limsakul C (2012). Feature reduction and
selection for EMG signal classification. Expert Syst Appl 39(8):7420-7431
(definitions of RMS, MNF, MDF and the thresholds of ZC and SSC).
Willison RG (1964). Analysis of electrical activity in healthy and dystrophic
muscle in man. J Neurol Neurosurg Psychiatry 27:386-394 (turns-amplitude).

The package has two parts; every name is re-exported here, so
``from emgcore.features import ...`` works as before: :mod:`.windows`
(window features, :func:`extract_features`) and :mod:`.summary`
(MUAP estimates, :func:`recording_summary_features`).
"""

from __future__ import annotations

from emgcore.features.summary import (
    MUAP_DETECT_SD,
    MUAP_HALF_WINDOW_MS,
    MUAP_MIN_GAP_MS,
    MUAP_MIN_SFREQ_HZ,
    MUAP_MIN_SPIKES,
    TURNS_THRESHOLD_UV,
    UV_PER_UNIT,
    muap_estimates,
    recording_summary_features,
)
from emgcore.features.windows import (
    DEFAULT_FEATURES,
    FEATURE_NAMES,
    HUDGINS_FEATURES,
    extract_features,
    mav,
    mdf,
    mnf,
    rms,
    ssc,
    turns,
    wl,
    zc,
)

__all__ = [
    "DEFAULT_FEATURES",
    "extract_features",
    "FEATURE_NAMES",
    "HUDGINS_FEATURES",
    "mav",
    "mdf",
    "mnf",
    "MUAP_DETECT_SD",
    "muap_estimates",
    "MUAP_HALF_WINDOW_MS",
    "MUAP_MIN_GAP_MS",
    "MUAP_MIN_SFREQ_HZ",
    "MUAP_MIN_SPIKES",
    "recording_summary_features",
    "rms",
    "ssc",
    "turns",
    "TURNS_THRESHOLD_UV",
    "UV_PER_UNIT",
    "wl",
    "zc",
]
