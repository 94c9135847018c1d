"""Parsed options turned into library arguments, shared by the actions.

Public: ``python -m studies gesture experiment`` takes the same options.

Adaptation keywords and gain augmentation, thread count, the pretraining
configuration, the dataset spec with its overrides, and the command line
that reproduces a run (saved with every result).
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any


def adapt_options(args: argparse.Namespace) -> dict[str, Any]:
    """``augment`` and ``refit`` keyword arguments of the adaptation."""
    return {"augment": gain_augment(args), "refit": args.refit}


def gain_augment(args: argparse.Namespace) -> Any:
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


def set_threads(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(max(1, int(args.threads)))


def command_line(
    args: argparse.Namespace, *, prog: str = "python -m emgcore gesture"
) -> str:
    """The command that reproduces this run, rebuilt from the parsed options.

    ``prog`` names the command group (``python -m studies gesture`` for the
    experiments).
    """
    skip = {"func", "command", "gesture_command", "verbose"}
    parts = [prog, args.gesture_command]
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


def pretrain_config(args: argparse.Namespace) -> Any:
    import dataclasses

    from emgcore.gesture.core import PRETRAIN_CONFIG

    return dataclasses.replace(PRETRAIN_CONFIG, epochs=args.epochs)


def dataset_spec(args: argparse.Namespace) -> Any:
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
