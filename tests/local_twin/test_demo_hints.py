"""The demo ends by naming the commands to look further; each must be a real command."""

from __future__ import annotations

import shlex

from local_twin.cli import build_parser
from local_twin.commands.demo import LOOK_FURTHER


def test_the_demo_names_quarantine_sql_and_report_and_each_parses():
    named = [shlex.split(command) for command, _ in LOOK_FURTHER]
    assert [words[1] for words in named] == ["quarantine", "sql", "report"]
    parser = build_parser()
    for words in named:
        assert parser.parse_args(words[1:]).func  # a registered command with these arguments
