"""``python -m emgcore predict PATH [PATH ...] [--model CKPT]``: classify recordings."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

DEFAULT_MODEL = (
    Path(__file__).resolve().parents[2] / "models" / "disease" / "default.pt"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="healthy/myopathy/neuropathy probabilities for recordings (JSON lines)",
        description="Classify each recording with a disease checkpoint; one JSON "
        "object per recording. Decision support, not a diagnosis.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument(
        "--model",
        default=os.environ.get("EMG_DISEASE_MODEL", str(DEFAULT_MODEL)),
        help="checkpoint (.pt); default: the shipped models/disease/default.pt",
    )
    p.add_argument("--format", default=None, help="force the file format")
    p.add_argument("--sfreq", type=float, default=None, help="sampling rate (CSV)")
    p.add_argument("--channel", type=int, default=None, help="channel to analyse")
    p.add_argument(
        "--no-windows", action="store_true", help="leave out per-window probabilities"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgcore.inference import predict
    from emgcore.io import group_paths, read_recording

    for group in group_paths(args.paths):
        recording = read_recording(
            group, format=args.format, sfreq=args.sfreq, min_duration_s=0
        )
        result = predict(recording, args.model, channel=args.channel).to_dict()
        if args.no_windows:
            result.pop("windows")
        result = {"path": " ".join(str(p) for p in group), **result}
        print(json.dumps(result), flush=True)
    return 0
