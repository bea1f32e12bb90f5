"""Glue job: stream files (JSON-lines sales events from the MSK Connect S3 sink) -> silver.

Arguments (Glue `--name value`): --run_id, --lake_uri, and --manifest_uri or
--source_uris (comma-separated). In Python: `run_stream(spark, args)` returns the
metrics dict also written to `runs/<run_id>/metrics.json`. Runs on Glue 5.0
(sales_lake shipped with --extra-py-files) and locally:

    .venv/bin/python glue_jobs/stream_to_silver.py --run_id r1 \
        --lake_uri file:///tmp/lake --source_uris file:///tmp/raw/topics/.../x+0+0000000000.json

What it guarantees (docs/contracts.md):
- each event id is applied once, whatever file or run it comes in;
- the newest event (event_time, then event_id) of a row wins, against the rows of
  this run and against silver, so late files never roll a row back;
- cancellations set is_deleted=true (soft delete: the row stays, gold filters it);
- malformed lines go to silver/quarantine with reason codes, none are lost;
- rows read = inserted + updated + unchanged + duplicates + quarantined, where
  duplicates are repeated event ids and older events of a row within the run (as the
  batch job counts older copies of a row), and unchanged are events silver already
  holds or has newer than (`event_outcomes` in the metrics has the detail).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sales_lake import delta_tables, job_session, uris
from sales_lake import stream_events as events
from sales_lake.run_metrics import RunMetrics
from sales_lake.schema import BUSINESS_COLUMNS
from sales_lake.silver_frames import record_hash
from sales_lake.stream_io import (
    Source,
    manifest_sources,
    merge_stream_sales,
    present_sources,
    read_events,
)

JOB_NAME = "stream_to_silver"
JOB_ARGS = ("run_id", "lake_uri")
SOURCE_ARGS = ("manifest_uri", "source_uris")


def parse_args(argv: list[str]) -> dict[str, str]:
    """`--name value` pairs as Glue passes them (ignoring Glue's own, e.g. --JOB_NAME)."""
    parser = argparse.ArgumentParser(prog=JOB_NAME, description=__doc__.splitlines()[0])
    for name in JOB_ARGS:
        parser.add_argument(f"--{name}", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    for name in SOURCE_ARGS:
        group.add_argument(f"--{name}")
    known, _glue_own = parser.parse_known_args(argv)
    return {k: v for k, v in vars(known).items() if v is not None}


def _requested_sources(args: dict[str, str]) -> list[Source]:
    if args.get("manifest_uri"):
        return manifest_sources(args["manifest_uri"], args["lake_uri"])
    listed = [u.strip() for u in args["source_uris"].split(",") if u.strip()]
    return [Source(uris.spark_uri(u), None) for u in listed]


def _lookup(values: dict[str, str | None], key: str):
    if not values:
        return F.lit(None).cast("string")
    return F.create_map(*[F.lit(x) for kv in values.items() for x in kv])[F.col(key)]


def _with_lineage(rows: DataFrame, versions: dict, run_id: str, started: str) -> DataFrame:
    names = [name for name, _, _ in BUSINESS_COLUMNS]
    return rows.select(
        "*",
        _lookup(versions, "source_uri").cast("string").alias("source_version"),
        F.col("line_number").alias("source_line"),
        F.lit("stream").alias("source_kind"),
        F.lit(run_id).alias("run_id"),
        F.lit(started).cast("timestamp").alias("ingested_at"),
        record_hash(names).alias("record_hash"),  # the batch loader's formula
    )


def _quarantine_rows(checked: DataFrame) -> DataFrame:
    return checked.where(F.size("reason_codes") > 0).select(
        "run_id",
        "source_uri",
        "source_version",
        "source_kind",
        "line_number",
        "raw_record",
        "reason_codes",
        "reason_detail",
        F.col("ingested_at").alias("quarantined_at"),
    )


def _materialize(df: DataFrame, held: list[DataFrame]) -> DataFrame:
    """Compute once and keep (memory, spilling to disk); the caller unpersists `held`.

    Later steps (range, classification, tallies, quarantine) then read the stored rows
    instead of reading and typing the files again for each of them.
    """
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    df.count()
    held.append(df)
    return df


def _decide(
    spark, checked: DataFrame, sales_path: str, held: list[DataFrame]
) -> tuple[DataFrame, dict, dict]:
    """Classify every valid event against silver, materialized before the MERGE moves
    silver; returns (classified, outcome -> count, source -> lines)."""
    valid = checked.where(F.size("reason_codes") == 0)
    low, high, count = valid.agg(F.min("row_id"), F.max("row_id"), F.count(F.lit(1))).first()
    # Range-partitioned once: the ranking window needs rows clustered by row_id, and the
    # written files then cover row_id ranges (MERGE pruning) without another shuffle.
    valid = valid.repartitionByRange(delta_tables.range_partitions(count), "row_id")
    silver = None  # nothing stored in the events' row_id range: every row is new
    if low is not None and delta_tables.holds_row_ids(spark, sales_path, low, high):
        silver = (
            spark.read.format("delta").load(sales_path).where(f"row_id BETWEEN {low} AND {high}")
        )
    classified = _materialize(events.classify(events.rank_events(valid), silver), held)
    tally = (
        classified.select("source_uri", "outcome", "row_id")
        .unionByName(
            checked.where(F.size("reason_codes") > 0).select(
                "source_uri",
                F.lit("quarantined").alias("outcome"),
                F.lit(None).cast("bigint").alias("row_id"),
            )
        )
        .groupBy("source_uri", "outcome")
        .agg(F.count(F.lit(1)).alias("n"), F.min("row_id").alias("lo"), F.max("row_id").alias("hi"))
        .collect()
    )
    outcomes: dict[str, int] = {}
    per_source: dict[str, int] = {}
    lo_hi = [None, None]
    for row in tally:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + row["n"]
        per_source[row["source_uri"]] = per_source.get(row["source_uri"], 0) + row["n"]
        if row["outcome"] in events.WRITE_OUTCOMES:
            lo_hi[0] = row["lo"] if lo_hi[0] is None else min(lo_hi[0], row["lo"])
            lo_hi[1] = row["hi"] if lo_hi[1] is None else max(lo_hi[1], row["hi"])
    outcomes["_row_id_range"] = tuple(lo_hi)  # type: ignore[assignment]
    return classified, outcomes, per_source


def _apply(spark, sources: list[Source], paths: dict, metrics: RunMetrics, held: list):
    """Parse, validate, classify and MERGE; fills the timings; returns the tallies."""
    clock = time.monotonic()
    run_id, started = metrics.run_id, metrics.started_at
    versions = {s.uri: s.version for s in sources if s.version}
    checked = _with_lineage(read_events(spark, sources), versions, run_id, started)
    checked = _materialize(checked, held)
    metrics.timings_seconds["read"] = time.monotonic() - clock

    mark = time.monotonic()
    classified, outcomes, per_source = _decide(spark, checked, paths["sales"], held)
    row_id_range = outcomes.pop("_row_id_range")
    metrics.timings_seconds["transform"] = time.monotonic() - mark

    mark = time.monotonic()
    writes = sum(outcomes.get(o, 0) for o in events.WRITE_OUTCOMES)
    if writes:
        # Still range-partitioned by row_id and sorted within partitions (the window).
        rows = classified.where(F.col("outcome").isin(*events.WRITE_OUTCOMES))
        rows = rows.select(*events.sales_columns())
        with delta_tables.source_not_materialized(spark):  # `classified` is cached
            merge_stream_sales(spark, paths["sales"], rows, row_id_range)
    if outcomes.get("quarantined"):
        with delta_tables.source_not_materialized(spark):  # `checked` is cached
            delta_tables.merge_quarantine(
                spark, paths["quarantine"], _quarantine_rows(checked), [s.uri for s in sources]
            )
    metrics.timings_seconds["merge"] = time.monotonic() - mark
    return outcomes, per_source


def run_stream(spark: SparkSession, args: dict[str, str]) -> dict:
    """Apply one run's stream files to silver; returns (and writes) the metrics record."""
    clock = time.monotonic()
    run_id, lake_uri = args["run_id"], args["lake_uri"].rstrip("/")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    metrics = RunMetrics(run_id=run_id, started_at=started, job=JOB_NAME)
    paths = delta_tables.prepare_silver(spark, lake_uri)
    sources, missing = present_sources(_requested_sources(args))
    metrics.rejected_files.extend(missing)

    held: list[DataFrame] = []
    try:
        outcomes, per_source = _apply(spark, sources, paths, metrics, held)
    finally:
        # Newest first: unpersisting a cache that others were built on makes Spark re-plan
        # those others from scratch (the slow, inlined plan the caches exist to avoid).
        for df in reversed(held):
            df.unpersist()
    for outcome, n in outcomes.items():
        metrics.counts[events.OUTCOME_COUNT[outcome]] += n
        metrics.counts["read"] += n
    metrics.sources = [
        {"uri": s.uri, "version": s.version, "rows_read": per_source.get(s.uri, 0)} for s in sources
    ] + [{"uri": m["uri"], "version": None, "rows_read": 0, "outcome": "missing"} for m in missing]
    metrics.delta_versions = {
        delta_tables.SALES_TABLE: delta_tables.table_version(spark, paths["sales"]),
        delta_tables.QUARANTINE_TABLE: delta_tables.table_version(spark, paths["quarantine"]),
    }
    metrics.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    metrics.timings_seconds["total"] = time.monotonic() - clock
    return metrics.write(
        lake_uri, event_outcomes={k: outcomes.get(k, 0) for k in events.OUTCOME_COUNT}
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(argv[1:])
    metrics = run_stream(job_session.job_spark_session(JOB_NAME), args)
    print(json.dumps({"run_id": metrics["run_id"], "counts": metrics["counts"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
