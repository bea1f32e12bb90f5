"""The stream loader (silver Glue job) end to end on local Spark: three runs, one small lake.

Run 1 holds out-of-order and duplicate events, a cancellation and malformed
lines; run 2 reruns it (idempotency) through the silver job's entry script
(glue_jobs/to_silver.py --source_kind stream, as Glue runs it); run 3 brings a
late, older event, a newer update and a replay of an already applied event.
"""

from __future__ import annotations

import json
import random
import runpy
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from sales_lake import silver_run
from sales_lake.run_metrics import ACCOUNTED
from sales_lake.silver_run import parse_args
from sales_lake.stream import loader as stream_loader

from local_twin.paths import GLUE_JOBS_DIR
from msk_connect.events import make_event, random_order_line

pytestmark = pytest.mark.spark

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
RAW = "raw-bucket"
TOPIC = "sales-order-lines"


def _t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _line(row_id: int, quantity: int, seed: int = 0) -> dict:
    line = random_order_line(random.Random(seed), row_id, f"ST-{row_id // 10}", date(2026, 11, 26))
    line["quantity"] = quantity
    return line


def _key(partition: int, offset: int) -> str:
    hour = f"year=2026/month=11/day=26/hour=08/{TOPIC}+{partition}+{offset:010d}.json"
    return f"topics/{TOPIC}/{hour}"


CREATE_A = make_event("order_line_created", _line(1, quantity=1), _t(1), "ev-a1")
UPDATE_A_T2 = make_event("order_line_updated", _line(1, quantity=2), _t(2), "ev-a2")
UPDATE_A_T3 = make_event("order_line_updated", _line(1, quantity=3), _t(3), "ev-a3")
CREATE_B = make_event("order_line_created", _line(2, quantity=5), _t(1), "ev-b1")
CANCEL_B = make_event("order_line_cancelled", _line(2, quantity=5), _t(4), "ev-b2")
CREATE_C = make_event("order_line_created", _line(3, quantity=7), _t(1), "ev-c1")
LATE_A = make_event(
    "order_line_updated", _line(1, quantity=9), _t(2) + timedelta(seconds=30), "ev-a9"
)
UPDATE_C = make_event("order_line_updated", _line(3, quantity=8), _t(5), "ev-c2")


def _bad_lines() -> list[str]:
    no_id = dict(CREATE_C, event_id="")
    bad_time = dict(CREATE_C, event_id="ev-bad-time", event_time="26/11/2026 08:00")
    bad_sales = dict(CREATE_C, event_id="ev-bad-sales")
    bad_sales["order_line"] = dict(CREATE_C["order_line"], sales="12,50")
    bad_type = dict(CREATE_C, event_id="ev-bad-type", event_type="order_line_deleted")
    return ["{not json", *(json.dumps(e) for e in (no_id, bad_time, bad_sales, bad_type))]


EXPECTED_REASONS = {
    1: ["invalid_json"],
    2: ["missing_event_id"],
    3: ["bad_event_time"],
    4: ["bad_sales"],
    5: ["unknown_event_type"],
}


def _write(root, key: str, lines: list[str]) -> dict:
    path = root / "s3" / RAW / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return {"bucket": RAW, "key": key, "etag": f"etag-{key[-15:-5]}", "size": path.stat().st_size}


def _manifest(root, run_id: str, objects: list[dict]) -> str:
    path = root / "s3" / "lake-bucket" / "manifests" / f"{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": run_id, "kind": "stream", "objects": objects}))
    return path.as_uri()


def _silver(spark, lake_uri: str) -> dict[int, dict]:
    rows = spark.read.format("delta").load(f"{lake_uri}/silver/sales").collect()
    return {r["row_id"]: r.asDict() for r in rows}


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("stream_job")
    lake_uri = (root / "s3" / "lake-bucket").as_uri()
    first = [
        _write(
            root,
            _key(0, 0),
            [json.dumps(e) for e in (CREATE_A, CREATE_B, UPDATE_A_T3)]
            + [json.dumps(CREATE_B)]
            + _bad_lines(),
        ),
        # Arrives in the same run but holds an older update of A than the file above.
        _write(root, _key(1, 0), [json.dumps(e) for e in (UPDATE_A_T2, CANCEL_B, CREATE_C)]),
    ]
    args1 = {
        "run_id": "stream-run-1",
        "lake_uri": lake_uri,
        "manifest_uri": _manifest(root, "stream-run-1", first),
    }
    m1 = silver_run.run(spark, stream_loader, args1)
    silver1 = _silver(spark, lake_uri)
    # The rerun runs the job script as Glue does (argv, __main__, SystemExit with its exit
    # code); it rewrites run 1's record.
    glue_argv = ["to_silver.py", "--JOB_NAME", "sales-to-silver", "--source_kind", "stream"]
    for name, value in args1.items():
        glue_argv += [f"--{name}", value]
    with mock.patch.object(sys, "argv", glue_argv), pytest.raises(SystemExit) as exited:
        runpy.run_path(str(GLUE_JOBS_DIR / "to_silver.py"), run_name="__main__")
    exit_code = exited.value.code
    metrics_path = root / "s3" / "lake-bucket" / "runs" / "stream-run-1" / "metrics.json"
    m2 = json.loads(metrics_path.read_text())
    silver2 = _silver(spark, lake_uri)
    late = [_write(root, _key(0, 9), [json.dumps(e) for e in (LATE_A, UPDATE_C, CANCEL_B)])]
    args3 = {
        "run_id": "stream-run-3",
        "lake_uri": lake_uri,
        "manifest_uri": _manifest(root, "stream-run-3", late),
    }
    m3 = silver_run.run(spark, stream_loader, args3)
    silver3 = _silver(spark, lake_uri)
    quarantine = spark.read.format("delta").load(f"{lake_uri}/silver/quarantine").collect()
    return {
        "exit_code": exit_code,
        "m1": m1,
        "m2": m2,
        "m3": m3,
        "silver1": silver1,
        "silver2": silver2,
        "silver3": silver3,
        "quarantine": quarantine,
        "root": root,
    }


