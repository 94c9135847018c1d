"""A corpus of malformed (and a few valid control) recordings, built at test time.

Every case writes its files into a folder it is given (``tmp_path``), so no
binary file is committed. Each case says whether every reader path must refuse
it (``refuse``) and, for refusals, a pattern the message must contain
(``says``): the field that is wrong, so a vague message does not pass either.
WFDB and zip cases are here; EDF, BDF and CSV cases are in
``malformed_corpus_files.py``. ``all_cases()`` is the whole corpus.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Exception and interpreter text a user must never see (issue 14).
PYTHON_INTERNALS = (
    "invalid literal",
    "division",
    "local variable",
    "NoneType",
    "Traceback",
    "Errno",
    "object has no attribute",
    "unpack",
    "index out of",
    "KeyError",
    "ValueError",
    "TypeError",
    "IndexError",
    "struct.error",
    "codec can't",
    "not subscriptable",
    "unsupported operand",
    "could not convert",
    "np.float",
    "Exception",
    'File "',
)

FS = 2000
N = 4000  # 2 s at 2 kHz


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], list[Path]]
    refuse: bool = True
    says: str = ""  # regex the refusal message must match
    sfreq: float | None = None  # the sampling rate given as an option


def signal_counts(n: int = N, n_chans: int = 1) -> np.ndarray:
    """Deterministic EMG-like int16 counts, shape (n, n_chans), no -32768."""
    rng = np.random.default_rng(14)
    t = np.arange(n) / FS
    x = 3000 * np.sin(2 * np.pi * 80 * t)[:, None] + rng.normal(0, 800, (n, n_chans))
    return np.clip(x, -32000, 32000).astype("<i2")


def _wfdb(
    header: str | bytes,
    data: bytes | None = None,
    *,
    stem: str = "rec",
    ext: str = ".dat",
    give_data: bool = True,
) -> Callable[[Path], list[Path]]:
    """A .hea (text or raw bytes) and its data file (default: valid counts)."""

    def build(d: Path) -> list[Path]:
        hea = d / f"{stem}.hea"
        hea.write_bytes(header if isinstance(header, bytes) else header.encode())
        if not give_data:
            return [hea]
        dat = d / f"{stem}{ext}"
        dat.write_bytes(signal_counts().tobytes() if data is None else data)
        return [hea, dat]

    return build


def _line(sig: str = "rec.dat 16 200/mV 16 0 0 0 0 EMG", rec: str = f"rec 1 {FS} {N}"):
    return f"{rec}\n{sig}\n"


GOOD = _line()
COUNTS = signal_counts().tobytes()


def _zip(members: dict[str, bytes], patch: Callable[[bytes], bytes] | None = None):
    def build(d: Path) -> list[Path]:
        path = d / "record.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, content in members.items():
                zf.writestr(name, content)
        if patch is not None:
            path.write_bytes(patch(path.read_bytes()))
        return [path]

    return build


def _raw(name: str, content: bytes) -> Callable[[Path], list[Path]]:
    def build(d: Path) -> list[Path]:
        (d / name).write_bytes(content)
        return [d / name]

    return build


def _set_zip_field(raw: bytes, local_off: int, central_off: int, value: bytes) -> bytes:
    """Overwrite one field in every local and central zip header."""
    out = bytearray(raw)
    for sig, off in ((b"PK\x03\x04", local_off), (b"PK\x01\x02", central_off)):
        pos = out.find(sig)
        while pos != -1:
            out[pos + off : pos + off + len(value)] = value
            pos = out.find(sig, pos + 4)
    return bytes(out)


def _flip_stored_data(raw: bytes) -> bytes:
    """Damage the compressed bytes of the first member (CRC no longer matches)."""
    out = bytearray(raw)
    pos = out.find(b"PK\x03\x04")
    name_len = int.from_bytes(out[pos + 26 : pos + 28], "little")
    extra_len = int.from_bytes(out[pos + 28 : pos + 30], "little")
    start = pos + 30 + name_len + extra_len
    for i in range(start + 2, start + 40):
        out[i] ^= 0x5A
    return bytes(out)


_GOOD_ZIP = {"rec.hea": GOOD.encode(), "rec.dat": COUNTS}

WFDB_CASES = [
    # sampling rate
    Case(
        "wfdb_negative_rate",
        _wfdb(_line(rec="rec 1 -4000 8000")),
        says=r"sampling rate field .* is -4000, which is impossible",
    ),
    Case(
        "wfdb_zero_rate", _wfdb(_line(rec=f"rec 1 0 {N}")), says="sampling rate .* is 0"
    ),
    Case(
        "wfdb_nan_rate", _wfdb(_line(rec=f"rec 1 nan {N}")), says="sampling rate.*'nan'"
    ),
    Case(
        "wfdb_inf_rate", _wfdb(_line(rec=f"rec 1 inf {N}")), says="sampling rate.*'inf'"
    ),
    Case(
        "wfdb_huge_rate",
        _wfdb(_line(rec=f"rec 1 5000000 {N}")),
        says="sampling rate .* 5000000 Hz, outside",
    ),
    Case("wfdb_tiny_rate", _wfdb(_line(rec=f"rec 1 0.5 {N}")), says="0.5 Hz, outside"),
    Case(
        "wfdb_text_rate",
        _wfdb(_line(rec=f"rec 1 fast {N}")),
        says="sampling rate.*'fast'",
    ),
    Case("wfdb_missing_rate", _wfdb(_line(rec="rec 1")), says="gives no sampling rate"),
    Case(
        "wfdb_exponent_rate", _wfdb(_line(rec=f"rec 1 2e3 {N}")), says="plain decimal"
    ),
    # gain, baseline, units
    Case("wfdb_zero_gain", _wfdb(_line("rec.dat 16 0/mV 16 0")), says="gain of 0"),
    Case("wfdb_missing_gain", _wfdb(_line("rec.dat 16")), says="gives no gain"),
    Case("wfdb_nan_gain", _wfdb(_line("rec.dat 16 nan/mV")), says="gain 'nan'"),
    Case("wfdb_text_gain", _wfdb(_line("rec.dat 16 abc/mV")), says="gain 'abc'"),
    Case(
        "wfdb_text_baseline", _wfdb(_line("rec.dat 16 200(x)/mV")), says="baseline 'x'"
    ),
    # storage format
    Case("wfdb_unknown_format", _wfdb(_line("rec.dat 99 200/mV")), says="format '99'"),
    Case("wfdb_flac_format", _wfdb(_line("rec.dat 516 200/mV")), says="FLAC"),
    Case(
        "wfdb_text_format",
        _wfdb(_line("rec.dat sixteen 200/mV")),
        says="format 'sixteen'",
    ),
    Case("wfdb_missing_format", _wfdb(_line("rec.dat")), says="no storage format"),
    Case(
        "wfdb_zero_samples_per_frame",
        _wfdb(_line("rec.dat 16x0 200/mV")),
        says="samples per frame",
    ),
    Case(
        "wfdb_text_adc_resolution",
        _wfdb(_line("rec.dat 16 200/mV twelve")),
        says="ADC resolution",
    ),
    Case(
        "wfdb_two_formats_one_file",
        _wfdb(f"rec 2 {FS} {N}\nrec.dat 16 200/mV\nrec.dat 212 200/mV\n"),
        says="different formats",
    ),
    # sample and channel counts
    Case(
        "wfdb_truncated_data",
        _wfdb(GOOD, COUNTS[: len(COUNTS) // 2]),
        says=f"truncated: .*expects {N} samples.*holds {N // 2}",
    ),
    Case(
        "wfdb_header_says_more_samples",
        _wfdb(_line(rec=f"rec 1 {FS} {N * 10}")),
        says=f"truncated: .*expects {N * 10} samples .* holds {N}",
    ),
    Case(
        "wfdb_header_says_far_fewer_samples",
        _wfdb(_line(rec=f"rec 1 {FS} 100")),
        says=f"longer than its header says: .*expects 100 .* holds {N}",
    ),
    Case(
        "wfdb_signal_lines_fewer_than_count",
        _wfdb(_line(rec=f"rec 2 {FS} {N}")),
        says="says the record has 2 signal.*1 signal line",
    ),
    Case(
        "wfdb_two_channels_one_in_data",
        _wfdb(f"rec 2 {FS} {N}\nrec.dat 16 200/mV\nrec.dat 16 200/mV\n"),
        says="truncated: .*2 channel",
    ),
    Case(
        "wfdb_one_channel_two_in_data",
        _wfdb(GOOD, signal_counts(n_chans=2).tobytes()),
        says="longer than its header",
    ),
    Case("wfdb_zero_signals", _wfdb(f"rec 0 {FS} {N}\n"), says="0 signals"),
    Case(
        "wfdb_text_signal_count",
        _wfdb(_line(rec=f"rec two {FS} {N}")),
        says="signal count .* 'two'",
    ),
    Case("wfdb_zero_sample_count", _wfdb(_line(rec=f"rec 1 {FS} 0")), says="0 samples"),
    Case(
        "wfdb_text_sample_count",
        _wfdb(_line(rec=f"rec 1 {FS} many")),
        says="sample count .* 'many'",
    ),
    Case(
        "wfdb_too_many_channels",
        _wfdb(f"rec 600 {FS} 10\n" + "rec.dat 16 200/mV\n" * 600, bytes(2 * 600 * 10)),
        says="600 channels",
    ),
    # byte offset
    Case(
        "wfdb_offset_beyond_file",
        _wfdb(_line("rec.dat 16+999999 200/mV")),
        says="byte offset 999999.*holds only",
    ),
    Case(
        "wfdb_negative_offset",
        _wfdb(_line("rec.dat 16+-5 200/mV")),
        says="byte offset '-5'",
    ),
    # files
    Case(
        "wfdb_missing_data_file", _wfdb(GOOD, give_data=False), says="(missing|\\.dat)"
    ),
    Case("wfdb_empty_header", _wfdb(b""), says="empty"),
    Case("wfdb_empty_data", _wfdb(GOOD, b""), says="empty"),
    Case(
        "wfdb_comments_only_header", _wfdb("# just a comment\n"), says="no record line"
    ),
    Case("wfdb_binary_header", _wfdb(bytes(range(256)) * 4), says="not a text file"),
    Case("wfdb_prose_header", _wfdb("this is not a header\n"), says="signal count"),
    Case(
        "wfdb_non_utf8_header",
        _wfdb(b"\xff\xfe\x80\x81 1 2000 4000\n"),
        says="record name",
    ),
    Case("wfdb_garbage_data", _wfdb(GOOD, bytes(range(7, 250)) * 3), says="truncated"),
    Case(
        "wfdb_missing_sample_markers",
        _wfdb(
            GOOD,
            np.concatenate(
                [signal_counts()[:, 0][:-50], np.full(50, -32768, "<i2")]
            ).tobytes(),
        ),
        says="missing sample.*-32768",
    ),
    Case(
        "wfdb_multi_segment",
        _wfdb(f"rec/2 1 {FS} {N}\nseg1 2000\nseg2 2000\n"),
        says="multi-segment",
    ),
    Case("wfdb_signal_without_file", _wfdb(_line("~ 16 200/mV")), says="no data file"),
    Case(
        "wfdb_data_file_outside_folder",
        _wfdb(_line("../rec.dat 16 200/mV")),
        says="data file '../rec.dat'",
    ),
    Case(
        "wfdb_bin_truncated",
        _wfdb(_line("rec.bin 16 200/uV"), COUNTS[:999], ext=".bin"),
        says="truncated",
    ),
    # valid controls: these must be read
    Case("wfdb_valid", _wfdb(GOOD), refuse=False),
    Case(
        "wfdb_valid_bin_with_offset",
        _wfdb(
            _line("rec.bin 16+20 13.107/uV"), bytes(20) + COUNTS + bytes(20), ext=".bin"
        ),
        refuse=False,
    ),
    Case(
        "wfdb_latin1_micro_volts",
        _wfdb(_line("rec.dat 16 200/\xb5V").encode("latin-1")),
        refuse=False,
    ),
    Case("wfdb_no_sample_count", _wfdb(_line(rec=f"rec 1 {FS}")), refuse=False),
    # zip uploads of WFDB records
    Case(
        "zip_not_a_zip",
        _raw("record.zip", b"PK\x03\x04 not really" * 20),
        says="not a readable zip",
    ),
    Case(
        "zip_truncated",
        lambda d: _truncate(_zip(_GOOD_ZIP)(d)[0], 0.5),
        says="not a readable zip",
    ),
    Case("zip_empty_archive", _zip({}), says="no WFDB header"),
    Case("zip_without_header", _zip({"rec.dat": COUNTS}), says="no WFDB header"),
    Case(
        "zip_two_headers",
        _zip({**_GOOD_ZIP, "b.hea": GOOD.encode()}),
        says="exactly one WFDB header",
    ),
    Case(
        "zip_missing_data", _zip({"rec.hea": GOOD.encode()}), says="rec.dat .* missing"
    ),
    Case(
        "zip_negative_rate",
        _zip({"rec.hea": _line(rec="rec 1 -4000 8000").encode(), "rec.dat": COUNTS}),
        says="-4000, which is impossible",
    ),
    Case(
        "zip_truncated_data",
        _zip({"rec.hea": GOOD.encode(), "rec.dat": COUNTS[:100]}),
        says="truncated",
    ),
    Case(
        "zip_path_traversal",
        _zip({"rec.hea": GOOD.encode(), "../rec.dat": COUNTS}),
        says="outside the archive",
    ),
    Case(
        "zip_encrypted_entry",
        _zip(_GOOD_ZIP, lambda b: _set_zip_field(b, 6, 8, b"\x01\x00")),
        says="password-protected",
    ),
    Case(
        "zip_unknown_compression",
        _zip(_GOOD_ZIP, lambda b: _set_zip_field(b, 8, 10, b"\x63\x00")),
        says="compression method",
    ),
    Case("zip_damaged_entry", _zip(_GOOD_ZIP, _flip_stored_data), says="damaged"),
    Case("zip_valid", _zip(_GOOD_ZIP), refuse=False),
]


def _truncate(path: Path, fraction: float) -> list[Path]:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * fraction)])
    return [path]


def all_cases() -> list[Case]:
    """The whole corpus (imported late: the EDF/CSV module imports this one)."""
    from tests.emgcore.malformed_corpus_files import FILE_CASES

    return WFDB_CASES + FILE_CASES
