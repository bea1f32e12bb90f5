"""`twin`: the command-line tool of the local twin.

Each command lives in its own module that exposes `register(subparsers)`; the
module adds its sub-parser and sets `func` (args -> exit code). Add a command by
adding its module to COMMAND_MODULES.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "local_twin.commands.doctor",
    "local_twin.commands.generate",
    "local_twin.commands.demo",
    "local_twin.commands.drop",
    "local_twin.commands.executions",
    "local_twin.commands.rerun",
    "local_twin.commands.stream",
    "local_twin.commands.smoke",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin",
        description="Run the Sales Data Aggregation Pipeline offline (the local twin).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
