"""Conservation can fail: each count is taken where its rows are decided, so a step that
loses, keeps or miscounts a row makes read != inserted + updated + unchanged +
duplicates + quarantined, and the job refuses the run (ConservationError, no run record).

Each test breaks one step of a real run on local Spark and checks the refusal; with
counts computed as left-overs (the old `unchanged = distinct - inserted - updated`,
stream `read` = the sum of the outcomes) every one of these runs would have "added up".
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime

import pytest
from pyspark.sql import functions as F
from sales_lake import delta_tables, silver_run, uris
from sales_lake.batch import loader as batch_loader
from sales_lake.batch import silver_frames
from sales_lake.run_metrics import ConservationError
from sales_lake.stream import events
from sales_lake.stream import loader as stream_loader

from msk_connect.events import make_event, random_order_line
from tests.glue_jobs.csv_fixtures import row, write_csv

pytestmark = pytest.mark.spark


def _batch_args(tmp_path, run_id: str) -> dict:
    # Row 2 twice (one duplicate) and one bad line: every count but `updated` is non-zero.
    source = write_csv(tmp_path / "orders.csv", [row(1), row(2), row(2), row(3, segment="Gold")])
    lake = tmp_path / "lake"
    return {"run_id": run_id, "lake_uri": lake.as_uri(), "source_uris": source.as_uri(),
            "quality_policy": "continue"}  # fmt: skip


def _no_record(args: dict) -> bool:
    run_dir = uris.local_path(args["lake_uri"]) / "runs" / args["run_id"]
    return not run_dir.exists()


def test_a_merge_reported_one_row_short_fails_the_job(spark, tmp_path, monkeypatch):
    """The loader reports one row too few (the MERGE's held-back count): the job's main
    raises, so Glue marks the run failed, and no metrics or summary is written."""
    args = _batch_args(tmp_path, "good")
    first = silver_run.run(spark, batch_loader, args)
    assert first["counts"] == {
        "read": 4, "inserted": 2, "updated": 0, "unchanged": 0, "duplicates": 1,
        "quarantined": 1, "blank": 0, "held": 0,
    }  # fmt: skip
    real = delta_tables.held_back
    monkeypatch.setattr(delta_tables, "held_back", lambda *a, **k: real(*a, **k) - 1)
    rerun = {**args, "run_id": "short"}
    argv = ["to_silver.py", "--source_kind", "batch"]
    argv += [part for name, value in rerun.items() for part in (f"--{name}", value)]
    with pytest.raises(ConservationError, match=r"run short: read=4 .*no metrics written"):
        silver_run.main(argv)
    assert _no_record(rerun)


def test_a_dedupe_that_keeps_a_copy_is_refused(spark, tmp_path, monkeypatch):
    """Without de-duplication both copies of row 2 are inserted while the duplicate is
    still counted as one: the record does not add up."""
    monkeypatch.setattr(silver_frames, "latest_per_row_id", lambda rows: rows)
    args = _batch_args(tmp_path, "no-dedupe")
    with pytest.raises(ConservationError, match="read=4 but"):
        silver_run.run(spark, batch_loader, args)
    assert _no_record(args)


def test_a_stream_classification_that_loses_an_event_is_refused(spark, tmp_path, monkeypatch):
    """`read` counts the event lines read from the files, apart from the outcome tally:
    an event the classification drops is missing from the tally, not from `read`."""
    rng, day = random.Random(3), date(2026, 11, 26)
    when = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    lines = [
        json.dumps(
            make_event("order_line_created", random_order_line(rng, n, "O-1", day), when, f"ev-{n}")
        )  # fmt: skip
        for n in (1, 2, 3)
    ]
    stream_file = tmp_path / "raw" / "topics" / "t" / "h" / "t+0+0000000000.json"
    stream_file.parent.mkdir(parents=True)
    stream_file.write_text("\n".join([*lines, "{not json"]) + "\n")
    args = {
        "run_id": "lost-event",
        "lake_uri": (tmp_path / "lake").as_uri(),
        "source_uris": uris.file_uri(stream_file),  # literal `+`, not as_uri()'s %2B
    }
    real = events.classify
    monkeypatch.setattr(events, "classify", lambda *a: real(*a).where(F.col("event_id") != "ev-2"))
    with pytest.raises(ConservationError, match="read=4 but"):
        silver_run.run(spark, stream_loader, args)
    assert _no_record(args)
