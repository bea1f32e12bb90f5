"""`twin`: the command-line tool of the local twin.

Each command lives in its own module that exposes `register(subparsers)`; the
module adds its sub-parser and sets `func` (args -> exit code). Add a command by
importing its module here and adding it to COMMANDS. The command modules import
their heavy dependencies (Spark, moto, dbt) inside `func`, so `twin --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from local_twin.commands import (
    demo,
    docs,
    doctor,
    drop,
    executions,
    generate,
    maintain,
    quarantine,
    report,
    rerun,
    smoke,
    sql,
    stream,
)

COMMANDS = (
    doctor, generate, demo, drop, executions, rerun, quarantine, sql, report, maintain, stream,
    smoke, docs,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin",
        description="Run the Sales Data Aggregation Pipeline offline (the local twin).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
