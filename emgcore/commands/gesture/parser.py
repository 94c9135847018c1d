"""The ``gesture`` sub-command's argument parser: every action and option.

Only argparse declarations; each action's handler lives in
:mod:`.experiment` or :mod:`.checkpoints`.
"""

from __future__ import annotations

import argparse

from emgcore.commands.gesture.checkpoints import _adapt, _predict, _pretrain
from emgcore.commands.gesture.experiment import _experiment


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gesture", help="gesture recognition: All-ConvNet + transfer learning"
    )
    sub = parser.add_subparsers(dest="gesture_command", required=True, metavar="ACTION")

    def augment_arg(p: argparse.ArgumentParser) -> None:
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

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, default=0)
        p.add_argument(
            "--threads",
            type=int,
            default=1,
            help="torch CPU threads (default 1: leave cores for others)",
        )

    def data_args(p: argparse.ArgumentParser) -> None:
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
            help="window image rows (default: the dataset's; see the results notebook)",
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

    ex = sub.add_parser("experiment", help="inter-subject adaptation: JSON + PNG")
    data_args(ex)
    ex.add_argument("--subjects", nargs="+", default=None, help="target subjects")
    ex.add_argument(
        "--n-targets",
        type=int,
        default=8,
        help="targets picked evenly when --subjects is not given",
    )
    ex.add_argument(
        "--folds",
        type=int,
        default=1,
        help="source models to pretrain (targets split round-robin)",
    )
    ex.add_argument(
        "--fold",
        type=int,
        default=None,
        help="run only this fold's units (0-based), e.g. one process per fold",
    )
    ex.add_argument("--k", type=int, nargs="+", default=[1])
    ex.add_argument("--methods", nargs="+", default=None)
    ex.add_argument(
        "--test-from",
        type=int,
        default=None,
        help="test on trials ranked >= this per gesture (default max k)",
    )
    ex.add_argument("--adapt-epochs", type=int, default=30)
    augment_arg(ex)
    ex.add_argument(
        "--source-model",
        default=None,
        help="reuse a pretrained checkpoint (targets = its held-out subjects)",
    )
    ex.add_argument(
        "--protocol",
        default="inter-subject",
        choices=["inter-subject", "intra-subject", "inter-session", "percent"],
        help="inter-subject (default): curves vs k; intra-subject: first half of "
        "each subject's trials trains, second half tests; inter-session: session 1 "
        "pretrains, first k trials of session 2 adapt; percent: 20-100%% of the "
        "target's training trials adapt --source-model",
    )
    ex.add_argument("--out", default="runs/gesture")
    ex.add_argument(
        "--summary-only",
        action="store_true",
        help="only rebuild summary.json, summary.md and the plot from the unit files",
    )
    common(ex)
    ex.set_defaults(func=_experiment)

    pre = sub.add_parser("pretrain", help="train and save a source checkpoint + card")
    data_args(pre)
    pre.add_argument("--holdout", nargs="+", default=[], help="subjects left out")
    pre.add_argument(
        "--n-holdout",
        type=int,
        default=0,
        help="leave out this many subjects picked evenly",
    )
    pre.add_argument("--out", required=True, help="checkpoint .pt path")
    common(pre)
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
    augment_arg(ad)
    ad.add_argument("--out", required=True)
    common(ad)
    ad.set_defaults(func=_adapt)

    pr = sub.add_parser("predict", help="classify windows; prints JSON")
    pr.add_argument("--model", required=True)
    pr.add_argument("paths", nargs="+")
    pr.add_argument("--layout", default=None)
    pr.add_argument("--sfreq", type=float, default=None)
    pr.add_argument("--threads", type=int, default=1)
    pr.set_defaults(func=_predict)
