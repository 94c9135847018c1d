"""The ``gesture`` sub-command's argument parser: every action and option.

Only argparse declarations; each action's handler lives in
:mod:`.checkpoints`. The option groups are public: ``python -m studies gesture
experiment`` (studies/commands/gesture.py) takes the same ones.
"""

from __future__ import annotations

import argparse

from emgcore.commands.gesture.checkpoints import _adapt, _predict, _pretrain


def add_common_args(p: argparse.ArgumentParser) -> None:
    """``--seed`` and ``--threads``."""
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: leave cores for others)",
    )


def add_data_args(p: argparse.ArgumentParser) -> None:
    """The dataset and the source model's pretraining options."""
    p.add_argument(
        "--dataset",
        required=True,
        help="myo-readings, ninapro-db1-e1, uci-emg-gestures or uci-semg",
    )
    p.add_argument("--data-dir", default=None, help="default $EMG_DATA_DIR")
    p.add_argument("--widths", type=int, nargs=2, default=[32, 64])
    p.add_argument("--epochs", type=int, default=12, help="max pretraining epochs")
    p.add_argument("--max-source-windows", type=int, default=20000)
    p.add_argument(
        "--source-val-subjects",
        type=int,
        default=0,
        help="pretraining: keep this many source subjects aside for early "
        "stopping, then refit on all (default 0: validate on the last fifth "
        "of every source trial)",
    )
    p.add_argument(
        "--representation",
        choices=["raw", "raw+rectified", "logenv"],
        default=None,
        help="window image rows (default: the dataset's; see "
        "docs/experiments/2026-12-01-results-notebook.md)",
    )
    p.add_argument(
        "--adapt-step-s",
        type=float,
        default=None,
        help="seconds between adaptation windows (default: the dataset's; "
        "myo-readings 0.025, earlier runs 0.1)",
    )
    p.add_argument(
        "--scaling",
        choices=["per-subject", "pooled"],
        default="per-subject",
        help="pretraining: scale each source subject by their own statistics "
        "(default) or all by one pooled scaler",
    )


def add_augment_args(p: argparse.ArgumentParser) -> None:
    """``--augment-copies`` and ``--refit`` of the adaptation."""
    p.add_argument(
        "--augment-copies",
        type=int,
        default=4,
        help="randomly gained copies of each adaptation window (default 4; "
        "0 = none, as in the tables made before gain augmentation)",
    )
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after early stopping has chosen the epoch count, train again "
        "from the start on the whole of each adaptation trial (default; "
        "--no-refit keeps the early-stopped model, as in the tables made "
        "before refitting)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gesture", help="gesture recognition: All-ConvNet + transfer learning"
    )
    sub = parser.add_subparsers(dest="gesture_command", required=True, metavar="ACTION")

    pre = sub.add_parser("pretrain", help="train and save a source checkpoint + card")
    add_data_args(pre)
    pre.add_argument("--holdout", nargs="+", default=[], help="subjects left out")
    pre.add_argument(
        "--n-holdout",
        type=int,
        default=0,
        help="leave out this many subjects picked evenly",
    )
    pre.add_argument("--out", required=True, help="checkpoint .pt path")
    add_common_args(pre)
    pre.set_defaults(func=_pretrain)

    ad = sub.add_parser("adapt", help="adapt a checkpoint to one person's trials")
    ad.add_argument("--model", required=True)
    ad.add_argument(
        "--trials",
        nargs="+",
        required=True,
        help="files in the dataset's own layout, or CSV with a label column",
    )
    ad.add_argument(
        "--layout",
        default=None,
        help="default: the checkpoint's layout, or csv for .csv files",
    )
    ad.add_argument("--sfreq", type=float, default=None, help="CSV sampling rate (Hz)")
    ad.add_argument("--k", type=int, default=1)
    ad.add_argument(
        "--method", default="tl_frozen", choices=["tl_frozen", "tl_full", "scratch"]
    )
    ad.add_argument("--epochs", type=int, default=30)
    add_augment_args(ad)
    ad.add_argument("--out", required=True)
    add_common_args(ad)
    ad.set_defaults(func=_adapt)

    pr = sub.add_parser("predict", help="classify windows; prints JSON")
    pr.add_argument("--model", required=True)
    pr.add_argument("paths", nargs="+")
    pr.add_argument("--layout", default=None)
    pr.add_argument("--sfreq", type=float, default=None)
    pr.add_argument("--threads", type=int, default=1)
    pr.set_defaults(func=_predict)
