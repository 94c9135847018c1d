"""CSV/TSV text: a header row, then one column per channel and one row per sample.

The sampling rate comes from a time column (``time``, ``time_s``, ``t``,
``time_ms``, ...; the median step must be uniform) or from the ``sfreq``
argument. A unit may be given in the header as ``EMG1 (mV)`` or ``EMG1 [uV]``.
"""

from __future__ import annotations

import csv
import logging
import math
import re
import warnings
from pathlib import Path

import numpy as np

from emgcore._validation import MAX_SFREQ_HZ, MIN_SFREQ_HZ
from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_file, check_size, normalise_unit
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

# Header names taken as a time column, with the unit their values are in.
_TIME_COLUMNS_S = {
    "time",
    "time_s",
    "t",
    "t_s",
    "time (s)",
    "time[s]",
    "time [s]",
    "seconds",
    "sec",
    "timestamp",
    "timestamp_s",
}
_TIME_COLUMNS_MS = {
    "time_ms",
    "t_ms",
    "time (ms)",
    "time[ms]",
    "time [ms]",
    "ms",
    "timestamp_ms",
}
# A time column is uniform enough if at most 1 % of its steps differ from the
# median step by more than 10 %.
MAX_IRREGULAR_STEP_FRACTION = 0.01
STEP_TOLERANCE = 0.10
_UNIT_IN_NAME = re.compile(r"^(.*?)\s*[\(\[]\s*([^\)\]]*)\s*[\)\]]\s*$")


def read_csv(path: Path, *, sfreq: float | None = None) -> Recording:
    """Read a delimited text file with a header row into a :class:`Recording`.

    Parameters
    ----------
    path : Path
        Comma-, semicolon-, tab- or whitespace-separated text. Lines starting
        with ``#`` are comments.
    sfreq : float | None
        Sampling rate in Hz. Required if there is no time column; if both are
        present, this argument wins (a warning is logged when they disagree).

    Returns
    -------
    recording : Recording
        One channel per non-time column, shape (n_chans, n_times).

    Raises
    ------
    InvalidRecordingError
        If the file is empty, has no header, a cell is not a number (the line
        and column are named), rows have different lengths, or the rate cannot
        be found or the time column is not uniform.
    """
    path = check_file(path)
    header_line, header_lineno = _first_line(path)
    delimiter = _sniff_delimiter(header_line)
    names = _split(header_line, delimiter)
    if delimiter is None and len(names) > 1 and _single_column(path, header_lineno):
        # One channel whose name has a space ("EMG (mV)"): the rows decide.
        names = [header_line.strip()]
    if all(_is_number(n) for n in names):
        raise InvalidRecordingError(
            f"{path}: line {header_lineno} holds numbers, but a header row with the "
            "channel names is needed first."
        )
    try:
        with warnings.catch_warnings():
            # numpy warns about a file without data rows; the check below says
            # so to the user in plain words instead.
            warnings.filterwarnings("ignore", "loadtxt: input contained no data")
            values = np.loadtxt(
                path,
                delimiter=delimiter,
                skiprows=header_lineno,
                comments="#",
                ndmin=2,
                dtype=np.float64,
                encoding="utf-8",
            )
    except UnicodeDecodeError:
        raise InvalidRecordingError(
            f"{path}: line {_first_undecodable_line(path)} is not UTF-8 text; save the "
            "file as UTF-8 (plain) CSV."
        ) from None
    except ValueError:
        _diagnose(path, delimiter, len(names), header_lineno)
        raise  # _diagnose always raises; this is only reached on a numpy quirk
    if values.size == 0 or values.shape[0] == 0:
        raise InvalidRecordingError(f"{path}: the file has a header but no samples.")
    if values.shape[1] != len(names):
        raise InvalidRecordingError(
            f"{path}: the header has {len(names)} columns but the rows have "
            f"{values.shape[1]}."
        )
    _check_finite(path, values, names, header_lineno)
    time_idx = _time_column(names)
    channel_idx = [i for i in range(len(names)) if i != time_idx]
    if not channel_idx:
        raise InvalidRecordingError(
            f"{path}: the file has a time column but no channels."
        )
    check_size(path, len(channel_idx), values.shape[0])
    rate_from_time = None
    if time_idx is not None:
        scale = 1e-3 if names[time_idx].strip().lower() in _TIME_COLUMNS_MS else 1.0
        rate_from_time = _rate_from_time(
            path, values[:, time_idx] * scale, names[time_idx], header_lineno
        )
    if sfreq is None and rate_from_time is None:
        raise InvalidRecordingError(
            f"{path}: no time column (e.g. 'time_s' or 'time_ms') and no sampling "
            "rate given; pass the sampling rate (sfreq / --sfreq) in Hz."
        )
    if sfreq is not None:
        sfreq = float(sfreq)
        if rate_from_time is not None and not math.isclose(
            sfreq, rate_from_time, rel_tol=0.01
        ):
            logger.warning(
                "%s: the time column implies %g Hz; using the given %g Hz",
                path,
                rate_from_time,
                sfreq,
            )
    rate = sfreq if sfreq is not None else rate_from_time
    ch_names, units = [], []
    for i in channel_idx:
        name, unit = _name_and_unit(names[i])
        ch_names.append(name or f"ch{len(ch_names) + 1}")
        units.append(normalise_unit(unit))
    data = np.ascontiguousarray(values[:, channel_idx].T, dtype=np.float32)
    return Recording(
        data=data,
        sfreq=float(rate),  # type: ignore[arg-type]
        ch_names=tuple(ch_names),
        units=tuple(units),
        source={
            "format": "csv",
            "path": str(path),
            "time_column": names[time_idx] if time_idx is not None else None,
        },
    )


