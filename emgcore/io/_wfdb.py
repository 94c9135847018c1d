"""WFDB (PhysioNet) records: a record path, a ``.hea`` + ``.dat`` pair, or a ``.zip``.

Reading is done by the ``wfdb`` package (``rdheader`` / ``rdrecord``); this module
only finds the files, stages uploads whose names do not match the header, and
checks sizes so that a truncated ``.dat`` gives a plain message.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import (
    MAX_FILE_BYTES,
    check_file,
    check_size,
    format_bytes,
    normalise_unit,
)
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

# A zip upload holds one record: a header and a few data files, nothing more.
MAX_ZIP_MEMBERS = 64


def read_wfdb(paths: Sequence[Path], *, sfreq: float | None = None) -> Recording:
    """Read one WFDB record into a :class:`Recording`.

    Parameters
    ----------
    paths : sequence of Path
        One of: a record path without extension (``.../emg_myopathy``, with
        ``emg_myopathy.hea`` beside it); a ``.hea`` file alone (its data files
        are looked up beside it); a ``.hea`` plus its data file(s), whose names
        may differ from the names in the header (uploads get temporary names);
        or a ``.zip`` holding the header and data files.
    sfreq : float | None
        Expected sampling rate in Hz. The header is authoritative: if given and
        it differs from the header's rate, an error is raised.

    Returns
    -------
    recording : Recording
        ``data`` in physical units (``p_signal``) shaped (n_chans, n_times);
        ``units`` from the header (normalised, e.g. ``"mv"`` -> ``"mV"``);
        ``source`` holds ``record_name``, ``comments`` and ``fmt``.

    Raises
    ------
    InvalidRecordingError
        If the header is unreadable, a data file is missing or shorter than the
        header says, or the signal is unusable.
    """
    paths = [Path(p) for p in paths]
    if len(paths) == 1 and paths[0].suffix.lower() == ".zip":
        return _read_zip(paths[0], sfreq=sfreq)
    header, data_files = _split_paths(paths)
    with tempfile.TemporaryDirectory(prefix="emgcore-wfdb-") as tmp:
        record_base = _stage(header, data_files, Path(tmp))
        return _read_staged(record_base, display=header, sfreq=sfreq)


def _split_paths(paths: list[Path]) -> tuple[Path, list[Path]]:
    """Return (header, data files) from what the caller gave."""
    if len(paths) == 1 and paths[0].suffix.lower() != ".hea":
        # A record path: "x" or "x.dat" with "x.hea" beside it.
        p = paths[0]
        base = p.with_suffix("") if p.suffix.lower() == ".dat" else p
        header = Path(str(base) + ".hea")
        if not header.is_file():
            raise InvalidRecordingError(
                f"{p}: a WFDB record needs its header file {header.name}, which is "
                "not there. Give the .hea and .dat files together."
            )
        return check_file(header), []
    headers = [p for p in paths if p.suffix.lower() == ".hea"]
    others = [p for p in paths if p.suffix.lower() != ".hea"]
    if len(headers) != 1:
        names = ", ".join(str(p) for p in paths)
        raise InvalidRecordingError(
            f"{names}: a WFDB record needs exactly one .hea header file, got "
            f"{len(headers)}."
        )
    for p in others:
        check_file(p)
    return check_file(headers[0]), others


def _stage(
    header: Path, data_files: list[Path], tmp: Path, *, in_zip: Path | None = None
) -> Path:
    """Link the header and data files into ``tmp`` under the names wfdb expects.

    Returns the record path (without ``.hea``) to hand to ``wfdb.rdrecord``.
    ``in_zip`` is the archive the files came from, used in messages.
    """
    staged_header = tmp / "record.hea"
    _link(header, staged_header)
    hdr = _read_header(tmp / "record", display=in_zip or header)
    wanted = _data_file_names(hdr, display=header)
    if not data_files:
        # Header alone or a record path: data files live beside the header.
        for name in wanted:
            src = header.parent / name
            if not src.is_file():
                raise InvalidRecordingError(
                    f"{in_zip or header}: the data file {name} named in the header "
                    "is missing."
                )
            data_files.append(src)
        mapping = dict(zip(wanted, data_files, strict=True))
    elif len(wanted) == 1 and len(data_files) == 1:
        # One data file given under any name (e.g. a temporary upload name).
        mapping = {wanted[0]: data_files[0]}
    else:
        by_name = {p.name: p for p in data_files}
        missing = [n for n in wanted if n not in by_name]
        if missing:
            raise InvalidRecordingError(
                f"{header}: the header needs data file(s) {', '.join(missing)}, "
                f"which were not given (got {', '.join(sorted(by_name))})."
            )
        mapping = {n: by_name[n] for n in wanted}
    for name, src in mapping.items():
        check_file(src)
        dest = tmp / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        _link(src, dest)
    _check_data_sizes(hdr, mapping, display=header, in_zip=in_zip)
    return tmp / "record"


def _link(src: Path, dest: Path) -> None:
    try:
        os.symlink(src.resolve(), dest)
    except OSError:  # file systems without symlinks
        shutil.copyfile(src, dest)


def _read_header(record_base: Path, *, display: Path) -> Any:
    import wfdb

    try:
        hdr = wfdb.rdheader(str(record_base))
    except Exception as exc:  # wfdb raises many types for bad text
        raise InvalidRecordingError(
            f"{display}: not a readable WFDB header ({exc})."
        ) from None
    if not isinstance(hdr, wfdb.Record):
        raise InvalidRecordingError(
            f"{display}: multi-segment WFDB records are not supported; convert it "
            "to a single-segment record."
        )
    if not hdr.n_sig:
        raise InvalidRecordingError(f"{display}: the WFDB header lists no signals.")
    return hdr


def _data_file_names(hdr: Any, *, display: Path) -> list[str]:
    names: list[str] = []
    for name in hdr.file_name:
        if name == "~" or not name:
            raise InvalidRecordingError(
                f"{display}: the header has a signal without a data file, which is "
                "not supported."
            )
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts:
            raise InvalidRecordingError(
                f"{display}: the header names data file {name!r} outside its folder."
            )
        if name not in names:
            names.append(name)
    return names


def _check_data_sizes(
    hdr: Any, mapping: dict[str, Path], *, display: Path, in_zip: Path | None
) -> None:
    """Compare each data file's size with the samples the header promises."""
    from wfdb.io._signal import BYTES_PER_SAMPLE

    check_size(display, int(hdr.n_sig), int(hdr.sig_len or 0))
    if hdr.sig_len is None:
        return  # wfdb infers the length from the file size
    spf = hdr.samps_per_frame or [1] * hdr.n_sig
    offsets = hdr.byte_offset or [None] * hdr.n_sig
    for name, src in mapping.items():
        idx = [i for i, f in enumerate(hdr.file_name) if f == name]
        fmt = str(hdr.fmt[idx[0]])
        bps = BYTES_PER_SAMPLE.get(fmt, 0)
        if not bps:
            continue  # compressed (FLAC) formats: size says nothing
        per_frame = sum(int(spf[i] or 1) for i in idx)
        offset = int(offsets[idx[0]] or 0)
        expected_bytes = offset + math.ceil(hdr.sig_len * per_frame * bps)
        size = src.stat().st_size
        if size < expected_bytes:
            found = max(0, int((size - offset) / (per_frame * bps)))
            where = f"{in_zip} ({src.name})" if in_zip else str(src)
            raise InvalidRecordingError(
                f"{where}: WFDB data file is truncated: the header {display.name} "
                f"expects {hdr.sig_len} samples per channel ({expected_bytes} bytes) "
                f"but the file holds only {found} ({size} bytes)."
            )
        if size > expected_bytes:
            logger.info(
                "%s: %d bytes after the last sample are ignored",
                src,
                size - expected_bytes,
            )


