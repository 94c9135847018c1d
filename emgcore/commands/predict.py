"""``python -m emgcore predict PATH [PATH ...] [--model CKPT]``: classify recordings."""

from __future__ import annotations

import argparse
import json
import os
import sys
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
        epilog="A recording the signal-quality gate refuses (flat, clipped, mains "
        "interference only, implausible amplitude, too little usable signal, wrong "
        'channel count or sampling rate) gets "label": "not_analysable", '
        '"probabilities": null and its "reasons"; a plain message goes to stderr '
        "and the exit status is 2 (also when only some of the recordings were "
        "refused). Parts of a recording that are unusable are left out and the "
        'JSON says how much ("gate": "excluded_s", "excluded_fraction"). See '
        'docs/QUALITY.md. Analysable recordings also get "qemg": per-recording '
        "MUAP and interference-pattern measures in physical units (emgcore/qemg.py), "
        'or "qemg": null and "qemg_note" saying why they could not be measured.',
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
    p.add_argument(
        "--no-qemg",
        action="store_true",
        help="leave out the quantitative EMG values (MUAP and interference measures)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgcore.inference import predict
    from emgcore.io import group_paths, read_recording

    status = 0
    for group in group_paths(args.paths):
        recording = read_recording(
            group, format=args.format, sfreq=args.sfreq, min_duration_s=0
        )
        result = predict(recording, args.model, channel=args.channel).to_dict()
        if args.no_windows:
            result.pop("windows")
        name = " ".join(str(p) for p in group)
        result = {"path": name, **result}
        if result["analysable"] and not args.no_qemg:
            result.update(_qemg(recording, args.channel or 0))
        if result["analysable"]:
            result["expected_performance"] = _expected(args.model)
        print(json.dumps(result), flush=True)
        if not result["analysable"]:
            # Exit status 2 as for unreadable input: no diagnosis was given.
            print(f"emgcore predict: {name}: {result['message']}", file=sys.stderr)
            status = 2
    return status


def _expected(model_path) -> dict:
    """What the checkpoint's card says about new people (cached model load)."""
    from emgcore.inference import load_for_inference
    from emgcore.performance import expected_performance

    _, metadata, _ = load_for_inference(model_path)
    return expected_performance(metadata)


def _qemg(recording, channel: int) -> dict:
    """The QEMG summary of the analysed channel, or why there is none."""
    from emgcore.errors import InvalidRecordingError
    from emgcore.qemg import analyse_recording

    try:
        summary = analyse_recording(recording, channel).summary
    except InvalidRecordingError as exc:
        return {"qemg": None, "qemg_note": str(exc)}
    # NaN (no MUAP found) is not JSON: null, with the count saying why.
    return {"qemg": {k: (round(v, 3) if v == v else None) for k, v in summary.items()}}