def _conserved(metrics: dict) -> bool:
    c = metrics["counts"]
    return c["read"] == sum(c[k] for k in ACCOUNTED)


def test_first_run_counts_and_conservation(runs):
    counts = runs["m1"]["counts"]
    assert counts == {
        "read": 12,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 4,
        "blank": 0,
        "held": 0,
        "quarantined": 5,
    }
    assert _conserved(runs["m1"])
    assert runs["m1"]["event_outcomes"]["superseded"] == 3
    assert runs["m1"]["quarantine_ratio"] == pytest.approx(5 / 12, abs=1e-6)
    assert [s["rows_read"] for s in runs["m1"]["sources"]] == [9, 3]


def test_newest_event_wins_whatever_the_file_order(runs):
    row_a = runs["silver1"][1]
    assert (row_a["quantity"], row_a["event_id"]) == (3, "ev-a3")
    assert row_a["event_time"] == _t(3).replace(tzinfo=None)
    assert row_a["source_kind"] == "stream" and row_a["source_line"] == 3
    assert row_a["source_uri"].endswith(_key(0, 0)) and row_a["source_version"]


def test_cancellation_is_a_soft_delete(runs):
    assert runs["silver1"][2]["is_deleted"] is True
    assert runs["silver1"][2]["event_id"] == "ev-b2"
    assert runs["silver1"][3]["is_deleted"] is False


def test_malformed_lines_are_quarantined_with_reasons(runs):
    by_line = {r["line_number"]: r for r in runs["quarantine"] if r["run_id"] == "stream-run-1"}
    assert {n: by_line[n + 4]["reason_codes"] for n in EXPECTED_REASONS} == EXPECTED_REASONS
    assert "12,50" in by_line[8]["reason_detail"]
    assert all(r["source_kind"] == "stream" for r in by_line.values())
    # the run record counts them per reason (what RowsQuarantinedByReason publishes)
    codes = Counter(code for r in by_line.values() for code in r["reason_codes"])
    assert runs["m1"]["quarantine_reasons"] == dict(codes)


def test_rerun_is_idempotent(runs):
    assert runs["exit_code"] == 0
    counts = runs["m2"]["counts"]
    assert counts["inserted"] == counts["updated"] == 0
    assert counts["unchanged"] == 3 and counts["duplicates"] == 4 and _conserved(runs["m2"])
    assert runs["m2"]["event_outcomes"]["replayed"] == 3
    assert runs["silver2"] == runs["silver1"]
    assert len(runs["quarantine"]) == 5  # quarantined once per (object, version, line)


def test_late_older_event_never_overwrites_and_replays_are_no_ops(runs):
    outcomes = runs["m3"]["event_outcomes"]
    assert (outcomes["stale"], outcomes["updated"], outcomes["replayed"]) == (1, 1, 1)
    assert _conserved(runs["m3"])
    assert runs["silver3"][1] == runs["silver1"][1]  # row A untouched by the older event
    assert runs["silver3"][3]["quantity"] == 8 and runs["silver3"][3]["run_id"] == "stream-run-3"


def test_metrics_file_has_the_contract_shape(runs):
    path = runs["root"] / "s3" / "lake-bucket" / "runs" / "stream-run-3" / "metrics.json"
    written = json.loads(path.read_text())
    assert written["job"] == "stream_to_silver" and written["status"] == "SUCCEEDED"
    assert {
        "counts",
        "quarantine_ratio",
        "rejected_files",
        "sources",
        "delta_versions",
        "timings_seconds",
        "started_at",
        "finished_at",
    } <= written.keys()
    assert written["counts"] == runs["m3"]["counts"]


def test_parse_args_reads_glue_style_arguments():
    argv = ["--JOB_NAME", "x", "--run_id", "r1", "--lake_uri", "s3://lake", "--manifest_uri", "m"]
    assert parse_args(argv) == {"run_id": "r1", "lake_uri": "s3://lake", "manifest_uri": "m"}
    with pytest.raises(SystemExit):  # argparse: one of --manifest_uri/--source_uris required
        parse_args(["--run_id", "r1", "--lake_uri", "s3://lake"])