def _read_staged(record_base: Path, *, display: Path, sfreq: float | None) -> Recording:
    import wfdb

    try:
        rec = wfdb.rdrecord(str(record_base), physical=True)
    except InvalidRecordingError:
        raise
    except Exception as exc:
        raise InvalidRecordingError(
            f"{display}: the WFDB record could not be read ({exc})."
        ) from None
    if rec.p_signal is None or rec.p_signal.size == 0:
        raise InvalidRecordingError(f"{display}: the WFDB record holds no samples.")
    if any(int(s or 1) != 1 for s in (rec.samps_per_frame or [])):
        logger.warning(
            "%s: signals with several samples per frame were averaged to "
            "the frame rate by wfdb",
            display,
        )
    fs = float(rec.fs)
    if sfreq is not None and not math.isclose(float(sfreq), fs, rel_tol=1e-3):
        raise InvalidRecordingError(
            f"{display}: the header gives a sampling rate of {fs:g} Hz, but "
            f"{float(sfreq):g} Hz was requested; leave the rate out for WFDB files."
        )
    n_sig = int(rec.n_sig)
    names = [
        str(n) if n not in (None, "") else f"ch{i + 1}"
        for i, n in enumerate(rec.sig_name or [None] * n_sig)
    ]
    units = [normalise_unit(u) for u in (rec.units or [None] * n_sig)]
    data = np.ascontiguousarray(rec.p_signal.T, dtype=np.float32)
    return Recording(
        data=data,
        sfreq=fs,
        ch_names=tuple(names),
        units=tuple(units),
        source={
            "format": "wfdb",
            "path": str(display),
            "record_name": str(rec.record_name),
            "comments": [str(c) for c in (rec.comments or [])],
            "fmt": [str(f) for f in (rec.fmt or [])],
        },
    )


