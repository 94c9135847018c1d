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
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import MAX_FILE_BYTES, check_file, format_bytes, normalise_unit
from emgcore.io._wfdb_header import (
    HeaderSpec,
    check_data_sizes,
    parse_header,
    read_header_text,
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
        staged = _stage(header, data_files, Path(tmp))
        return _read_staged(staged, display=header, sfreq=sfreq)


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
) -> tuple[Path, HeaderSpec, int]:
    """Check the header, then link it and its data files into ``tmp`` under the
    names wfdb expects.

    Returns the record path (without ``.hea``) to hand to ``wfdb.rdrecord``, the
    checked header and the number of samples per signal. ``in_zip`` is the
    archive the files came from, used in messages.
    """
    display = in_zip or header
    spec = parse_header(read_header_text(header, display=display), display=display)
    wanted = list(dict.fromkeys(s.file_name for s in spec.signals))
    if not data_files:
        # Header alone or a record path: data files live beside the header.
        for name in wanted:
            src = header.parent / name
            if not src.is_file():
                raise InvalidRecordingError(
                    f"{display}: the data file {name} named in the header is missing."
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
    for src in mapping.values():
        check_file(src)
    n_times = check_data_sizes(spec, mapping, display=header, in_zip=in_zip)
    _link(header, tmp / "record.hea")
    for name, src in mapping.items():
        _link(src, tmp / name)
    return tmp / "record", spec, n_times


def _link(src: Path, dest: Path) -> None:
    try:
        os.symlink(src.resolve(), dest)
    except OSError:  # file systems without symlinks
        shutil.copyfile(src, dest)


def _read_staged(
    staged: tuple[Path, HeaderSpec, int], *, display: Path, sfreq: float | None
) -> Recording:
    import wfdb

    record_base, spec, n_times = staged
    if sfreq is not None and not math.isclose(float(sfreq), spec.fs, rel_tol=1e-3):
        raise InvalidRecordingError(
            f"{display}: the header gives a sampling rate of {spec.fs:g} Hz, but "
            f"{float(sfreq):g} Hz was requested; leave the rate out for WFDB files."
        )
    try:
        rec = wfdb.rdrecord(str(record_base), physical=True)
    except Exception:
        # The header and sizes were checked above, so this is a damaged data
        # file or a wfdb limitation: the detail is for operators, not users.
        logger.info("wfdb could not read %s", display, exc_info=True)
        raise InvalidRecordingError(
            f"{display}: the WFDB samples could not be decoded although the header "
            "and file sizes are consistent; the data file may be damaged. Export "
            "the record again (format 16 is the most widely readable)."
        ) from None
    _check_agrees(rec, spec, n_times, display)
    names = [s.description or f"ch{i + 1}" for i, s in enumerate(spec.signals)]
    _check_missing_samples(rec, spec, names, display)
    if any(s.samps_per_frame != 1 for s in spec.signals):
        logger.warning(
            "%s: signals with several samples per frame were averaged to "
            "the frame rate by wfdb",
            display,
        )
    data = np.ascontiguousarray(rec.p_signal.T, dtype=np.float32)
    return Recording(
        data=data,
        sfreq=spec.fs,
        ch_names=tuple(names),
        # Units as the header writes them (wfdb drops non-ASCII, e.g. "µV" -> "V").
        # A header without units says nothing about them: "a.u.", not WFDB's
        # documented millivolt default, so later checks see what was recorded.
        units=tuple(normalise_unit(s.units) for s in spec.signals),
        source={
            "format": "wfdb",
            "path": str(display),
            "record_name": spec.record_name,
            "comments": list(spec.comments),
            "fmt": [s.fmt for s in spec.signals],
            "units_as_written": [s.units for s in spec.signals],
        },
    )


def _check_agrees(rec: Any, spec: HeaderSpec, n_times: int, display: Path) -> None:
    """wfdb must have read the same header we checked (its parser is looser)."""
    read = {
        "sampling rate": (float(rec.fs), spec.fs),
        "signal count": (int(rec.n_sig), spec.n_sig),
        "sample count": (int(rec.sig_len), n_times),
        "gain": (list(map(float, rec.adc_gain)), [s.gain for s in spec.signals]),
    }
    baselines = [s.baseline for s in spec.signals]
    if None not in baselines:
        read["baseline"] = (list(map(int, rec.baseline)), baselines)
    shape = getattr(rec.p_signal, "shape", None)
    read["samples read"] = (tuple(shape or ()), (n_times, spec.n_sig))
    for field, (got, want) in read.items():
        if got != want:
            logger.warning(
                "%s: wfdb read %s %r, the header text says %r",
                display,
                field,
                got,
                want,
            )
            raise InvalidRecordingError(
                f"{display}: the header's {field} could not be read unambiguously; "
                "rewrite the header in the standard WFDB layout (e.g. with "
                "wfdb.wrsamp)."
            )


def _check_missing_samples(
    rec: Any, spec: HeaderSpec, names: list[str], display: Path
) -> None:
    """WFDB marks missing samples with a reserved value (-32768 in format 16);
    wfdb turns them into NaN. A recording with gaps is refused, saying where."""
    from wfdb.io._signal import INVALID_SAMPLE_VALUE

    missing = ~np.isfinite(rec.p_signal)
    if not missing.any():
        return
    counts = missing.sum(axis=0)
    ch = int(np.flatnonzero(counts)[0])
    first = int(np.flatnonzero(missing[:, ch])[0])
    marker = INVALID_SAMPLE_VALUE.get(spec.signals[ch].fmt)
    raise InvalidRecordingError(
        f"{display}: {int(counts[ch])} sample(s) of channel {names[ch]!r} (the first "
        f"at {first / spec.fs:.3f} s) hold WFDB's 'missing sample' value"
        + (
            f" ({marker} in format {spec.signals[ch].fmt})"
            if marker is not None
            else ""
        )
        + f"; {int(counts.sum())} in all. Recordings with gaps cannot be analysed; "
        "export the recording without them."
    )


def _read_zip(path: Path, *, sfreq: float | None) -> Recording:
    """Extract a zip safely (no path traversal, bounded size) and read its record."""
    zf = open_zip(path)
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
                f"{path}: the zip would expand to {format_bytes(total)}, more than the "
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
            staged = _stage(headers[0], [], Path(stage), in_zip=path)
            rec = _read_staged(staged, display=path, sfreq=sfreq)
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
    except InvalidRecordingError:
        raise
    except NotImplementedError:  # (a RuntimeError subclass, so caught first)
        raise InvalidRecordingError(
            f"{display}: the zip entry {member.filename!r} uses a compression method "
            "that cannot be read; make the zip with ordinary (deflate) compression."
        ) from None
    except RuntimeError:  # zipfile's "File is encrypted, password required"
        raise InvalidRecordingError(
            f"{display}: the zip entry {member.filename!r} is password-protected; "
            "upload an unencrypted zip."
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        logger.info(
            "Corrupt zip entry %s in %s", member.filename, display, exc_info=True
        )
        raise InvalidRecordingError(
            f"{display}: the zip entry {member.filename!r} is damaged (its data do "
            "not decompress or fail the zip's checksum); make the zip again."
        ) from None


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip upload, refusing damaged or non-zip files in plain words."""
    check_file(path)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        # ValueError / NotImplementedError: malformed or exotic central directory.
        logger.info("Unreadable zip %s", path, exc_info=True)
        raise InvalidRecordingError(
            f"{path}: not a readable zip file (the file is damaged, truncated or not "
            "a zip archive)."
        ) from None
