"""``python -m emgcore models``: the registered architectures as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="print JSON: each registered model's name, default config and "
        "parameter count",
    )
    parser.set_defaults(func=_models)


def models_summary() -> list[dict[str, Any]]:
    """One ``{name, config, n_parameters}`` dict per registered model, built with
    its default arguments."""
    from emgcore.models import MODELS, count_parameters

    out = []
    for name, cls in MODELS.items():
        model = cls()
        out.append(
            {
                "name": name,
                "config": model.get_config(),
                "n_parameters": count_parameters(model),
            }
        )
    return out


def _models(args: argparse.Namespace) -> int:
    print(json.dumps(models_summary(), indent=2))
    return 0
