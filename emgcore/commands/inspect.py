"""``python -m emgcore inspect PATH [PATH ...]``: one JSON line per recording.

Each line holds ``path``, ``files``, ``format``, ``sfreq``, ``n_chans``,
``n_times``, ``duration_s``, ``ch_names``, ``units`` and ``quality`` (the report
of :func:`emgcore.quality.assess_quality`). A ``.hea`` and its ``.dat`` given
together are one recording (see :func:`emgcore.io.group_paths`). Short
recordings are reported, not rejected: ``quality`` says whether one analysis
window fits.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from emgcore.io import SUPPORTED_FORMATS

    parser = subparsers.add_parser(
        "inspect",
        help="print format, rate, channels, duration and signal quality as JSON",
        description=(
            "Read each recording and print one JSON object per recording. Give a "
            "WFDB record as its .hea and .dat files, a record path or a .zip."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="recording file(s)")
    parser.add_argument(
        "--format",
        choices=SUPPORTED_FORMATS,
        default=None,
        help="file format (default: detected from the name and content)",
    )
    parser.add_argument(
        "--sfreq",
        type=float,
        default=None,
        metavar="HZ",
        help="sampling rate in Hz for files that do not store one (CSV, N2001)",
    )
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from emgcore.io import group_paths, read_recording
    from emgcore.quality import assess_quality

    for group in group_paths(args.paths):
        rec = read_recording(
            group, format=args.format, sfreq=args.sfreq, min_duration_s=0
        )
        report = {
            "path": str(group[0]),
            "files": [str(p) for p in group],
            "format": rec.source.get("format"),
            "sfreq": rec.sfreq,
            "n_chans": rec.n_chans,
            "n_times": rec.n_times,
            "duration_s": rec.duration_s,
            "ch_names": list(rec.ch_names),
            "units": list(rec.units),
            "quality": assess_quality(rec),
        }
        sys.stdout.write(json.dumps(report, default=_jsonable) + "\n")
        sys.stdout.flush()
    return 0


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays that slip into the quality report."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
