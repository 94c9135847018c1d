"""``python -m emgcore gesture``: pretrain, adapt and evaluate gesture recognisers.

Sub-commands: ``experiment`` (inter-subject adaptation curves, JSON + PNG),
``pretrain`` (source checkpoint + model card), ``adapt`` (one person's
calibration files -> adapted checkpoint with before/after accuracy) and
``predict`` (window classes as JSON).
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from emgcore.errors import InvalidOptionError


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
            help="window image rows (default: the dataset's; see RESULTS_GESTURE.md)",
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
    ex.add_argument("--out", default="docs/gesture_results")
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


def _adapt_options(args: argparse.Namespace) -> dict[str, Any]:
    """``augment`` and ``refit`` keyword arguments of the adaptation."""
    return {"augment": _augment(args), "refit": args.refit}


def _augment(args: argparse.Namespace) -> Any:
    """The adaptation's gain augmentation from ``--augment-copies``."""
    import dataclasses

    from emgcore.gesture.data import ADAPT_AUGMENT

    if args.augment_copies < 0:
        from emgcore.errors import EmgCoreError

        raise EmgCoreError(
            f"--augment-copies must be 0 or more, got {args.augment_copies}."
        )
    if args.augment_copies == 0:
        return None
    return dataclasses.replace(ADAPT_AUGMENT, copies=args.augment_copies)


