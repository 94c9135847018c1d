"""EDF, EDF+ and BDF files, read with ``edfio``.

Why edfio: it is a small, pure-Python, actively maintained reader/writer
(BSD-licensed, numpy only) that handles EDF, EDF+ (continuous) and 24-bit BDF and
returns each signal in physical units. pyedflib needs a compiled extension, and
MNE is a large dependency for reading one file format.

Channels with different sampling rates: EMG files sometimes carry slower
auxiliary signals (accelerometer, force, markers). We keep the channels recorded
at the highest sampling rate and drop the others, naming them in
``source["dropped_channels"]`` and in a log warning. Discontinuous EDF+D files
are rejected.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from pathlib import Path

import numpy as np

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_file, check_size, normalise_unit
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

# EDF+ annotations kept in ``source`` (onset/duration in s, text); more are dropped.
MAX_ANNOTATIONS = 1000

_RECORDS_WARNING = re.compile(
    r"indicates (-?\d+) data records, but file contains (\d+)"
)


def read_edf(path: Path, *, bdf: bool = False, sfreq: float | None = None) -> Recording:
    """Read an EDF/EDF+ (``bdf=False``) or BDF (``bdf=True``) file.

    Parameters
    ----------
    path : Path
        The file.
    bdf : bool
        Read as 24-bit BDF instead of 16-bit EDF.
    sfreq : float | None
        Expected sampling rate in Hz; the header is authoritative, so a
        different value raises an error.

    Returns
    -------
    recording : Recording
        Channels at the highest sampling rate in the file, physical units from
        the header; shape (n_chans, n_times).

    Raises
    ------
    InvalidRecordingError
        If the header is unreadable, the file is truncated, discontinuous or
        holds no ordinary signals.
    """
    import edfio

    fmt = "bdf" if bdf else "edf"
    path = check_file(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            edf = edfio.read_bdf(path) if bdf else edfio.read_edf(path)
        except Exception as exc:  # edfio raises ValueError/IndexError on bad bytes
            raise InvalidRecordingError(
                f"{path}: not a readable {fmt.upper()} file ({exc})."
            ) from None
    for w in caught:
        text = str(w.message)
        if "Incomplete data record" in text:
            raise InvalidRecordingError(
                f"{path}: the {fmt.upper()} file is truncated: its last data record "
                "is incomplete."
            )
        match = _RECORDS_WARNING.search(text)
        if match and int(match.group(1)) != -1:
            raise InvalidRecordingError(
                f"{path}: the {fmt.upper()} header expects {match.group(1)} data "
                f"records but the file holds {match.group(2)} (truncated or corrupt)."
            )
    if not edf.is_continuous:
        raise InvalidRecordingError(
            f"{path}: discontinuous EDF+D recordings are not supported; export a "
            "continuous EDF+C file."
        )
    signals = list(edf.signals)
    if not signals:
        raise InvalidRecordingError(f"{path}: the file holds no signals.")
    rates = [float(s.sampling_frequency) for s in signals]
    top = max(rates)
    kept = [s for s, r in zip(signals, rates, strict=True) if math.isclose(r, top)]
    dropped = [
        s.label for s, r in zip(signals, rates, strict=True) if not math.isclose(r, top)
    ]
    if dropped:
        logger.warning(
            "%s: dropped %d channel(s) sampled below %g Hz: %s",
            path,
            len(dropped),
            top,
            ", ".join(dropped),
        )
    if sfreq is not None and not math.isclose(float(sfreq), top, rel_tol=1e-3):
        raise InvalidRecordingError(
            f"{path}: the header gives a sampling rate of {top:g} Hz, but "
            f"{float(sfreq):g} Hz was requested; leave the rate out for "
            f"{fmt.upper()} files."
        )
    n_times = min(len(s.data) for s in kept)
    check_size(path, len(kept), n_times)
    data = np.empty((len(kept), n_times), dtype=np.float32)
    for i, s in enumerate(kept):
        data[i] = s.data[:n_times]
    names = [s.label.strip() or f"ch{i + 1}" for i, s in enumerate(kept)]
    return Recording(
        data=data,
        sfreq=top,
        ch_names=tuple(names),
        units=tuple(normalise_unit(s.physical_dimension) for s in kept),
        source={
            "format": fmt,
            "path": str(path),
            "dropped_channels": dropped,
            "annotations": [
                {"onset_s": a.onset, "duration_s": a.duration, "text": a.text}
                for a in edf.annotations[:MAX_ANNOTATIONS]
            ],
        },
    )
