"""``gesture pretrain``, ``adapt`` and ``predict``: the actions on checkpoints.

Pretrain a source checkpoint with its model card, adapt it to one person's
calibration files (before/after accuracy), and classify the windows of
files as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from emgcore.commands.gesture.options import (
    adapt_options,
    command_line,
    dataset_spec,
    pretrain_config,
    set_threads,
)


def _pretrain(args: argparse.Namespace) -> int:
    from emgcore.gesture.api import pick_targets, pretrain_checkpoint
    from emgcore.gesture.core import PretrainOptions
    from emgcore.gesture.data import list_subjects, load_trials

    set_threads(args)
    spec = dataset_spec(args)
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
    options = PretrainOptions(
        config=pretrain_config(args),
        widths=args.widths,
        max_windows=args.max_source_windows,
        per_subject=args.scaling == "per-subject",
        val_subjects=args.source_val_subjects,
    )
    card = pretrain_checkpoint(
        trials,
        spec,
        out,
        options,
        heldout=held,
        seed=args.seed,
        command=command_line(args),
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
    from emgcore.gesture.core import ADAPT_CONFIG, AdaptOptions

    set_threads(args)
    _, _, _, spec = load_gesture_checkpoint(args.model)
    if args.sfreq is None:
        args.sfreq = spec.sfreq * spec.decimate
    files = _files(args, args.trials, spec.layout)
    options = AdaptOptions(
        method=args.method,
        config=dataclasses.replace(ADAPT_CONFIG, epochs=args.epochs),
        **adapt_options(args),
    )
    model, meta, report = adapt_to_subject(
        args.model, files, options, k=args.k, seed=args.seed
    )
    meta["train"]["command"] = command_line(args)
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

    set_threads(args)
    _, _, _, spec = load_gesture_checkpoint(args.model)
    if args.sfreq is None:
        args.sfreq = spec.sfreq * spec.decimate
    files = _files(args, args.paths, spec.layout)
    print(json.dumps(predict_files(args.model, files)))
    return 0