def _threads(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(max(1, int(args.threads)))


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, rebuilt from the parsed options."""
    skip = {"func", "command", "gesture_command", "verbose"}
    parts = ["python -m emgcore gesture", args.gesture_command]
    for key, value in vars(args).items():
        flag = "--" + key.replace("_", "-")
        if key == "refit":  # on by default: only its negation needs saying
            parts += [] if value else ["--no-refit"]
            continue
        if key in skip or value is None or value is False or value == []:
            continue
        if key == "paths":
            parts += [shlex.quote(str(v)) for v in value]
        elif value is True:
            parts.append(flag)
        elif isinstance(value, list):
            parts += [flag, *(shlex.quote(str(v)) for v in value)]
        else:
            parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


def _pretrain_config(args: argparse.Namespace) -> Any:
    import dataclasses

    from emgcore.gesture.core import PRETRAIN_CONFIG

    return dataclasses.replace(PRETRAIN_CONFIG, epochs=args.epochs)


def _spec(args: argparse.Namespace) -> Any:
    """The dataset's spec, with ``--representation`` if given."""
    import dataclasses

    from emgcore.gesture.data import get_spec

    spec = get_spec(args.dataset)
    if getattr(args, "representation", None):
        spec = dataclasses.replace(spec, representation=args.representation)
    if getattr(args, "adapt_step_s", None):
        # the LDA peer keeps its own step (spec.peer_step)
        spec = dataclasses.replace(
            spec, step_s=args.adapt_step_s, peer_step_s=spec.peer_step_s or spec.step_s
        )
    return spec


def _experiment(args: argparse.Namespace) -> int:
    import dataclasses

    from emgcore.checkpoint import load_checkpoint
    from emgcore.gesture.core import ADAPT_CONFIG, SCRATCH_CONFIG
    from emgcore.gesture.data import list_subjects, load_trials
    from emgcore.gesture.experiments import METHODS, pick_targets, run_inter_subject

    _threads(args)
    spec = _spec(args)
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
    run_inter_subject(
        trials,
        spec,
        out,
        targets=targets,
        n_folds=args.folds,
        only_fold=args.fold,
        source_val_subjects=args.source_val_subjects,
        ks=args.k,
        methods=args.methods or METHODS,
        seed=args.seed,
        widths=args.widths,
        pretrain_config=_pretrain_config(args),
        adapt_config=dataclasses.replace(ADAPT_CONFIG, epochs=args.adapt_epochs),
        scratch_config=dataclasses.replace(SCRATCH_CONFIG, epochs=args.adapt_epochs),
        max_source_windows=args.max_source_windows,
        source_checkpoint=args.source_model,
        test_from=args.test_from,
        per_subject=args.scaling == "per-subject",
        **_adapt_options(args),
    )
    return _write_summary(spec, out, _command_line(args))


def _write_summary(spec: Any, out: Path, command: str | None) -> int:
    """summary.json (+ the command that made the units), summary.md, PNG."""
    from emgcore.gesture.experiments import (
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
    from emgcore.gesture.experiments import (
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
            **_adapt_options(args),
        )
    elif args.protocol == "inter-session":
        res = run_inter_session(
            trials,
            spec,
            subjects=targets,
            k=args.k[0],
            seed=args.seed,
            pretrain_config=_pretrain_config(args),
            max_source_windows=args.max_source_windows,
            **_adapt_options(args),
        )
    else:
        from emgcore.gesture.api import load_gesture_checkpoint

        if not args.source_model:
            from emgcore.errors import EmgCoreError

            raise EmgCoreError("--protocol percent needs --source-model.")
        source = load_gesture_checkpoint(args.source_model)[0]
        res = {
            "protocol": "percent",
            "dataset": spec.name,
            "per_target": {
                t: run_percent(
                    trials,
                    spec,
                    source,
                    target=t,
                    seed=args.seed,
                    **_adapt_options(args),
                )
                for t in targets
            },
        }
    res["command"] = _command_line(args)
    path = out / f"{name}.json"
    path.write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(json.dumps(res, indent=1))
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from emgcore.gesture.api import pretrain_checkpoint
    from emgcore.gesture.data import list_subjects, load_trials
    from emgcore.gesture.experiments import pick_targets

    _threads(args)
    spec = _spec(args)
    held = list(args.holdout)
    if args.n_holdout:
        held += [
            s
            for s in pick_targets(list_subjects(spec, args.data_dir), args.n_holdout)
            if s not in held
        ]
    trials = load_trials(spec, args.data_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    card = pretrain_checkpoint(
        trials,
        spec,
        out,
        heldout=held,
        seed=args.seed,
        config=_pretrain_config(args),
        widths=args.widths,
        max_windows=args.max_source_windows,
        per_subject=args.scaling == "per-subject",
        val_subjects=args.source_val_subjects,
        command=_command_line(args),
    )
    print(
        json.dumps(
            {
                "checkpoint": str(out),
                "sha256": card["sha256"],
                "metrics": card["metrics"],
            },
            indent=1,
        )
    )
    return 0


def _files(
    args: argparse.Namespace, paths: list[str], default_layout: str
) -> list[Any]:
    from emgcore.gesture.data import read_gesture_files

    layout = args.layout
    if layout is None:
        layout = (
            "csv" if all(p.lower().endswith(".csv") for p in paths) else default_layout
        )
    return read_gesture_files(paths, layout, sfreq=args.sfreq)


def _adapt(args: argparse.Namespace) -> int:
    import dataclasses

    from emgcore.gesture.api import (
        adapt_to_subject,
        load_gesture_checkpoint,
        save_adapted,
    )
    from emgcore.gesture.core import ADAPT_CONFIG

    _threads(args)
    _, _, _, spec = load_gesture_checkpoint(args.model)
    if args.sfreq is None:
        args.sfreq = spec.sfreq * spec.decimate
    files = _files(args, args.trials, spec.layout)
    model, meta, report = adapt_to_subject(
        args.model,
        files,
        k=args.k,
        seed=args.seed,
        method=args.method,
        config=dataclasses.replace(ADAPT_CONFIG, epochs=args.epochs),
        **_adapt_options(args),
    )
    meta["train"]["command"] = _command_line(args)
    sha = save_adapted(args.out, model, meta)
    keys = (
        "accuracy_before",
        "accuracy_after",
        "balanced_accuracy_before",
        "balanced_accuracy_after",
        "n_adapt_trials",
        "n_test_trials",
        "parent_sha256",
    )
    print(
        json.dumps(
            {"checkpoint": args.out, "sha256": sha, **{k: report[k] for k in keys}},
            indent=1,
        )
    )
    return 0


def _predict(args: argparse.Namespace) -> int:
    from emgcore.gesture.api import load_gesture_checkpoint, predict_files

    _threads(args)
    _, _, _, spec = load_gesture_checkpoint(args.model)
    if args.sfreq is None:
        args.sfreq = spec.sfreq * spec.decimate
    files = _files(args, args.paths, spec.layout)
    print(json.dumps(predict_files(args.model, files)))
    return 0
