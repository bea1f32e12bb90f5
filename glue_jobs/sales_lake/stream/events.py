"""Pure DataFrame transforms of the stream loader: typed events -> silver rows.

Lines are parsed, validated and typed in the executors (`event_conform`); this
module holds the set-wide steps: ranking a row's events and classifying the newest
against silver.

Every line read gets exactly one outcome, which is what makes conservation
checkable: `quarantined` (malformed), `duplicate` (an event id seen earlier in
the run), `superseded` (a newer event for the same row is in the run; counted as
a duplicate, as the batch loader counts older copies of a row), and for
the newest event of each row, compared with silver: `inserted`, `updated`,
`refreshed` (newer event, same content: only the event lineage moves),
`stale` (silver holds a newer event) or `replayed` (silver holds this event).

Events carry the full order line after the change (see msk_connect/events.py),
so applying the newest event of each row is the same as applying all of them
in event-time order. Ordering is total: (event_time, event_id).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sales_lake.schema import SALES_COLUMNS

# Outcomes and the metrics count each one adds to.
OUTCOME_COUNT = {
    "quarantined": "quarantined",
    "duplicate": "duplicates",
    "superseded": "duplicates",  # an older copy of the row in this run, as in the batch loader
    "stale": "unchanged",
    "replayed": "unchanged",
    "refreshed": "unchanged",
    "inserted": "inserted",
    "updated": "updated",
}
WRITE_OUTCOMES = ("inserted", "updated", "refreshed")


def rank_events(rows: DataFrame) -> DataFrame:
    """Add `outcome`: NULL for the newest event of each row, `duplicate` for another copy
    of an event id already ranked, `superseded` for an older event of the row.

    One window (one shuffle): copies of an event share its time and id, so they sort
    next to each other within the row.
    """
    newest_first = Window.partitionBy("row_id").orderBy(
        F.col("event_time").desc(), F.col("event_id").desc(), "source_uri", "line_number"
    )
    rank = F.row_number().over(newest_first)
    previous_id = F.lag("event_id").over(newest_first)
    outcome = (
        F.when(rank == 1, F.lit(None).cast("string"))
        .when(previous_id == F.col("event_id"), F.lit("duplicate"))
        .otherwise(F.lit("superseded"))
    )
    return rows.withColumn("outcome", outcome)


def newer_than_stored(
    event_time: Column, event_id: Column, stored_time: Column, stored_id: Column
) -> Column:
    """The one ordering rule, used for counting and as the MERGE guard."""
    return (
        stored_time.isNull()
        | (event_time > stored_time)
        | ((event_time == stored_time) & (event_id > F.coalesce(stored_id, F.lit(""))))
    )


def classify(ranked: DataFrame, silver: DataFrame | None) -> DataFrame:
    """Decide the outcome of each row's newest event against the stored silver row."""
    if silver is None:
        return ranked.withColumn("outcome", F.coalesce("outcome", F.lit("inserted")))
    stored = silver.select(
        F.col("row_id").alias("_s_row_id"),
        F.col("event_time").alias("_s_time"),
        F.col("event_id").alias("_s_id"),
        F.col("record_hash").alias("_s_hash"),
        F.col("is_deleted").alias("_s_deleted"),
    )
    joined = ranked.join(
        stored, (F.col("row_id") == F.col("_s_row_id")) & F.col("outcome").isNull(), "left"
    )
    newer = newer_than_stored(
        F.col("event_time"), F.col("event_id"), F.col("_s_time"), F.col("_s_id")
    )
    same_content = (F.col("record_hash") == F.col("_s_hash")) & (
        F.col("is_deleted") == F.col("_s_deleted")
    )
    outcome = (
        F.when(F.col("outcome").isNotNull(), F.col("outcome"))
        .when(F.col("_s_row_id").isNull(), F.lit("inserted"))
        .when(F.col("event_id") == F.col("_s_id"), F.lit("replayed"))
        .when(~newer, F.lit("stale"))
        .when(same_content, F.lit("refreshed"))
        .otherwise(F.lit("updated"))
    )
    return joined.withColumn("outcome", outcome).drop(
        *[c for c in joined.columns if c.startswith("_s_")]
    )


def sales_columns() -> list[str]:
    return [name for name, _type, _nullable in SALES_COLUMNS]