def _read_zip(path: Path, *, sfreq: float | None) -> Recording:
    """Extract a zip safely (no path traversal, bounded size) and read its record."""
    check_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidRecordingError(
            f"{path}: not a readable zip file ({exc})."
        ) from None
    with zf, tempfile.TemporaryDirectory(prefix="emgcore-zip-") as tmp:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise InvalidRecordingError(
                f"{path}: the zip holds {len(members)} files; at most "
                f"{MAX_ZIP_MEMBERS} are accepted for one record."
            )
        total = sum(m.file_size for m in members)
        if total > MAX_FILE_BYTES:
            raise InvalidRecordingError(
                f"{path}: the zip unpacks to {format_bytes(total)}, more than the "
                f"{format_bytes(MAX_FILE_BYTES)} limit."
            )
        headers = []
        extracted: list[Path] = []
        for m in members:
            pure = PurePosixPath(m.filename.replace("\\", "/"))
            if pure.is_absolute() or ".." in pure.parts:
                raise InvalidRecordingError(
                    f"{path}: the zip entry {m.filename!r} points outside the archive."
                )
            if pure.name.startswith(".") or pure.parts[0] == "__MACOSX":
                continue
            # Flatten: WFDB headers name their data files relative to themselves,
            # and a single record has no reason to use subfolders.
            dest = Path(tmp) / pure.name
            if dest.exists():
                raise InvalidRecordingError(
                    f"{path}: the zip holds two files named {pure.name}."
                )
            _extract_bounded(zf, m, dest, path)
            extracted.append(dest)
            if dest.suffix.lower() == ".hea":
                headers.append(dest)
        if len(headers) != 1:
            raise InvalidRecordingError(
                f"{path}: the zip must hold exactly one WFDB header (.hea), found "
                f"{len(headers)}."
            )
        with tempfile.TemporaryDirectory(prefix="emgcore-wfdb-") as stage:
            base = _stage(headers[0], [], Path(stage), in_zip=path)
            rec = _read_staged(base, display=path, sfreq=sfreq)
    rec.source["zip_member"] = headers[0].name
    return rec


def _extract_bounded(
    zf: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path, display: Path
) -> None:
    """Copy one member, refusing to write more than its declared size."""
    limit = member.file_size
    written = 0
    try:
        with zf.open(member) as src, open(dest, "wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise InvalidRecordingError(
                        f"{display}: zip entry {member.filename!r} is larger than "
                        "its declared size."
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InvalidRecordingError(
            f"{display}: zip entry {member.filename!r} is corrupt ({exc})."
        ) from None
