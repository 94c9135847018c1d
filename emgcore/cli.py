"""Command-line entry point: ``python -m emgcore <command> ...``.

Each command lives in ``emgcore/commands/<name>.py`` (found automatically) and exposes
``add_parser(subparsers)``, which registers the sub-command and sets
``func(args) -> int`` as its handler. Errors raised on purpose by emgcore end
the program with exit status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from emgcore.errors import EmgCoreError


def _command_modules() -> list[str]:
    """Every module in ``emgcore/commands``; adding a file adds a command."""
    import emgcore.commands

    return sorted(m.name for m in pkgutil.iter_modules(emgcore.commands.__path__))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emgcore",
        description="Myolens EMG core: read, check, preprocess and classify EMG.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _command_modules():
        module = importlib.import_module(f"emgcore.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (EmgCoreError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"emgcore {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"emgcore {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return " ".join(text.split())
