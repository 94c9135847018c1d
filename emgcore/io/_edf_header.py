"""Checks of an EDF/BDF header's fields, before ``edfio`` parses the file.

edfio converts the fixed-width ASCII fields with ``int()``/``float()`` and
divides by some of them, so a damaged header surfaces as Python errors
("invalid literal for int()", "integer division or modulo by zero", ...) or,
worse, is accepted: equal physical minimum and maximum give an uncalibrated
signal with only a warning. This module reads the header layout of the EDF
specification (Kemp et al. 1992; BDF is the same with 24-bit samples) and
refuses every field it cannot trust, naming the field and what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from emgcore._validation import MAX_CHANNELS, MAX_SFREQ_HZ, MIN_SFREQ_HZ
from emgcore.errors import InvalidRecordingError

_FIXED = 256  # bytes of the main header
_PER_SIGNAL = 256  # header bytes per signal
# (name in messages, width) of each per-signal field, in file order.
_SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer type", 80),
    ("physical dimension", 8),
    ("physical minimum", 8),
    ("physical maximum", 8),
    ("digital minimum", 8),
    ("digital maximum", 8),
    ("prefiltering", 80),
    ("number of samples in each data record", 8),
    ("reserved", 32),
)
_DIGITAL_LIMITS = {"edf": (-32768, 32767), "bdf": (-8388608, 8388607)}
_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")


@dataclass(frozen=True)
class EdfSignalSpec:
    label: str
    unit: str  # as written (Latin-1 decoded, so "µV" survives)
    samples_per_record: int
    sfreq: float
    is_annotation: bool


def check_edf_header(path: Path, *, fmt: str) -> list[EdfSignalSpec]:
    """Check the header of an EDF (``fmt="edf"``) or BDF (``"bdf"``) file.

    Returns the signals in file order (annotation channels included, marked).

    Raises
    ------
    InvalidRecordingError
        Naming the header field that is missing, unreadable or impossible, or
        saying how many data records are expected and found.
    """
    kind = fmt.upper()
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(_FIXED)
        if len(head) < _FIXED:
            raise InvalidRecordingError(
                f"{path}: the file is {size} bytes, shorter than the {_FIXED}-byte "
                f"{kind} header; it is truncated or not {_a(kind)} file."
            )
        _check_version(path, head[:8], fmt)
        n_signals = _integer(path, head[252:256], "number of signals", kind)
        if not 1 <= n_signals <= MAX_CHANNELS:
            raise InvalidRecordingError(
                f"{path}: the {kind} header's 'number of signals' field is "
                f"{n_signals}; it must be between 1 and {MAX_CHANNELS}."
            )
        signal_block = fh.read(_PER_SIGNAL * n_signals)
    header_bytes = _FIXED + _PER_SIGNAL * n_signals
    if len(signal_block) < _PER_SIGNAL * n_signals:
        raise InvalidRecordingError(
            f"{path}: the {kind} header describes {n_signals} signal(s), which needs "
            f"{header_bytes} header bytes, but the file holds only {size} bytes; it "
            "is truncated."
        )
    stated = _integer(path, head[184:192], "number of bytes in header record", kind)
    if stated != header_bytes:
        raise InvalidRecordingError(
            f"{path}: the {kind} header's 'number of bytes in header record' field "
            f"is {stated}, but {n_signals} signal(s) need {header_bytes}; the header "
            "is damaged."
        )
    if head[192:197] == b"EDF+D":
        raise InvalidRecordingError(
            f"{path}: discontinuous EDF+D recordings are not supported; export a "
            "continuous EDF+C file."
        )
    n_records = _integer(path, head[236:244], "number of data records", kind)
    duration = _number(path, head[244:252], "duration of a data record", kind)
    if not duration > 0:
        raise InvalidRecordingError(
            f"{path}: the {kind} header's 'duration of a data record' field is "
            f"{duration:g} s; it must be a positive number of seconds."
        )
    fields = _split_signal_fields(signal_block, n_signals)
    signals = [_signal(path, fields, i, duration, fmt) for i in range(n_signals)]
    _check_data_size(path, signals, n_records, header_bytes, size, fmt)
    data_signals = [s for s in signals if not s.is_annotation]
    if not data_signals:
        raise InvalidRecordingError(
            f"{path}: the file holds only annotations, no signal to analyse."
        )
    top = max(data_signals, key=lambda s: s.sfreq)
    if not MIN_SFREQ_HZ <= top.sfreq <= MAX_SFREQ_HZ:
        raise InvalidRecordingError(
            f"{path}: signal {top.label!r} is sampled at {top.sfreq:g} Hz "
            f"({top.samples_per_record} samples per {duration:g} s data record), "
            f"outside the supported range for EMG ({MIN_SFREQ_HZ:g}-"
            f"{MAX_SFREQ_HZ:g} Hz); the header is probably wrong."
        )
    return signals


def _check_version(path: Path, version: bytes, fmt: str) -> None:
    if fmt == "bdf" and version != b"\xffBIOSEMI":
        looks_edf = version.rstrip(b" ") == b"0"
        hint = " (it looks like an EDF file; rename it to .edf)" if looks_edf else ""
        raise InvalidRecordingError(
            f"{path}: not a BDF file: a BDF file starts with the bytes "
            f"'\\xffBIOSEMI'{hint}."
        )
    if fmt == "edf" and version.rstrip(b" ") != b"0":
        hint = (
            " (it looks like a BDF file; rename it to .bdf)"
            if version == b"\xffBIOSEMI"
            else ""
        )
        raise InvalidRecordingError(
            f"{path}: not an EDF file: an EDF file starts with the version field "
            f"'0'{hint}."
        )


def _split_signal_fields(block: bytes, n: int) -> dict[str, list[bytes]]:
    """The per-signal fields: each is stored for all signals before the next."""
    fields: dict[str, list[bytes]] = {}
    pos = 0
    for name, width in _SIGNAL_FIELDS:
        fields[name] = [
            block[pos + i * width : pos + (i + 1) * width] for i in range(n)
        ]
        pos += width * n
    return fields


def _signal(
    path: Path, fields: dict[str, list[bytes]], i: int, duration: float, fmt: str
) -> EdfSignalSpec:
    kind = fmt.upper()
    label = _text(fields["label"][i]) or f"signal {i + 1}"
    what = f"signal {i + 1} ({label!r})"

    def field(name: str) -> bytes:
        return fields[name][i]

    spr_name = "number of samples in each data record"
    spr = _integer(path, field(spr_name), spr_name, kind, what)
    if spr < 1:
        raise InvalidRecordingError(
            f"{path}: the {kind} header gives {what} {spr} samples per data record; "
            "it must be at least 1."
        )
    is_annotation = label in _ANNOTATION_LABELS
    if not is_annotation:
        pmin = _number(path, field("physical minimum"), "physical minimum", kind, what)
        pmax = _number(path, field("physical maximum"), "physical maximum", kind, what)
        dmin = _integer(path, field("digital minimum"), "digital minimum", kind, what)
        dmax = _integer(path, field("digital maximum"), "digital maximum", kind, what)
        if pmin == pmax:
            raise InvalidRecordingError(
                f"{path}: the {kind} header gives {what} the same physical minimum "
                f"and maximum ({pmin:g}), so its samples cannot be converted to "
                "physical units."
            )
        lo, hi = _DIGITAL_LIMITS[fmt]
        if not lo <= dmin < dmax <= hi:
            raise InvalidRecordingError(
                f"{path}: the {kind} header gives {what} the digital range "
                f"{dmin} to {dmax}; the minimum must be below the maximum and both "
                f"within {lo} to {hi} for {kind}."
            )
    return EdfSignalSpec(
        label=label,
        unit=_text(field("physical dimension")),
        samples_per_record=spr,
        sfreq=spr / duration,
        is_annotation=is_annotation,
    )


def _check_data_size(
    path: Path,
    signals: list[EdfSignalSpec],
    n_records: int,
    header_bytes: int,
    size: int,
    fmt: str,
) -> None:
    kind = fmt.upper()
    record_bytes = sum(s.samples_per_record for s in signals) * (
        3 if fmt == "bdf" else 2
    )
    data_bytes = size - header_bytes
    found = data_bytes // record_bytes
    if n_records == -1:  # allowed while recording: count from the file size
        if found < 1 or data_bytes % record_bytes:
            raise InvalidRecordingError(
                f"{path}: the {kind} header leaves the number of data records open "
                f"(-1) and the {data_bytes} data bytes are not a whole number of "
                f"{record_bytes}-byte data records; the file is truncated."
            )
        return
    if n_records < 1:
        raise InvalidRecordingError(
            f"{path}: the {kind} header's 'number of data records' field is "
            f"{n_records}; the file holds no data."
        )
    expected = n_records * record_bytes
    if data_bytes != expected:
        state = "truncated" if data_bytes < expected else "longer than its header says"
        partial = " and part of one more" if data_bytes % record_bytes else ""
        raise InvalidRecordingError(
            f"{path}: the {kind} file is {state}: the header expects {n_records} data "
            f"record(s) ({expected} bytes after the header) but the file holds "
            f"{found}{partial} ({data_bytes} bytes)."
        )


def _text(raw: bytes) -> str:
    # Latin-1 maps every byte, so a non-ASCII unit ("µV") is kept as written.
    return raw.decode("latin-1").strip()


def _a(kind: str) -> str:
    """'an EDF', 'a BDF'."""
    return f"an {kind}" if kind == "EDF" else f"a {kind}"


def _integer(path: Path, raw: bytes, name: str, kind: str, what: str = "") -> int:
    text = _text(raw)
    owner = f" of {what}" if what else ""
    try:
        return int(text)
    except ValueError:
        raise InvalidRecordingError(
            f"{path}: the {kind} header's '{name}' field{owner} is {_shown(text)}, "
            "not a whole number; the header is damaged or this is not "
            f"{_a(kind)} file."
        ) from None


def _number(path: Path, raw: bytes, name: str, kind: str, what: str = "") -> float:
    text = _text(raw)
    owner = f" of {what}" if what else ""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidRecordingError(
            f"{path}: the {kind} header's '{name}' field{owner} is {_shown(text)}, "
            "not a number; the header is damaged or this is not "
            f"{_a(kind)} file."
        )
    return value


def _shown(text: str) -> str:
    if not text:
        return "empty"
    printable = "".join(c if c.isprintable() else "?" for c in text)
    return repr(printable)
