"""`twin report` before any gold exists says what to run first, in one line."""

from __future__ import annotations

import duckdb
import pytest

from local_twin import report
from local_twin.cli import main as twin_cli


def test_without_gold_it_names_the_commands_to_run_first(tmp_path, capsys):
    assert twin_cli(["report", "--workspace", str(tmp_path / "ws")]) == 2
    error = capsys.readouterr().err.strip()
    assert "no gold" in error and "twin demo" in error and "\n" not in error
    with duckdb.connect() as con, pytest.raises(report.ReportError, match="twin demo"):
        report.gather(con, [])


def test_money_is_shown_to_the_cent_half_away_from_zero():
    assert report.money("1234.005") == "1,234.01" and report.money("-0.125") == "-0.13"
    assert report.margin("1", "8") == "12.5%" and report.margin("1", "0") == "-"
