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
import warnings
from pathlib import Path

import numpy as np

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_file, check_size, normalise_unit
from emgcore.io._edf_header import EdfSignalSpec, check_edf_header
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

# EDF+ annotations kept in ``source`` (onset/duration in s, text); more are dropped.
MAX_ANNOTATIONS = 1000


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
    specs = check_edf_header(path, fmt=fmt)
    # edfio decodes lazily: samples and annotations are parsed on first access,
    # so everything that touches them is inside this block.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")  # recorded, not shown: checked above
        try:
            edf = edfio.read_bdf(path) if bdf else edfio.read_edf(path)
            return _to_recording(edf, specs, path, fmt, sfreq)
        except InvalidRecordingError:
            raise
        except Exception:
            # The header was checked field by field above, so what is left is
            # damage edfio finds deeper (e.g. EDF+ annotation text); the
            # exception text is for operators, not users.
            logger.info("edfio could not read %s", path, exc_info=True)
            raise InvalidRecordingError(
                f"{path}: the {fmt.upper()} file could not be read although its "
                "header fields are valid; it may be damaged (e.g. unreadable EDF+ "
                "annotations). Export it again."
            ) from None


def _to_recording(
    edf, specs: list[EdfSignalSpec], path: Path, fmt: str, sfreq: float | None
) -> Recording:
    if not edf.is_continuous:
        raise InvalidRecordingError(
            f"{path}: discontinuous EDF+D recordings are not supported; export a "
            "continuous EDF+C file."
        )
    signals = list(edf.signals)
    if not signals:
        raise InvalidRecordingError(f"{path}: the file holds no signals.")
    # Units as written: edfio decodes header text as ASCII ("µV" -> "\ufffdV").
    data_specs = [s for s in specs if not s.is_annotation]
    units_written = (
        [s.unit for s in data_specs]
        if len(data_specs) == len(signals)
        else [s.physical_dimension for s in signals]
    )
    rates = [float(s.sampling_frequency) for s in signals]
    top = max(rates)
    kept_idx = [i for i, r in enumerate(rates) if math.isclose(r, top)]
    kept = [signals[i] for i in kept_idx]
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
        units=tuple(normalise_unit(units_written[i]) for i in kept_idx),
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
