"""Command-line entry point: ``python -m emgcore <command> ...``.

Each command lives in ``emgcore/commands/<name>.py`` (found automatically) and exposes
``add_parser(subparsers)``, which registers the sub-command and sets
``func(args) -> int`` as its handler. Errors raised on purpose by emgcore end
the program with exit status 2 and one line on stderr, never a traceback.

:func:`commands_parser` and :func:`run_parsed` are public so that another
command package (``python -m studies``) gets the same discovery, ``-v`` flag
and error handling without copying them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from types import ModuleType

from emgcore.errors import EmgCoreError


def _command_modules(package: ModuleType) -> list[str]:
    """Every module in the package; adding a file adds a command."""
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__))


def commands_parser(
    package: ModuleType, *, prog: str, description: str
) -> argparse.ArgumentParser:
    """A parser with ``-v`` and one sub-command per module of ``package``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _command_modules(package):
        module = importlib.import_module(f"{package.__name__}.{name}")
        module.add_parser(sub)
    return parser


def build_parser() -> argparse.ArgumentParser:
    import emgcore.commands

    return commands_parser(
        emgcore.commands,
        prog="python -m emgcore",
        description="Myolens EMG core: read, check, preprocess and classify EMG.",
    )


def run_parsed(
    parser: argparse.ArgumentParser, argv: list[str] | None, *, name: str
) -> int:
    """Parse ``argv``, run the chosen command; expected errors exit 2 in one line."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (EmgCoreError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"{name} {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name} {args.command}: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_parsed(build_parser(), argv, name="emgcore")


def _one_line(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return " ".join(text.split())
