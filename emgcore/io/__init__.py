"""Read EMG recordings from real file formats into one :class:`~emgcore.Recording`.

Formats (``SUPPORTED_FORMATS``):

- ``"wfdb"``: PhysioNet WFDB record: a record path, a ``.hea`` + ``.dat`` pair
  (names may differ, as with uploads), or a ``.zip`` holding them (``wfdb``).
- ``"edf"`` / ``"bdf"``: EDF, EDF+ (continuous) and BDF (``edfio``).
- ``"csv"``: header row, one column per channel, rate from a time column or ``sfreq``.
- ``"n2001"``: EMGLAB N2001 headerless int16 ``.bin`` (23437.5 Hz by default).
- ``"ninapro"``: NinaPro DB1/DB2 ``.mat``; see :func:`read_ninapro` for the labels.

Every reader checks the file before parsing it (exists, not empty, at most
:data:`MAX_FILE_BYTES`) and raises :class:`~emgcore.errors.InvalidRecordingError`
with a message naming the file and the problem. A missing file raises
:class:`~emgcore.errors.DataNotFoundError`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Union

from emgcore._validation import MAX_SFREQ_HZ, MIN_SFREQ_HZ
from emgcore.errors import DataNotFoundError, InvalidRecordingError
from emgcore.io._common import MAX_FILE_BYTES, normalise_unit
from emgcore.io._n2001 import N2001_SFREQ_HZ, parse_n2001_name
from emgcore.io.ninapro import NinaproSession, read_ninapro
from emgcore.recording import Recording

SUPPORTED_FORMATS = ("wfdb", "edf", "bdf", "csv", "n2001", "ninapro")

PathLike = Union[str, "os.PathLike[str]"]

# Suffixes of WFDB data files that join a header of the same name in group_paths.
_WFDB_DATA_SUFFIXES = (".dat", ".bin")

_SUFFIX_FORMATS = {
    ".hea": "wfdb",
    ".zip": "wfdb",
    ".edf": "edf",
    ".bdf": "bdf",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".mat": "ninapro",
}

__all__ = [
    "MAX_FILE_BYTES",
    "N2001_SFREQ_HZ",
    "SUPPORTED_FORMATS",
    "NinaproSession",
    "detect_format",
    "group_paths",
    "normalise_unit",
    "parse_n2001_name",
    "read_ninapro",
    "read_recording",
]


def read_recording(
    paths: PathLike | Sequence[PathLike],
    *,
    format: str | None = None,  # noqa: A002  (the public name users expect)
    sfreq: float | None = None,
    min_duration_s: float = 1.0,
) -> Recording:
    """Read one recording from any supported format.

    Parameters
    ----------
    paths : str | PathLike | sequence of them
        One file, or for WFDB the ``.hea`` and its ``.dat`` file(s) (their names
        may differ, e.g. temporary upload names), a record path without
        extension, or a ``.zip`` holding the record.
    format : str | None
        One of :data:`SUPPORTED_FORMATS`; ``None`` detects it (see
        :func:`detect_format`).
    sfreq : float | None
        Sampling rate in Hz, for formats that do not store one (CSV without a
        time column, N2001 override, NinaPro override). WFDB/EDF/BDF headers are
        authoritative: a different value raises an error.
    min_duration_s : float
        Reject recordings shorter than this many seconds (one analysis window);
        0 disables the check.

    Returns
    -------
    recording : Recording
        ``data`` float32 (n_chans, n_times) in physical units; ``source`` holds
        ``format``, ``path`` and reader metadata.

    Raises
    ------
    DataNotFoundError
        If a file does not exist.
    InvalidRecordingError
        If the format is unknown or the content is unusable.
    """
    path_list = _as_paths(paths)
    if sfreq is not None:
        sfreq = _check_sfreq_argument(sfreq, path_list)
    fmt = detect_format(path_list) if format is None else str(format).lower()
    if fmt not in SUPPORTED_FORMATS:
        raise InvalidRecordingError(
            f"Unknown recording format {format!r}. Supported formats are "
            f"{', '.join(SUPPORTED_FORMATS)}."
        )
    if fmt != "wfdb" and len(path_list) != 1:
        raise InvalidRecordingError(
            f"{', '.join(map(str, path_list))}: a {fmt} recording is one file; got "
            f"{len(path_list)} files."
        )
    if fmt == "wfdb":
        from emgcore.io._wfdb import read_wfdb

        rec = read_wfdb(path_list, sfreq=sfreq)
    elif fmt in ("edf", "bdf"):
        from emgcore.io._edf import read_edf

        rec = read_edf(path_list[0], bdf=fmt == "bdf", sfreq=sfreq)
    elif fmt == "csv":
        from emgcore.io._csv import read_csv

        rec = read_csv(path_list[0], sfreq=sfreq)
    elif fmt == "n2001":
        from emgcore.io._n2001 import read_n2001

        rec = read_n2001(path_list[0], sfreq=sfreq)
    else:
        rec = read_ninapro(path_list[0], sfreq=sfreq).recording
    if min_duration_s and min_duration_s > 0:
        rec.check_min_duration(min_duration_s)
    return rec


def detect_format(paths: PathLike | Sequence[PathLike]) -> str:
    """Tell the format of a recording from its file name(s) and first bytes.

    Rules: ``.hea``/``.dat`` pairs, record paths with a ``.hea`` beside them and
    ``.zip`` files holding a ``.hea`` are WFDB; ``.edf``/``.bdf`` by extension
    (or by their header bytes when the name has none); ``.csv``/``.tsv``/``.txt``
    are CSV; ``.mat`` is NinaPro; ``.bin`` files are N2001 only when named as in
    the dataset (``N2001[ACM]nn(BB|VM)nn.bin``).

    Parameters
    ----------
    paths : str | PathLike | sequence of them

    Returns
    -------
    format : str
        One of :data:`SUPPORTED_FORMATS`.

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    InvalidRecordingError
        If the format cannot be told.
    """
    path_list = _as_paths(paths)
    if len(path_list) > 1:
        suffixes = {p.suffix.lower() for p in path_list}
        if ".hea" in suffixes:
            return "wfdb"
        raise InvalidRecordingError(
            f"{', '.join(map(str, path_list))}: several files were given but none is "
            "a WFDB .hea header; give one file per recording."
        )
    path = path_list[0]
    suffix = path.suffix.lower()
    if suffix != ".hea" and Path(str(path) + ".hea").is_file():
        return "wfdb"  # record path such as ".../emg_myopathy"
    if not path.exists():
        raise DataNotFoundError(f"{path}: file not found.")
    if suffix == ".dat":
        if path.with_suffix(".hea").is_file():
            return "wfdb"
        raise InvalidRecordingError(
            f"{path}: a WFDB .dat file needs its .hea header; give both files."
        )
    if suffix == ".zip":
        _check_zip_has_header(path)
        return "wfdb"
    if suffix in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffix]
    if suffix == ".bin":
        if parse_n2001_name(path.name) is not None:
            return "n2001"
        raise InvalidRecordingError(
            f"{path}: a .bin file without a header is only recognised by the N2001 "
            "dataset name (N2001[ACM]nn(BB|VM)nn.bin); pass format='n2001' "
            "(--format n2001) to read it as N2001 raw int16."
        )
    sniffed = _sniff(path)
    if sniffed is not None:
        return sniffed
    raise InvalidRecordingError(
        f"{path}: unknown recording format. Supported formats are "
        f"{', '.join(SUPPORTED_FORMATS)} (WFDB .hea+.dat or .zip, .edf, .bdf, .csv, "
        "N2001 .bin, NinaPro .mat)."
    )


def group_paths(paths: Sequence[PathLike]) -> list[list[Path]]:
    """Group command-line paths into recordings.

    A ``.hea`` and the ``.dat`` (or ``.bin``) with the same name form one recording; if one
    header and one data file are left over with different names (renamed
    uploads), they are paired too. A ``.dat`` still left is read with the
    ``.hea`` beside it. Every other path is its own recording.

    Parameters
    ----------
    paths : sequence of str | PathLike

    Returns
    -------
    groups : list of list of Path
        In the order the paths were given (by the first path of each group).
    """
    path_list = [Path(p) for p in paths]
    headers = {
        p.with_suffix("").name: p for p in path_list if p.suffix.lower() == ".hea"
    }
    groups: dict[Path, list[Path]] = {}
    order: list[Path] = []
    loose_dats: list[Path] = []
    for p in path_list:
        suffix = p.suffix.lower()
        if suffix == ".hea":
            groups.setdefault(p, [p])
            order.append(p)
        elif suffix in _WFDB_DATA_SUFFIXES and p.with_suffix("").name in headers:
            # "rec.dat" or "rec.bin" given with "rec.hea": its data file.
            hea = headers[p.with_suffix("").name]
            groups.setdefault(hea, [hea]).append(p)
        elif suffix == ".dat":
            loose_dats.append(p)
        else:
            groups[p] = [p]
            order.append(p)
    lonely = [h for h in headers.values() if len(groups[h]) == 1]
    if len(loose_dats) == 1 and len(lonely) == 1:
        groups[lonely[0]].append(loose_dats[0])
        loose_dats = []
    for p in loose_dats:  # read with the .hea beside them, or report it missing
        groups[p] = [p]
        order.append(p)
    return [groups[k] for k in dict.fromkeys(order)]


def _as_paths(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    path_list = [Path(p) for p in paths]
    if not path_list:
        raise InvalidRecordingError("No file was given.")
    return path_list


def _check_sfreq_argument(sfreq: object, path_list: list[Path]) -> float:
    """A sampling rate given by the caller (``sfreq``, ``--sfreq``, the upload
    form): a finite number of Hz within the supported range, said plainly."""
    names = ", ".join(p.name for p in path_list)
    try:
        value = float(sfreq)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise InvalidRecordingError(
            f"{names}: the sampling rate given ({sfreq!r} Hz) is not a positive "
            "number of samples per second."
        )
    if not MIN_SFREQ_HZ <= value <= MAX_SFREQ_HZ:
        raise InvalidRecordingError(
            f"{names}: the sampling rate given ({value:g} Hz) is outside the "
            f"supported range for EMG ({MIN_SFREQ_HZ:g}-{MAX_SFREQ_HZ:g} Hz)."
        )
    return value


def _check_zip_has_header(path: Path) -> None:
    from emgcore.io._wfdb import open_zip

    with open_zip(path) as zf:
        names = zf.namelist()
    if not any(n.lower().endswith(".hea") for n in names):
        raise InvalidRecordingError(
            f"{path}: the zip holds no WFDB header (.hea); only zipped WFDB records "
            "are supported."
        )


def _sniff(path: Path) -> str | None:
    """Format from the first bytes, for files without a telling extension."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except (IsADirectoryError, PermissionError):
        return None
    if head.startswith(b"\xffBIOSEMI"):
        return "bdf"
    if head.startswith(b"0       ") and len(head) >= 256:
        return "edf"
    if head.startswith(b"PK\x03\x04"):
        return None  # a zip needs its .zip name to be read safely
    if head.startswith(b"MATLAB 5.0 MAT-file"):
        return "ninapro"
    return None
