"""What long commands show: milestones always, each state with -v, bars with rates."""

from __future__ import annotations

import io
import re

from rich.console import Console

from local_twin.progress import BYTES, Progress


def _shown(verbose: bool) -> str:
    out = io.StringIO()
    progress = Progress(stream=out, verbose=verbose)
    progress("execution started: run-1")
    with progress.states() as show:
        progress.detail("  run-1: RunGlueJob")
        show("run-1", "run-1: RunGlueJob")
    progress("execution SUCCEEDED: run-1 (3.0s)")
    return out.getvalue()


def test_quiet_by_default_and_every_state_with_verbose():
    quiet, verbose = _shown(False), _shown(True)
    assert "execution started: run-1" in quiet and "SUCCEEDED" in quiet
    assert "RunGlueJob" not in quiet  # the live line is transient; no detail lines
    assert re.search(r"^\[\s*[\d.]+s\]   run-1: RunGlueJob$", verbose, re.M)


def test_bars_end_with_the_amount_and_rate_in_a_log():
    out = io.StringIO()
    progress = Progress(stream=out)
    with progress.bar("generating", 250_000) as done:
        done(250_000)
    with progress.bar("uploading big.csv", 3_000_000, unit=BYTES) as done:
        done(3_000_000)
    rows, upload = out.getvalue().splitlines()
    assert rows.startswith("generating") and "100%" in rows and "250,000/250,000" in rows
    assert re.search(r"[\d,]+ rows/s", rows)
    assert "uploading big.csv" in upload and "3.0/3.0 MB" in upload
    assert re.search(r"[\d.]+ [kMG]?B/s", upload)


def test_a_disabled_progress_prints_nothing():
    out = io.StringIO()
    progress = Progress(stream=out, enabled=False)
    progress("x")
    with progress.bar("y", 10) as done:
        done(10)
    assert out.getvalue() == ""


def test_on_a_terminal_each_execution_has_a_live_line_with_its_state():
    out = io.StringIO()
    progress = Progress(stream=out)
    progress.console = Console(file=out, force_terminal=True, width=120)
    with progress.states() as show:
        show("run-1", "run-1: RunGlueJob")
        show("run-2", "run-2: RunDbt")
    drawn = out.getvalue()
    assert "run-1: RunGlueJob" in drawn and "run-2: RunDbt" in drawn
