"""``python -m studies.run_cnn --runs DIR [--seeds 0] [--protocols headline]``.

Runs :class:`studies.cnn_method.CnnAmplitude` on the same person splits as the
feature methods (studies.protocols) and writes resumable units; rerun to go on.
"""

from __future__ import annotations

import argparse
import logging
import time

from emgcore.datasets.clinical import clinical_records
from studies.cnn_method import CnnAmplitude, clinical_windows_4k
from studies.protocols import splits_for
from studies.runner import run_unit


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--protocols", nargs="+", default=["headline"])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--patience", type=int, default=2)
    ap.add_argument("--train-windows", type=int, default=6)
    ap.add_argument("--name", default="cnn-amp-4k")
    ap.add_argument(
        "--zscore", action="store_true", help="z-score each window (paper) instead"
    )
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    records = clinical_records()
    t0 = time.perf_counter()
    windows = clinical_windows_4k()
    print(f"windows {windows.X.shape} in {time.perf_counter() - t0:.0f} s", flush=True)
    for protocol in args.protocols:
        for seed in args.seeds:
            method = CnnAmplitude(
                windows,
                name=args.name,
                epochs=args.epochs,
                patience=args.patience,
                train_windows=args.train_windows,
                scale_uv=None if args.zscore else 200.0,
                seed=seed,
            )
            for split in splits_for(protocol, records, seed):
                t = time.perf_counter()
                unit = run_unit(method, split, records, args.runs)
                print(
                    f"{protocol} {split.unit}: {unit['info'].get('epochs_run')} epochs, "
                    f"{time.perf_counter() - t:.0f} s",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
