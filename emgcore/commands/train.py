"""``python -m emgcore train``: pretrain the encoder, train the default disease model.

    python -m emgcore train pretrain --source mix --out models/pretrained/cnn_tcn-mix.pt
    python -m emgcore train disease --pretrained CKPT --out models/disease/default.pt

Both are seeded and resumable (state beside the output, ``<out>.resume/``).
"""

from __future__ import annotations

import argparse
import json


def _budget(args: argparse.Namespace):
    from emgcore.disease import Budget

    budget = {"paper": Budget, "cpu": Budget.cpu, "tiny": Budget.tiny}[args.budget]()
    if args.epochs is not None:
        import dataclasses

        field = "pretrain_epochs" if args.stage == "pretrain" else "finetune_epochs"
        budget = dataclasses.replace(budget, **{field: args.epochs})
    return budget


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="pretrain or fine-tune the CNN-TCN disease model")
    stages = p.add_subparsers(dest="stage", required=True, metavar="STAGE")

    pre = stages.add_parser("pretrain", help="pretrain the encoder on gesture sEMG")
    pre.add_argument(
        "--source", default="mix", choices=("ninapro_db1", "myo_readings", "mix")
    )
    pre.add_argument("--out", required=True, help="output checkpoint (.pt)")
    _common(pre)
    pre.set_defaults(func=run_pretrain)

    dis = stages.add_parser(
        "disease",
        help="fine-tune on emgdb + N2001 (all subjects) into the default model",
    )
    dis.add_argument("--pretrained", default=None, help="pretrained checkpoint (TL)")
    dis.add_argument("--method", default="tl", choices=("tl", "scratch", "scratch-bal"))
    dis.add_argument(
        "--rate-hz", type=float, default=1000.0, help="input sampling rate"
    )
    dis.add_argument("--out", required=True, help="output checkpoint (.pt)")
    dis.add_argument(
        "--results",
        default="docs/results/disease.json",
        help="evaluation summary whose leave-one-subject-out metrics go on the card",
    )
    dis.add_argument("--min-confidence", type=float, default=0.5)
    _common(dis)
    dis.set_defaults(func=run_disease)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--budget",
        default="paper",
        choices=("paper", "cpu", "tiny"),
        help="paper: the paper's epochs (default); cpu: a shorter schedule",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="default: $EMG_DATA_DIR")
    p.add_argument("--no-progress", action="store_true")


def run_pretrain(args: argparse.Namespace) -> int:
    from emgcore.disease import pretrain

    summary = pretrain(
        args.source,
        args.out,
        budget=_budget(args),
        seed=args.seed,
        data_dir=args.data_dir,
        progress=not args.no_progress,
    )
    print(json.dumps(summary))
    return 0


def run_disease(args: argparse.Namespace) -> int:
    from emgcore.disease_model import DefaultModelConfig, train_default_model

    config = DefaultModelConfig(
        budget=_budget(args),
        pretrained=args.pretrained,
        method=args.method,
        seed=args.seed,
        rate_hz=args.rate_hz,
        min_confidence=args.min_confidence,
    )
    summary = train_default_model(
        args.out,
        config,
        data_dir=args.data_dir,
        results_path=args.results,
        progress=not args.no_progress,
    )
    print(json.dumps(summary))
    return 0
