"""Strict reading of WFDB header text, before ``wfdb`` sees it.

``wfdb.rdheader`` parses headers with permissive regular expressions and fills
in defaults: a sampling rate it cannot read becomes 250 Hz (``rec 1 -4000 8000``
reads as 250 Hz, the ``-4000`` taken as a counter frequency), a gain of 0 or a
missing gain becomes 200, and the text is read as ASCII with other bytes
dropped, so ``200/µV`` becomes volts. A wrong rate or gain silently changes
every number computed from the signal, so this module parses the header
fields itself, following the WFDB header format (``header(5)`` in the WFDB
Software Package), and refuses any field it cannot trust with a message that
names the field, the line and what is wrong. Nothing is ever replaced by a
default value.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from emgcore._validation import MAX_SFREQ_HZ, MIN_SFREQ_HZ
from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_size

logger = logging.getLogger(__name__)

# A header is a few lines per signal; anything far larger is not a header.
MAX_HEADER_BYTES = 1024 * 1024

# Bytes after the header's last sample that are ignored rather than refused,
# as a fraction of the data bytes the header describes (see check_data_sizes).
MAX_TRAILING_FRACTION = 0.01

# Names wfdb itself accepts (its regular expressions), so that what passes
# here is read by wfdb the same way.
_RECORD_NAME = re.compile(r"^[-\w]+$", re.ASCII)
_FILE_NAME = re.compile(r"^[-\w]+(\.\w+)?$", re.ASCII)
_PLAIN_DECIMAL = re.compile(r"^(\d+\.?\d*|\.\d+)$", re.ASCII)
_FORMAT_FIELD = re.compile(
    r"^(?P<fmt>[^x:+]*)(?:x(?P<spf>[^:+]*))?(?::(?P<skew>[^+]*))?(?:\+(?P<off>.*))?$"
)
_GAIN_FIELD = re.compile(
    r"^(?P<gain>[^(/]*)(?:\((?P<baseline>[^)]*)\))?(?:/(?P<units>.*))?$"
)
# Signal-line fields 4-8, which must be whole numbers when present.
_INTEGER_FIELDS = (
    "ADC resolution",
    "ADC zero",
    "initial value",
    "checksum",
    "block size",
)
_RECORD_LINE_HINT = (
    "The first line of a WFDB header reads 'record_name n_signals sampling_rate "
    "n_samples', e.g. 'rec 1 4000 110337'."
)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh")


@dataclass(frozen=True)
class SignalSpec:
    """One signal line of a WFDB header, as written."""

    file_name: str
    fmt: str
    samps_per_frame: int
    byte_offset: int
    gain: float
    baseline: int | None
    units: str
    description: str


@dataclass(frozen=True)
class HeaderSpec:
    """The record line and signal lines of a single-segment WFDB header."""

    record_name: str
    n_sig: int
    fs: float
    sig_len: int | None  # None: not written; taken from the data file size
    signals: tuple[SignalSpec, ...]
    comments: tuple[str, ...]


def read_header_text(path: Path, *, display: object) -> str:
    """The header file as text; refuses binary or oversized files plainly."""
    size = path.stat().st_size
    if size > MAX_HEADER_BYTES:
        raise InvalidRecordingError(
            f"{display}: the WFDB header is {size} bytes; a header is a short text "
            "file (a few lines per signal), so this is not a WFDB header."
        )
    raw = path.read_bytes()
    if b"\0" in raw:
        raise InvalidRecordingError(
            f"{display}: the WFDB header is not a text file (it holds binary bytes); "
            "check that the .hea and .dat files were not swapped or damaged."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Old headers may carry Latin-1 text (e.g. "µV" as byte 0xB5); Latin-1
        # maps every byte to one character, so the unit is read as written.
        return raw.decode("latin-1")


def parse_header(text: str, *, display: object) -> HeaderSpec:
    """Parse and check a WFDB header's record and signal lines.

    Raises
    ------
    InvalidRecordingError
        Naming the line and field that is missing, unreadable or impossible.
    """
    lines, comments = [], []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if line.startswith("#"):
            comments.append(line.lstrip("#").strip())
        elif line:
            lines.append(line)
    if not lines:
        raise InvalidRecordingError(
            f"{display}: the WFDB header holds no record line (only comments or "
            "blank lines)."
        )
    name, n_sig, fs, sig_len = _record_line(lines[0], display)
    signal_lines = lines[1:]
    if len(signal_lines) != n_sig:
        raise InvalidRecordingError(
            f"{display}: the header's first line says the record has {n_sig} "
            f"signal(s), but {len(signal_lines)} signal line(s) follow; the channel "
            "count and the signal lines must agree."
        )
    signals = tuple(
        _signal_line(line, i + 1, display) for i, line in enumerate(signal_lines)
    )
    fmts: dict[str, tuple[int, str]] = {}
    for i, sig in enumerate(signals, start=1):
        first = fmts.setdefault(sig.file_name, (i, sig.fmt))
        if first[1] != sig.fmt:
            raise InvalidRecordingError(
                f"{display}: signals {first[0]} and {i} share the data file "
                f"{sig.file_name} but have different formats ({first[1]} and "
                f"{sig.fmt}); WFDB stores one format per data file."
            )
    return HeaderSpec(name, n_sig, fs, sig_len, signals, tuple(comments))


def _field(position: int) -> str:
    return _ORDINALS[position] if position < len(_ORDINALS) else f"{position + 1}th"


def _record_line(line: str, display: object) -> tuple[str, int, float, int | None]:
    fields = line.split()
    name = fields[0]
    if "/" in name:
        raise InvalidRecordingError(
            f"{display}: the header describes a multi-segment WFDB record (record "
            f"name {name!r}), which is not supported; convert it to a single-segment "
            "record."
        )
    if not _RECORD_NAME.match(name):
        raise InvalidRecordingError(
            f"{display}: the record name {name!r} on the header's first line may "
            "only hold letters, digits, '-' and '_' (is this a WFDB header?)."
        )
    if len(fields) < 2:
        raise InvalidRecordingError(
            f"{display}: the header's first line has no signal count (its second "
            "field, the number of channels)."
        )
    n_sig = _whole(fields[1])
    if n_sig is None or n_sig < 0:
        raise InvalidRecordingError(
            f"{display}: the header's signal count (second field of the first line) "
            f"is {fields[1]!r}, not a whole number of channels. {_RECORD_LINE_HINT}"
        )
    if n_sig == 0:
        raise InvalidRecordingError(
            f"{display}: the header says the record has 0 signals; there is nothing "
            "to analyse."
        )
    if len(fields) < 3:
        raise InvalidRecordingError(
            f"{display}: the header gives no sampling rate (the third field of the "
            "first line is missing). The rate must be stated; it is never assumed."
        )
    fs = _sampling_rate(fields[2], display)
    sig_len = None
    if len(fields) >= 4:
        sig_len = _whole(fields[3])
        if sig_len is None or sig_len < 0:
            raise InvalidRecordingError(
                f"{display}: the header's sample count (fourth field of the first "
                f"line) is {fields[3]!r}, not a whole number of samples."
            )
        if sig_len == 0:
            raise InvalidRecordingError(
                f"{display}: the header says each signal holds 0 samples; there is "
                "nothing to analyse."
            )
    return name, n_sig, fs, sig_len


def _sampling_rate(text: str, display: object) -> float:
    # "fs[/counter_freq[(base_counter)]]": only the frame rate matters here.
    rate_text = text.split("/", 1)[0]
    where = "the header's sampling rate field (third field of the first line)"
    try:
        fs = float(rate_text)
    except ValueError:
        raise InvalidRecordingError(
            f"{display}: {where} is {rate_text!r}, which is not a number of samples "
            "per second."
        ) from None
    if not math.isfinite(fs):
        raise InvalidRecordingError(
            f"{display}: {where} is {rate_text!r}, which is not a finite number of "
            "samples per second."
        )
    if fs <= 0:
        raise InvalidRecordingError(
            f"{display}: {where} is {rate_text}, which is impossible: a sampling rate "
            "must be a positive number of samples per second."
        )
    if not MIN_SFREQ_HZ <= fs <= MAX_SFREQ_HZ:
        raise InvalidRecordingError(
            f"{display}: {where} is {rate_text} Hz, outside the supported range for "
            f"EMG ({MIN_SFREQ_HZ:g}-{MAX_SFREQ_HZ:g} Hz); the header is probably wrong."
        )
    if not _PLAIN_DECIMAL.match(rate_text):
        raise InvalidRecordingError(
            f"{display}: {where} is {rate_text!r}; write it as a plain decimal number "
            "of samples per second (e.g. 4000), as WFDB readers expect."
        )
    return fs


def _signal_line(line: str, number: int, display: object) -> SignalSpec:
    from wfdb.io._signal import BYTES_PER_SAMPLE, COMPRESSED_FMTS

    fields = line.split(None, 8)
    where = f"signal line {number} of the header"
    file_name = fields[0]
    if file_name.startswith("~"):
        raise InvalidRecordingError(
            f"{display}: {where} has no data file ('~'), which is not supported."
        )
    if not _FILE_NAME.match(file_name):
        raise InvalidRecordingError(
            f"{display}: {where} names the data file {file_name!r}; a data file name "
            "may only hold letters, digits, '-', '_' and one extension."
        )
    if len(fields) < 2:
        raise InvalidRecordingError(
            f"{display}: {where} has no storage format (its second field)."
        )
    parts = _FORMAT_FIELD.match(fields[1])
    assert parts is not None  # the pattern matches any text
    fmt = parts["fmt"]
    if fmt in COMPRESSED_FMTS:
        raise InvalidRecordingError(
            f"{display}: {where} uses the compressed (FLAC) storage format {fmt}, "
            "which is not supported; convert the record to format 16."
        )
    if fmt not in BYTES_PER_SAMPLE:
        supported = ", ".join(f for f in BYTES_PER_SAMPLE if f not in COMPRESSED_FMTS)
        raise InvalidRecordingError(
            f"{display}: {where} gives the storage format {fields[1]!r}, which is not "
            f"a WFDB format this application reads (supported: {supported})."
        )
    spf = 1 if parts["spf"] is None else _whole(parts["spf"])
    if spf is None or spf < 1:
        raise InvalidRecordingError(
            f"{display}: {where} gives {parts['spf']!r} samples per frame; it must be "
            "a whole number of at least 1."
        )
    if parts["skew"] is not None and _whole(parts["skew"]) is None:
        raise InvalidRecordingError(
            f"{display}: {where} gives the skew {parts['skew']!r}, not a whole number."
        )
    offset = 0 if parts["off"] is None else _whole(parts["off"])
    if offset is None or offset < 0:
        raise InvalidRecordingError(
            f"{display}: {where} gives the byte offset {parts['off']!r}; it must be a "
            "whole number of bytes, 0 or more."
        )
    if len(fields) < 3:
        raise InvalidRecordingError(
            f"{display}: {where} gives no gain (ADC units per physical unit, its third "
            "field), so the samples cannot be converted to physical units. The gain "
            "must be stated; it is never assumed."
        )
    gain, baseline, units = _gain_field(fields[2], where, display)
    for position in range(3, min(len(fields), 8)):
        if _whole(fields[position]) is None:
            raise InvalidRecordingError(
                f"{display}: {where} gives {fields[position]!r} as its "
                f"{_INTEGER_FIELDS[position - 3]} ({_field(position)} field), not a "
                "whole number."
            )
    description = fields[8].strip() if len(fields) > 8 else ""
    return SignalSpec(file_name, fmt, spf, offset, gain, baseline, units, description)


def _gain_field(
    text: str, where: str, display: object
) -> tuple[float, int | None, str]:
    parts = _GAIN_FIELD.match(text)
    if parts is None:
        raise InvalidRecordingError(
            f"{display}: {where} gives {text!r} as its gain field; expected "
            "'gain(baseline)/units', e.g. '200(0)/mV'."
        )
    gain_text = parts["gain"]
    try:
        gain = float(gain_text)
    except ValueError:
        raise InvalidRecordingError(
            f"{display}: {where} gives the gain {gain_text!r}, which is not a number "
            "(ADC units per physical unit, e.g. '200/mV')."
        ) from None
    if not math.isfinite(gain):
        raise InvalidRecordingError(
            f"{display}: {where} gives the gain {gain_text!r}, which is not a finite "
            "number."
        )
    if gain == 0:
        raise InvalidRecordingError(
            f"{display}: {where} gives a gain of 0, which means the signal is "
            "uncalibrated: its samples cannot be converted to physical units (WFDB "
            "would assume 200 per mV; this application does not guess)."
        )
    baseline = None
    if parts["baseline"] is not None:
        baseline = _whole(parts["baseline"])
        if baseline is None:
            raise InvalidRecordingError(
                f"{display}: {where} gives the baseline {parts['baseline']!r}, not a "
                "whole number of ADC units."
            )
    return gain, baseline, (parts["units"] or "").strip()


def _whole(text: str) -> int | None:
    """``int(text)`` for plain decimal integers, else None (no '1e3', no '0x10')."""
    text = text.strip()
    if not re.fullmatch(r"[-+]?\d+", text):
        return None
    return int(text)


def check_data_sizes(
    spec: HeaderSpec, files: dict[str, Path], *, display: Path, in_zip: Path | None
) -> int:
    """Compare each data file's size with what the header promises.

    Returns the number of samples per signal: the header's, or, when the header
    does not state it, the number of whole frames in the data file(s).
    """
    from wfdb.io._signal import BYTES_PER_SAMPLE

    check_size(display, spec.n_sig, spec.sig_len or 0)
    found_lengths: dict[str, int] = {}
    for name, src in files.items():
        sigs = [s for s in spec.signals if s.file_name == name]
        fmt, offset = sigs[0].fmt, sigs[0].byte_offset
        frame_bytes = sum(s.samps_per_frame for s in sigs) * BYTES_PER_SAMPLE[fmt]
        size = src.stat().st_size
        where = f"{in_zip} ({src.name})" if in_zip else str(src)
        if offset >= size:
            raise InvalidRecordingError(
                f"{where}: the header {display.name} says the samples start at byte "
                f"offset {offset}, but the data file holds only {size} bytes."
            )
        found = int((size - offset) // frame_bytes)
        found_lengths[name] = found
        if spec.sig_len is None:
            continue
        expected = offset + math.ceil(spec.sig_len * frame_bytes)
        detail = (
            f"the header {display.name} expects {spec.sig_len} samples per channel "
            f"({expected} bytes with {len(sigs)} channel(s) in format {fmt}"
            + (f" after a {offset}-byte offset" if offset else "")
            + f") but the file holds {found} ({size} bytes)"
        )
        if size < expected:
            raise InvalidRecordingError(
                f"{where}: WFDB data file is truncated: {detail}."
            )
        # A header may describe only part of its file: the N2001 headers skip
        # 10 words before and after the signal (20 of 524 288 bytes). A file far
        # longer than its header says is a wrong sample or channel count (two
        # interleaved channels read as one double the size), which would be
        # analysed as the wrong signal, so more than 1 % extra is refused.
        extra = size - expected
        if extra > MAX_TRAILING_FRACTION * (expected - offset):
            raise InvalidRecordingError(
                f"{where}: the data file is much longer than its header says: "
                f"{detail}. The header's sample count or channel count is wrong, or "
                "the data file belongs to another record."
            )
        if extra:
            logger.info("%s: %d bytes after the last sample are ignored", src, extra)
    if spec.sig_len is not None:
        return spec.sig_len
    lengths = set(found_lengths.values())
    if len(lengths) != 1:
        shown = ", ".join(f"{n}: {k}" for n, k in found_lengths.items())
        raise InvalidRecordingError(
            f"{display}: the header states no sample count and its data files hold "
            f"different numbers of samples ({shown})."
        )
    n_times = lengths.pop()
    if n_times < 1:
        raise InvalidRecordingError(
            f"{display}: the data file holds no whole sample for every channel."
        )
    check_size(display, spec.n_sig, n_times)
    return n_times
