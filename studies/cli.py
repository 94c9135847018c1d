"""Command-line entry point of the studies: ``python -m studies <command> ...``.

The experiment commands (protocol runners, multi-seed experiments, tables and
figures) live here, apart from the user commands of ``python -m emgcore``.
Each command is a module of ``studies/commands`` with ``add_parser(subparsers)``;
discovery, ``-v`` and the one-line errors (exit status 2) are emgcore's
(:func:`emgcore.cli.commands_parser`, :func:`emgcore.cli.run_parsed`).
"""

from __future__ import annotations

import argparse

from emgcore.cli import commands_parser, run_parsed


def build_parser() -> argparse.ArgumentParser:
    import studies.commands

    return commands_parser(
        studies.commands,
        prog="python -m studies",
        description="Myolens studies: evaluation protocols, experiments, tables.",
    )


def main(argv: list[str] | None = None) -> int:
    return run_parsed(build_parser(), argv, name="studies")
