"""``python -m studies.run_window_linear --runs DIR [--protocols ...] [--seeds ...]``.

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
from studies.window_linear import WindowLinear


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOL_SEEDS))
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--name", default="window-linear")
    ap.add_argument(
        "--weightings",
        nargs="+",
        default=["person", "record"],
        choices=["person", "record"],
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    records = clinical_records()
    tables: dict = {}
    for protocol in args.protocols:
        for seed in args.seeds or PROTOCOL_SEEDS[protocol]:
            method = WindowLinear(
                name=args.name,
                seed=seed,
                tables=tables,
                weightings=tuple(args.weightings),
            )
            for split in splits_for(protocol, records, seed):
                unit = run_unit(method, split, records, args.runs)
                print(f"{protocol} {split.unit}: {unit['info']['chosen']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
