"""EDF, BDF and CSV cases of the malformed-input corpus (see malformed_corpus.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.emgcore.malformed_corpus import FS, Case, N

# Offsets of one-signal EDF/BDF header fields (main header, then signal 1).
_VERSION, _HEADER_BYTES, _RESERVED = (0, 8), (184, 8), (192, 44)
_N_RECORDS, _DURATION, _N_SIGNALS = (236, 8), (244, 8), (252, 4)
_LABEL, _UNIT = (256, 16), (352, 8)
_PHYS_MIN, _PHYS_MAX, _DIG_MIN, _DIG_MAX = (360, 8), (368, 8), (376, 8), (384, 8)
_SAMPLES_PER_RECORD = (472, 8)


def _edf_bytes(bdf: bool) -> bytes:
    import io

    import edfio

    t = np.arange(N) / FS
    x = 400 * np.sin(2 * np.pi * 80 * t) + 50 * np.sin(2 * np.pi * 233 * t)
    cls = edfio.BdfSignal if bdf else edfio.EdfSignal
    sig = cls(
        x,
        sampling_frequency=FS,
        label="EMG",
        physical_dimension="uV",
        physical_range=(-1000, 1000),
    )
    buf = io.BytesIO()
    (edfio.Bdf if bdf else edfio.Edf)([sig]).write(buf)
    return buf.getvalue()


def _edf(
    *fields: tuple[tuple[int, int], bytes | str],
    bdf: bool = False,
    cut: int = 0,
    name: str | None = None,
) -> Callable[[Path], list[Path]]:
    """A valid one-signal EDF/BDF with header fields overwritten (space-padded)."""

    def build(d: Path) -> list[Path]:
        raw = bytearray(_edf_bytes(bdf))
        for (offset, width), value in fields:
            value = value.encode("latin-1") if isinstance(value, str) else value
            raw[offset : offset + width] = value.ljust(width)[:width]
        if cut:
            raw = raw[:cut]
        path = d / (name or ("rec.bdf" if bdf else "rec.edf"))
        path.write_bytes(bytes(raw))
        return [path]

    return build


def _text(name: str, text: str | bytes) -> Callable[[Path], list[Path]]:
    def build(d: Path) -> list[Path]:
        raw = text.encode() if isinstance(text, str) else text
        (d / name).write_bytes(raw)
        return [d / name]

    return build


def _csv_rows(n: int = N, *, time: bool = True, bad: dict[int, str] | None = None):
    bad = bad or {}
    t = np.arange(n) / FS
    x = np.round(0.4 * np.sin(2 * np.pi * 80 * t), 5)
    lines = ["time_s,EMG (mV)" if time else "EMG (mV)"]
    for i in range(n):
        value = bad.get(i, f"{x[i]:g}")
        lines.append(f"{t[i]:.4f},{value}" if time else value)
    return "\n".join(lines) + "\n"


def _edf_cases(bdf: bool) -> list[Case]:
    kind, ext = ("bdf", "rec.bdf") if bdf else ("edf", "rec.edf")
    return [
        Case(f"{kind}_text_record_count", _edf((_N_RECORDS, "abc"), bdf=bdf),
             says="'number of data records' field is 'abc', not a whole number"),
        Case(f"{kind}_zero_record_duration", _edf((_DURATION, "0"), bdf=bdf),
             says="'duration of a data record' field is 0 s"),
        Case(f"{kind}_zero_signals", _edf((_N_SIGNALS, "0"), bdf=bdf),
             says="'number of signals' field is 0"),
        Case(f"{kind}_text_signal_count", _edf((_N_SIGNALS, "zz"), bdf=bdf),
             says="'number of signals' field is 'zz'"),
        Case(f"{kind}_truncated", _edf(bdf=bdf, cut=-1000),
             says="truncated: the header expects 2 data record"),
        Case(f"{kind}_zero_samples_per_record", _edf((_SAMPLES_PER_RECORD, "0"), bdf=bdf),
             says="0 samples per data record"),
        Case(f"{kind}_digital_beyond_format",
             _edf((_DIG_MAX, "99999999"), bdf=bdf), says="digital range"),
        Case(f"{kind}_garbage", _text(ext, b"\x00garbage\xff" * 60), says="not an? [EB]DF file"),
        Case(f"{kind}_valid", _edf(bdf=bdf), refuse=False),
    ]  # fmt: skip


FILE_CASES = [
    # EDF header numbers (the messages issue 14 quotes came from these)
    Case("edf_negative_record_duration", _edf((_DURATION, "-1")),
         says="'duration of a data record' field is -1 s"),
    Case("edf_text_record_duration", _edf((_DURATION, "x")),
         says="'duration of a data record' field is 'x', not a number"),
    Case("edf_nan_record_duration", _edf((_DURATION, "nan")), says="'nan', not a number"),
    Case("edf_signal_count_beyond_header", _edf((_N_SIGNALS, "9")),
         says="'number of bytes in header record' field is 512, but 9 signal"),
    Case("edf_text_header_size", _edf((_HEADER_BYTES, "x")),
         says="'number of bytes in header record' field is 'x'"),
    Case("edf_equal_physical_range", _edf((_PHYS_MIN, "5"), (_PHYS_MAX, "5")),
         says="same physical minimum and maximum"),
    Case("edf_text_physical_minimum", _edf((_PHYS_MIN, "low")),
         says="'physical minimum' field of signal 1 .* 'low'"),
    Case("edf_equal_digital_range", _edf((_DIG_MIN, "5"), (_DIG_MAX, "5")),
         says="digital range 5 to 5"),
    Case("edf_text_digital_minimum", _edf((_DIG_MIN, "q")),
         says="'digital minimum' field of signal 1 .* 'q'"),
    Case("edf_text_samples_per_record", _edf((_SAMPLES_PER_RECORD, "x")),
         says="'number of samples in each data record' field of signal 1"),
    Case("edf_implausible_rate", _edf((_DURATION, "0.001")), says="outside the supported range"),
    Case("edf_header_only", _edf(cut=512), says="truncated: .* holds 0"),
    Case("edf_shorter_than_header", _edf(cut=100), says="shorter than the 256-byte"),
    Case("edf_zero_records", _edf((_N_RECORDS, "0")), says="holds no data"),
    Case("edf_more_records_than_data", _edf((_N_RECORDS, "99")),
         says="expects 99 data record.*holds 2"),
    Case("edf_wrong_version", _edf((_VERSION, "X")), says="version field '0'"),
    Case("edf_holding_bdf", _edf(bdf=True, name="rec.edf"), says="looks like a BDF file"),
    Case("edf_discontinuous", _edf((_RESERVED, "EDF+D")), says="discontinuous"),
    Case("edf_empty", _text("rec.edf", b""), says="empty"),
    Case("edf_micro_volt_latin1", _edf((_UNIT, "\xb5V")), refuse=False),
    Case("edf_open_record_count_partial", _edf((_N_RECORDS, "-1"), cut=-7),
         says="not a whole number of .*data records"),
    *_edf_cases(bdf=False),
    *_edf_cases(bdf=True),
    Case("bdf_holding_edf", _edf(name="rec.bdf"), says="looks like an EDF file"),
    Case("bdf_empty", _text("rec.bdf", b""), says="empty"),
    # CSV
    Case("csv_text_cell", _text("r.csv", _csv_rows(bad={10: "abc"})),
         says="line 12, column 2: 'abc' is not a number"),
    Case("csv_empty_cell", _text("r.csv", _csv_rows(bad={5: ""})),
         says="line 7, column 2: an empty cell"),
    Case("csv_ragged_row", _text("r.csv", _csv_rows(bad={20: "0.1,0.2"})),
         says="line 22 has 3 values but the header has 2"),
    Case("csv_nan_cell", _text("r.csv", _csv_rows(bad={30: "nan"})),
         says="line 32, column 2 .* nan, a missing"),
    Case("csv_inf_cell", _text("r.csv", _csv_rows(bad={30: "inf"})), says="inf, a missing"),
    Case("csv_huge_number", _text("r.csv", _csv_rows(bad={3: "1e999"})), says="inf"),
    Case("csv_empty_file", _text("r.csv", b""), says="empty"),
    Case("csv_whitespace_only", _text("r.csv", "\n \n\t\n"), says="no header and no samples"),
    Case("csv_header_only", _text("r.csv", "time_s,EMG\n"), says="header but no samples"),
    Case("csv_no_header_row", _text("r.csv", "0.1,0.2\n" * 3000), says="header row"),
    Case("csv_non_utf8", _text("r.csv", _csv_rows().encode() + b"0.5,\xff\xfe\n"),
         says=f"line {N + 2} is not UTF-8"),
    Case("csv_binary", _text("r.csv", bytes(range(128, 256)) * 8), says="UTF-8"),
    Case("csv_no_rate", _text("r.csv", _csv_rows(time=False)), says="no sampling rate"),
    Case("csv_time_not_increasing",
         _text("r.csv", "time_s,EMG\n" + "".join(f"{(i % 50) / FS},0.1\n" for i in range(N))),
         says="does not increase"),
    Case("csv_time_irregular",
         _text("r.csv", "time_s,EMG\n" + "".join(f"{i * i / 1e6},0.{i % 9}\n" for i in range(1, N))),
         says="not uniformly sampled"),
    Case("csv_time_in_wrong_unit",
         _text("r.csv", "time_s,EMG\n" + "".join(f"{i / 2},0.{i % 9}\n" for i in range(N))),
         says="outside the supported range .* unit its name says"),
    Case("csv_decimal_comma",
         _text("r.csv", "a;b\n" + "".join(f"{i};0,{i % 9}\n" for i in range(N))),
         says="decimal mark", sfreq=FS),
    Case("csv_only_time_column", _text("r.csv", "time_s\n" + "".join(f"{i / FS}\n" for i in range(N))),
         says="no channels"),
    Case("csv_negative_rate_option", _text("r.csv", _csv_rows(time=False)), sfreq=-5,
         says="sampling rate given .* not a positive"),
    Case("csv_nan_rate_option", _text("r.csv", _csv_rows(time=False)), sfreq=float("nan"),
         says="sampling rate given .* not a positive"),
    Case("csv_huge_rate_option", _text("r.csv", _csv_rows(time=False)), sfreq=5e6,
         says="sampling rate given .* outside"),
    Case("csv_valid_time_column", _text("r.csv", _csv_rows()), refuse=False),
    Case("csv_valid_rate_option", _text("r.csv", _csv_rows(time=False)), sfreq=FS,
         refuse=False),
]  # fmt: skip
