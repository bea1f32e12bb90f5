"""The stream loader: stream files (JSON-lines sales events from the MSK Connect S3
sink) -> silver/sales and silver/quarantine (Delta).

Run by the silver job's frame (`sales_lake.silver_run`, `--source_kind stream`), which
resolves the sources and writes the run record. What it guarantees (docs/contracts.md):
- each event id is applied once, whatever file or run it comes in;
- the newest event (event_time, then event_id) of a row wins, against the rows of
  this run and against silver, so late files never roll a row back;
- cancellations set is_deleted=true (soft delete: the row stays, gold filters it);
- malformed lines go to silver/quarantine with reason codes, none are lost;
- rows read = inserted + updated + unchanged + duplicates + quarantined (blank and
  held stay 0: blank lines are not events, and the gate holds files, not events), where
  duplicates are repeated event ids and older events of a row within the run (as the
  batch loader counts older copies of a row), and unchanged are events silver already
  holds or has newer than (`event_outcomes` in the metrics has the detail).

`read` is the number of event lines read from the files and `quarantined` the lines the
quarantine write took in, each counted apart from the outcome tally of the valid
events, so a classification that loses or doubles an event fails conservation.
"""

from __future__ import annotations

import time

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sales_lake import delta_tables
from sales_lake.run_metrics import RunMetrics
from sales_lake.run_sources import Source
from sales_lake.schema import BUSINESS_COLUMNS
from sales_lake.silver_rows import (
    QUARANTINE_LINEAGE,
    is_valid,
    lookup,
    quarantine_rows,
    reason_counts,
    record_hash,
)
from sales_lake.stream import events
from sales_lake.stream.event_io import merge_stream_sales, read_events

KIND = "stream"
JOB = "stream_to_silver"  # the run record's `job`
MISSING_FIX = "replay its offsets from Kafka to load those events"


def _with_lineage(rows: DataFrame, versions: dict, run_id: str, started: str) -> DataFrame:
    names = [name for name, _, _ in BUSINESS_COLUMNS]
    return rows.select(
        "*",
        lookup(versions, "source_uri").cast("string").alias("source_version"),
        F.col("line_number").alias("source_line"),
        F.lit(KIND).alias("source_kind"),
        F.lit(run_id).alias("run_id"),
        F.lit(started).cast("timestamp").alias("ingested_at"),
        record_hash(names).alias("record_hash"),  # the batch loader's formula
        F.lit(None).cast("string").alias("rescued_data"),  # events have no unknown columns
    )


def _materialize(df: DataFrame, held: list[DataFrame]) -> tuple[DataFrame, int]:
    """Compute once and keep (memory, spilling to disk); the caller unpersists `held`.
    Returns the kept frame and its row count.

    Later steps (range, classification, tallies, quarantine) then read the stored rows
    instead of reading and typing the files again for each of them.
    """
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    rows = df.count()
    held.append(df)
    return df, rows


def _decide(
    spark, checked: DataFrame, sales_path: str, held: list[DataFrame]
) -> tuple[DataFrame, dict, dict]:
    """Classify every valid event against silver, materialized before the MERGE moves
    silver; returns (classified, outcome -> count, source -> lines)."""
    valid = checked.where(is_valid())
    low, high, count = valid.agg(F.min("row_id"), F.max("row_id"), F.count(F.lit(1))).first()
    # Range-partitioned once: the ranking window needs rows clustered by row_id, and the
    # written files then cover row_id ranges (MERGE pruning) without another shuffle.
    valid = valid.repartitionByRange(delta_tables.range_partitions(count), "row_id")
    silver = None  # nothing stored in the events' row_id range: every row is new
    if low is not None and delta_tables.holds_row_ids(spark, sales_path, low, high):
        silver = (
            spark.read.format("delta").load(sales_path).where(f"row_id BETWEEN {low} AND {high}")
        )
    classified, _ = _materialize(events.classify(events.rank_events(valid), silver), held)
    tally = (
        classified.select("source_uri", "outcome", "row_id")
        .unionByName(
            checked.where(~is_valid()).select(
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
    """Parse, validate, classify and MERGE; fills counts and timings; returns the outcome
    tally and the lines read per source."""
    clock = time.monotonic()
    versions = {s.uri: s.version for s in sources if s.version}
    checked = _with_lineage(
        read_events(spark, sources), versions, metrics.run_id, metrics.started_at
    )
    checked, read = _materialize(checked, held)
    metrics.timings_seconds["read"] = time.monotonic() - clock

    mark = time.monotonic()
    classified, outcomes, per_source = _decide(spark, checked, paths["sales"], held)
    row_id_range = outcomes.pop("_row_id_range")
    metrics.timings_seconds["transform"] = time.monotonic() - mark

    mark = time.monotonic()
    quarantined = 0
    writes = sum(outcomes.get(o, 0) for o in events.WRITE_OUTCOMES)
    if writes:
        # Still range-partitioned by row_id and sorted within partitions (the window).
        rows = classified.where(F.col("outcome").isin(*events.WRITE_OUTCOMES))
        rows = rows.select(*events.sales_columns())
        with delta_tables.source_not_materialized(spark):  # `classified` is cached
            merge_stream_sales(spark, paths["sales"], rows, row_id_range)
    if outcomes.get("quarantined"):  # `checked` is cached
        rejected = quarantine_rows(checked, {n: F.col(n) for n in QUARANTINE_LINEAGE})
        metrics.quarantine_reasons = reason_counts(checked)
        uris = [s.uri for s in sources]
        quarantined = delta_tables.merge_quarantine(spark, paths["quarantine"], rejected, uris)
    metrics.timings_seconds["merge"] = time.monotonic() - mark
    metrics.counts.update(read=read, quarantined=quarantined)
    for outcome, n in outcomes.items():
        if outcome != "quarantined":
            metrics.counts[events.OUTCOME_COUNT[outcome]] += n
    return outcomes, per_source


def load(
    spark, sources: list[Source], paths: dict[str, str], metrics: RunMetrics, options=None
) -> dict:
    """Apply the run's stream files to silver; fills counts, sources and timings of
    `metrics`. Returns the record's extra field, `event_outcomes`."""
    held: list[DataFrame] = []
    try:
        outcomes, per_source = _apply(spark, sources, paths, metrics, held)
    finally:
        # Newest first: unpersisting a cache that others were built on makes Spark re-plan
        # those others from scratch (the slow, inlined plan the caches exist to avoid).
        for df in reversed(held):
            df.unpersist()
    metrics.sources.extend(
        {"uri": s.uri, "version": s.version, "rows_read": per_source.get(s.uri, 0)} for s in sources
    )
    return {"event_outcomes": {k: outcomes.get(k, 0) for k in events.OUTCOME_COUNT}}
