"""``python -m emgcore site-calibrate``: calibrate a site model to a laboratory."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "site-calibrate",
        help="calibrate a site-standardised model to your laboratory's recordings",
        description="Compute your laboratory's per-feature window statistics from "
        "its own recordings (no diagnoses needed) and write a calibrated copy of "
        "a site-standardised checkpoint; prints a JSON summary.",
    )
    p.add_argument("paths", nargs="+", metavar="FILE")
    p.add_argument("--model", required=True, help="site-standardised checkpoint")
    p.add_argument("--site", required=True, help="your laboratory's name")
    p.add_argument("--out", required=True, help="calibrated checkpoint to write")
    p.add_argument(
        "--min-recordings",
        type=int,
        default=20,
        help="fewest analysable recordings accepted (default 20)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgcore.site_calibration import calibrate_site

    summary = calibrate_site(
        args.model,
        args.paths,
        args.out,
        site=args.site,
        min_recordings=args.min_recordings,
    )
    print(json.dumps(summary, indent=2))
    return 0