def _first_line(path: Path) -> tuple[str, int]:
    """The first non-blank, non-comment line and its 1-based number."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for lineno, line in enumerate(fh, start=1):
                if line.strip() and not line.lstrip().startswith("#"):
                    return line.rstrip("\r\n"), lineno
    except UnicodeDecodeError:
        raise InvalidRecordingError(f"{path}: not a text (UTF-8) CSV file.") from None
    raise InvalidRecordingError(f"{path}: the file holds no header and no samples.")


def _single_column(path: Path, header_lineno: int) -> bool:
    """True if the first data row is one value with no delimiter."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            text = line.split("#", 1)[0].strip()
            if lineno > header_lineno and text:
                return _sniff_delimiter(text) is None and len(text.split()) == 1
    return False


def _sniff_delimiter(line: str) -> str | None:
    for delim in (",", ";", "\t"):
        if delim in line:
            return delim
    return None  # any whitespace


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    row = next(csv.reader([line], delimiter=delimiter))
    return [cell.strip() for cell in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _diagnose(
    path: Path, delimiter: str | None, n_cols: int, header_lineno: int
) -> None:
    """Find the first bad line and raise a message naming line and column."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno <= header_lineno:
                continue
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            cells = _split(text, delimiter)
            if len(cells) != n_cols:
                raise InvalidRecordingError(
                    f"{path}: line {lineno} has {len(cells)} values but the header "
                    f"has {n_cols} columns."
                )
            for col, cell in enumerate(cells, start=1):
                if not _is_number(cell):
                    shown = repr(cell[:40]) if cell else "an empty cell"
                    hint = ""
                    if delimiter != "," and _is_number(cell.replace(",", ".")):
                        hint = " (use '.' as the decimal mark, not ',')"
                    raise InvalidRecordingError(
                        f"{path}: line {lineno}, column {col}: {shown} is not a "
                        f"number{hint}."
                    )
    raise InvalidRecordingError(f"{path}: the file could not be parsed as numbers.")


def _check_finite(
    path: Path, values: np.ndarray, names: list[str], header_lineno: int
) -> None:
    """Refuse 'nan'/'inf' cells (numpy parses them) as missing samples, saying where."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    lineno = _data_line_number(path, header_lineno, row)
    raise InvalidRecordingError(
        f"{path}: line {lineno}, column {col + 1} ({names[col]!r}) holds "
        f"{float(values[row, col])!r}, a missing or infinite value; {int(bad.sum())} cell(s) "
        "in all. Recordings with gaps cannot be analysed; export the recording "
        "without them."
    )


def _data_line_number(path: Path, header_lineno: int, row: int) -> int:
    """The 1-based file line of data row ``row`` (comments and blanks skipped)."""
    seen = -1
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno <= header_lineno or not line.split("#", 1)[0].strip():
                continue
            seen += 1
            if seen == row:
                return lineno
    return header_lineno + row + 1  # not reached for rows numpy read


def _first_undecodable_line(path: Path) -> int:
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return 1


def _time_column(names: list[str]) -> int | None:
    for i, name in enumerate(names):
        key = name.strip().lower()
        if key in _TIME_COLUMNS_S or key in _TIME_COLUMNS_MS:
            return i
    return None


def _rate_from_time(
    path: Path, t_s: np.ndarray, name: str, header_lineno: int
) -> float:
    """Sampling rate in Hz from a time column in seconds; checks uniformity."""
    if t_s.size < 2:
        raise InvalidRecordingError(
            f"{path}: one sample is not enough to infer a rate from column {name!r}."
        )
    steps = np.diff(t_s)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        raise InvalidRecordingError(
            f"{path}: the time column {name!r} does not increase after data row "
            f"{int(bad[0]) + 1} (time {t_s[bad[0]]:g} then {t_s[bad[0] + 1]:g})."
        )
    median = float(np.median(steps))
    irregular = float(np.mean(np.abs(steps - median) > STEP_TOLERANCE * median))
    if irregular > MAX_IRREGULAR_STEP_FRACTION:
        raise InvalidRecordingError(
            f"{path}: the time column {name!r} is not uniformly sampled: "
            f"{100 * irregular:.1f} % of steps differ from the median step "
            f"({median * 1e3:g} ms) by more than {100 * STEP_TOLERANCE:g} %, the limit "
            f"is {100 * MAX_IRREGULAR_STEP_FRACTION:g} %. Resample it or give sfreq."
        )
    rate = float(f"{(t_s.size - 1) / float(t_s[-1] - t_s[0]):.6g}")
    if not MIN_SFREQ_HZ <= rate <= MAX_SFREQ_HZ:
        raise InvalidRecordingError(
            f"{path}: the time column {name!r} steps by {median:g} s, i.e. {rate:g} "
            f"Hz, outside the supported range for EMG ({MIN_SFREQ_HZ:g}-"
            f"{MAX_SFREQ_HZ:g} Hz); is the column in the unit its name says "
            "(e.g. 'time_s' in seconds, 'time_ms' in milliseconds)?"
        )
    return rate


def _name_and_unit(column: str) -> tuple[str, str | None]:
    match = _UNIT_IN_NAME.match(column)
    if match:
        return match.group(1).strip(), match.group(2)
    return column.strip(), None
