"""Events through the whole local twin: mock Kafka -> sink -> trigger -> stream job -> dbt.

Gold must hold exactly the order lines that are alive after the events, with the values
of their newest event; cancelled lines are soft-deleted in silver and absent from gold.
"""

from __future__ import annotations

import boto3
import duckdb
import pytest

from local_twin.progress import quiet
from local_twin.streaming import stream_events
from local_twin.twin import Twin
from local_twin.workspace import RAW_BUCKET, Workspace
from msk_connect.events import EventMix, generate_events
from tests.lambdas.trigger_events import encoded, eventbridge_body, sqs_batch

pytestmark = pytest.mark.spark

EVENTS, SEED = 60, 11
MIX = EventMix(update_ratio=0.3, cancel_ratio=0.15)


def _expected() -> tuple[dict[int, int], set[int]]:
    """(row_id -> quantity of its newest event for live rows, cancelled row ids)."""
    live, cancelled = {}, set()
    for event in generate_events(EVENTS, seed=SEED, mix=MIX):
        row_id = event["order_line"]["row_id"]
        if event["event_type"] == "order_line_cancelled":
            live.pop(row_id, None)
            cancelled.add(row_id)
        else:
            live[row_id] = event["order_line"]["quantity"]
    return live, cancelled


@pytest.fixture(scope="module")
def streamed(spark, tmp_path_factory):
    workspace = Workspace.at(tmp_path_factory.mktemp("stream-twin") / "ws", fresh=True)
    with Twin(workspace, progress=quiet()) as twin:
        run = stream_events(
            twin, events=EVENTS, seed=SEED, mix=MIX, flush_size=15, progress=quiet()
        )
        redelivery = _redeliver_later(twin, [obj.key for obj in run.objects[:2]])
    silver = spark.read.format("delta").load(
        str(workspace.bucket_path("sales-lake") / "silver/sales")
    )
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
        gold = dict(con.execute("select row_id, quantity from fact_sales").fetchall())
    return {
        "run": run,
        "gold": gold,
        "silver": {r["row_id"]: r for r in silver.collect()},
        "redelivery": redelivery,
    }


def _redeliver_later(twin, keys: list[str]) -> dict:
    """Two sink files' events again, in a later batch of their own (at-least-once delivery):
    a different object set from the execution that processed them, so a different name."""
    s3 = boto3.client("s3")
    bodies = []
    for key in keys:
        head = s3.head_object(Bucket=RAW_BUCKET, Key=key)
        bodies.append(
            eventbridge_body(
                encoded(key),
                size=head["ContentLength"],
                version=head["VersionId"],
                etag=head["ETag"].strip('"'),
                bucket=RAW_BUCKET,
            )
        )
    before = set(twin.executions.arns())
    response = twin.trigger.handle(sqs_batch(*bodies))
    return {"response": response, "new_executions": set(twin.executions.arns()) - before}


def test_events_reach_gold_through_one_stream_execution(streamed):
    run = streamed["run"]
    assert run.delivered == EVENTS and len(run.objects) >= 4  # flush.size 15 over 4 partitions
    assert [r["status"] for r in run.executions] == ["SUCCEEDED"]
    assert run.executions[0]["kind"] == "stream"
    assert run.executions[0]["metrics"]["counts"]["read"] == EVENTS
    assert run.last_event_to_gold_seconds > 0


def test_gold_has_the_live_lines_with_their_newest_values(streamed):
    live, cancelled = _expected()
    assert cancelled, "the scenario must cancel some lines"
    assert streamed["gold"] == live


def test_cancelled_lines_are_soft_deleted_in_silver(streamed):
    _live, cancelled = _expected()
    deleted = {row_id for row_id, row in streamed["silver"].items() if row["is_deleted"]}
    assert deleted == cancelled
    assert all(row["source_kind"] == "stream" for row in streamed["silver"].values())


def test_sink_files_redelivered_in_a_later_batch_start_nothing(streamed):
    assert streamed["redelivery"]["response"] == {"batchItemFailures": []}
    assert streamed["redelivery"]["new_executions"] == set()
