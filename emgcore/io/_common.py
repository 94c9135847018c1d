"""Checks shared by every reader: file existence, size limits, unit spelling."""

from __future__ import annotations

import os
from pathlib import Path

from emgcore._validation import MAX_CHANNELS, MAX_TOTAL_SAMPLES
from emgcore.errors import DataNotFoundError, InvalidRecordingError

# Largest single file any reader opens. Checked with os.stat before reading, so
# a corrupt or hostile upload never reaches a parser. 2 GiB holds more than
# MAX_TOTAL_SAMPLES int16 samples, the densest format we read.
MAX_FILE_BYTES = 2 * 1024**3

# Spellings seen in real headers (the emgdb myopathy header says "mv").
_UNIT_SPELLINGS = {
    "v": "V",
    "mv": "mV",
    "uv": "uV",
    "µv": "uV",  # micro sign
    "μv": "uV",  # Greek mu
    "nv": "nV",
    "count": "counts",
    "counts": "counts",
    "adu": "counts",
    "nu": "a.u.",  # WFDB's "no units"
    "au": "a.u.",
    "a.u.": "a.u.",
    "": "a.u.",
}


def normalise_unit(unit: str | None) -> str:
    """Return the canonical spelling of a physical unit (``"mv"`` -> ``"mV"``).

    Unknown units are returned stripped but otherwise unchanged; a missing unit
    becomes ``"a.u."`` (arbitrary units).
    """
    text = "" if unit is None else str(unit).strip()
    return _UNIT_SPELLINGS.get(text.lower(), text)


def check_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Path:
    """Check that ``path`` is a readable, non-empty file no larger than ``max_bytes``.

    Parameters
    ----------
    path : str | PathLike
        File to check.
    max_bytes : int | None
        Largest accepted size in bytes; default :data:`MAX_FILE_BYTES`.

    Returns
    -------
    path : Path
        The same path as a :class:`pathlib.Path`.

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    InvalidRecordingError
        If it is a directory, empty or larger than ``max_bytes``.
    """
    if max_bytes is None:
        max_bytes = MAX_FILE_BYTES
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: file not found.") from None
    if path.is_dir():
        raise InvalidRecordingError(f"{path}: is a folder, not a recording file.")
    if st.st_size == 0:
        raise InvalidRecordingError(f"{path}: the file is empty (0 bytes).")
    if st.st_size > max_bytes:
        raise InvalidRecordingError(
            f"{path}: {format_bytes(st.st_size)} is larger than the "
            f"{format_bytes(max_bytes)} limit for one recording file."
        )
    return path


def format_bytes(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``: sizes for messages."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # unreachable


def check_size(name: object, n_chans: int, n_times: int) -> None:
    """Reject channel and sample counts beyond the limits before allocating."""
    if n_chans < 1:
        raise InvalidRecordingError(f"{name}: the recording has no channels.")
    if n_chans > MAX_CHANNELS:
        raise InvalidRecordingError(
            f"{name}: {n_chans} channels is more than the {MAX_CHANNELS} supported "
            "(is the file transposed or corrupt?)."
        )
    if n_chans * n_times > MAX_TOTAL_SAMPLES:
        raise InvalidRecordingError(
            f"{name}: {n_chans} x {n_times} samples is more than the "
            f"{MAX_TOTAL_SAMPLES} this application accepts in one recording."
        )
