"""``python -m emgcore evaluate checkpoint``: the metrics of one checkpoint.

    python -m emgcore evaluate checkpoint --model models/disease/default.pt \\
        --dataset emglab_n2001

The paper's protocols, their summary and the embedding analysis are study
commands: ``python -m studies evaluate ...``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate a disease model (JSON)")
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")

    ck = what.add_parser("checkpoint", help="metrics of one checkpoint on a dataset")
    ck.add_argument("--model", required=True)
    ck.add_argument(
        "--dataset", default="emglab_n2001", choices=("physionet_emgdb", "emglab_n2001")
    )
    ck.add_argument("--subjects", nargs="*", default=None)
    ck.add_argument("--out", default=None, help="write the JSON here too")
    ck.add_argument("--data-dir", default=None)
    ck.set_defaults(func=run_checkpoint)


def run_checkpoint(args: argparse.Namespace) -> int:
    from emgcore.checkpoint import load_checkpoint
    from emgcore.config import PreprocessConfig
    from emgcore.datasets import load_dataset
    from emgcore.evaluate import evaluate_checkpoint

    _, meta = load_checkpoint(args.model)
    ws = load_dataset(
        args.dataset,
        args.data_dir,
        preprocess=PreprocessConfig.from_dict(meta["preprocess"]),
        subjects=args.subjects,
    )
    result = evaluate_checkpoint(args.model, ws)
    text = json.dumps(result)
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0
