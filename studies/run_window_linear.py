"""``python -m studies.run_window_linear --runs DIR [--model trees] [--protocols ...]``.

Runs the shipped method (:class:`studies.window_linear.WindowLinear`: window
features of emgcore.models.feature_linear + logistic regression, window
configuration and C chosen on validation people) on the same person splits as
every other method, as resumable units. A few minutes once the window feature
tables are cached (about 10 minutes on 2 cores to build them).
"""

from __future__ import annotations

import argparse
import logging

from emgcore.datasets.clinical import clinical_records
from studies.protocols import PROTOCOL_SEEDS, splits_for
from studies.runner import run_unit
from studies.window_linear import CONFIGS, WindowLinear
from studies.window_trees import WindowTrees


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOL_SEEDS))
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument(
        "--model",
        choices=["linear", "trees"],
        default="linear",
        help="logistic regression (the shipped method) or gradient-boosted trees",
    )
    ap.add_argument(
        "--rate-hz",
        type=float,
        default=4000.0,
        help="common sampling rate of the windows (band-pass to 0.45 x rate)",
    )
    ap.add_argument(
        "--configs",
        nargs="+",
        default=None,
        help="window/sub-window candidates in seconds, e.g. 2/0.25 (default: all)",
    )
    ap.add_argument(
        "--site-norm",
        action="store_true",
        help="standardise features within each site (studies.site_norm)",
    )
    ap.add_argument(
        "--name",
        default=None,
        help="unit name (default window-<model>[-<rate>k][-sitenorm])",
    )
    ap.add_argument(
        "--weightings",
        nargs="+",
        default=["person", "record"],
        choices=["person", "record"],
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rate = "" if args.rate_hz == 4000.0 else f"-{args.rate_hz / 1000:g}k"
    norm = "-sitenorm" if args.site_norm else ""
    name = args.name or f"window-{args.model}{rate}{norm}"
    configs = (
        tuple(tuple(float(v) for v in c.split("/")) for c in args.configs)
        if args.configs
        else CONFIGS
    )
    records = clinical_records()
    tables: dict = {}
    for protocol in args.protocols:
        for seed in args.seeds or PROTOCOL_SEEDS[protocol]:
            if args.model == "trees":
                method = WindowTrees(
                    name=name,
                    seed=seed,
                    tables=tables,
                    configs=configs,
                    rate_hz=args.rate_hz,
                    site_norm=args.site_norm,
                )
            else:
                method = WindowLinear(
                    name=name,
                    seed=seed,
                    tables=tables,
                    weightings=tuple(args.weightings),
                    configs=configs,
                    rate_hz=args.rate_hz,
                    site_norm=args.site_norm,
                )
            for split in splits_for(protocol, records, seed):
                unit = run_unit(method, split, records, args.runs)
                print(f"{protocol} {split.unit}: {unit['info']['chosen']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
