"""``python -m studies gesture experiment``: adaptation curves over subjects.

Runs the chosen protocol (inter-subject by default, or intra-subject,
inter-session or percent) and writes its summary, JSON + PNG; the protocol
code itself is in :mod:`studies.gesture`. The dataset, pretraining and
adaptation options are those of ``python -m emgcore gesture pretrain|adapt``
(:mod:`emgcore.commands.gesture`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from emgcore.commands.gesture import (
    adapt_options,
    add_augment_args,
    add_common_args,
    add_data_args,
    dataset_spec,
    pretrain_config,
    set_threads,
)
from emgcore.commands.gesture import command_line as _runtime_command_line
from emgcore.errors import InvalidOptionError

PROG = "python -m studies gesture"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gesture", help="gesture adaptation experiments: JSON + PNG"
    )
    sub = parser.add_subparsers(dest="gesture_command", required=True, metavar="ACTION")
    ex = sub.add_parser("experiment", help="inter-subject adaptation: JSON + PNG")
    add_data_args(ex)
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
    add_augment_args(ex)
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
    add_common_args(ex)
    ex.set_defaults(func=_experiment)


def command_line(args: argparse.Namespace) -> str:
    """The ``python -m studies gesture ...`` command that reproduces this run."""
    return _runtime_command_line(args, prog=PROG)


def _experiment(args: argparse.Namespace) -> int:
    import dataclasses

    from emgcore.checkpoint import load_checkpoint
    from emgcore.gesture.core import ADAPT_CONFIG, SCRATCH_CONFIG
    from emgcore.gesture.data import list_subjects, load_trials
    from studies.gesture import (
        METHODS,
        InterSubjectConfig,
        pick_targets,
        run_inter_subject,
    )

    set_threads(args)
    spec = dataset_spec(args)
    if args.summary_only:
        return _write_summary(spec, Path(args.out) / spec.name, None)
    if args.source_model:
        _, meta = load_checkpoint(args.source_model)
        targets = args.subjects or meta["train"].get("heldout_subjects", [])
    else:
        targets = args.subjects or pick_targets(
            list_subjects(spec, args.data_dir), args.n_targets
        )
    trials = load_trials(spec, args.data_dir)
    out = Path(args.out) / spec.name
    if args.protocol != "inter-subject":
        return _other_protocol(args, spec, trials, targets, out)
    config = InterSubjectConfig(
        n_folds=args.folds,
        only_fold=args.fold,
        source_val_subjects=args.source_val_subjects,
        ks=args.k,
        methods=args.methods or METHODS,
        seed=args.seed,
        widths=args.widths,
        pretrain_config=pretrain_config(args),
        adapt_config=dataclasses.replace(ADAPT_CONFIG, epochs=args.adapt_epochs),
        scratch_config=dataclasses.replace(SCRATCH_CONFIG, epochs=args.adapt_epochs),
        max_source_windows=args.max_source_windows,
        source_checkpoint=args.source_model,
        test_from=args.test_from,
        per_subject=args.scaling == "per-subject",
        **adapt_options(args),
    )
    run_inter_subject(trials, spec, out, targets=targets, config=config)
    return _write_summary(spec, out, command_line(args))


def _write_summary(spec: Any, out: Path, command: str | None) -> int:
    """summary.json (+ the command that made the units), summary.md, PNG."""
    from studies.gesture import (
        paired_markdown,
        plot_summary,
        summarise,
        summary_markdown,
    )

    summary = summarise(out, spec=spec)
    old = out / "summary.json"
    commands = []
    if old.is_file():
        commands = json.loads(old.read_text(encoding="utf-8")).get("commands", [])
    if command and command not in commands:
        commands.append(command)
    summary["commands"] = commands
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    plot_summary(summary, out / "accuracy_vs_k.png")
    md = [
        f"Window accuracy, mean ± sd over target subjects (%), {spec.name}:",
        "",
        summary_markdown(summary),
        "",
        "Balanced accuracy:",
        "",
        summary_markdown(summary, metric="balanced_accuracy"),
        "",
        "Paired differences in accuracy (percentage points, same targets):",
        "",
        paired_markdown(summary),
        "",
    ]
    (out / "summary.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))
    return 0


def _other_protocol(
    args: argparse.Namespace, spec: Any, trials: Any, targets: list[str], out: Path
) -> int:
    import dataclasses

    from emgcore.gesture.core import SCRATCH_CONFIG
    from studies.gesture import (
        InterSessionConfig,
        PercentConfig,
        run_inter_session,
        run_intra_subject,
        run_percent,
    )

    if args.source_val_subjects:
        raise InvalidOptionError(
            "--source-val-subjects applies to the inter-subject protocol only."
        )
    out.mkdir(parents=True, exist_ok=True)
    name = args.protocol.replace("-", "_")
    if args.protocol == "intra-subject":
        res = run_intra_subject(
            trials,
            spec,
            subjects=targets,
            seed=args.seed,
            config=dataclasses.replace(SCRATCH_CONFIG, epochs=args.adapt_epochs),
            **adapt_options(args),
        )
    elif args.protocol == "inter-session":
        config = InterSessionConfig(
            k=args.k[0],
            seed=args.seed,
            pretrain_config=pretrain_config(args),
            max_source_windows=args.max_source_windows,
            **adapt_options(args),
        )
        res = run_inter_session(trials, spec, subjects=targets, config=config)
    else:
        from emgcore.gesture.api import load_gesture_checkpoint

        if not args.source_model:
            from emgcore.errors import EmgCoreError

            raise EmgCoreError("--protocol percent needs --source-model.")
        source = load_gesture_checkpoint(args.source_model)[0]
        config = PercentConfig(seed=args.seed, **adapt_options(args))
        res = {
            "protocol": "percent",
            "dataset": spec.name,
            "per_target": {
                t: run_percent(trials, spec, source, target=t, config=config)
                for t in targets
            },
        }
    res["command"] = command_line(args)
    path = out / f"{name}.json"
    path.write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(json.dumps(res, indent=1))
    return 0
