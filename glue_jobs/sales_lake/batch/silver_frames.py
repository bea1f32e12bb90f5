"""Conformed CSV records -> silver rows (Spark DataFrame transforms of the batch loader).

Runs after `conform` (which typed and validated each record in the executors):
keeps one row per row_id and adds lineage and the record hash. What the stream
loader shares (validity, hash, quarantine shape) is in `sales_lake.silver_rows`.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sales_lake.schema import BUSINESS_COLUMNS
from sales_lake.silver_rows import is_valid, record_hash


def valid_rows(conformed: DataFrame) -> DataFrame:
    """The business columns of valid records, with where each came from (for ordering)."""
    business = [F.col(name).cast(type_).alias(name) for name, type_, _ in BUSINESS_COLUMNS]
    return conformed.where(is_valid()).select(
        *business, "rescued_data", "source_index", F.col("line_number").alias("source_line")
    )


def latest_per_row_id(rows: DataFrame) -> DataFrame:
    """One row per row_id: the last occurrence (later source, then later line) wins.

    Later files in a run supersede earlier ones exactly as if they had been loaded
    one run at a time; the superseded copies are counted as duplicates.
    """
    rank = Window.partitionBy("row_id").orderBy(F.desc("source_index"), F.desc("source_line"))
    return rows.withColumn("_rank", F.row_number().over(rank)).where("_rank = 1").drop("_rank")


def duplicates(row_id: Column) -> Column:
    """Aggregate: the copies `latest_per_row_id` drops, every row of a row_id but one.

    Counted on its own (rows minus distinct row_ids, where the MERGE counts what it
    wrote), so a de-duplication that keeps or drops one row too many breaks the run's
    conservation instead of hiding in it.
    """
    return F.count(row_id) - F.count_distinct(row_id)


def silver_rows(rows: DataFrame, lineage: dict[str, Column]) -> DataFrame:
    """Rows in the silver/sales column order, with lineage and `record_hash`."""
    names = [name for name, _, _ in BUSINESS_COLUMNS]
    return rows.select(
        *names,
        lineage["source_uri"].alias("source_uri"),
        lineage["source_version"].alias("source_version"),
        "source_line",
        F.lit("batch").alias("source_kind"),
        lineage["run_id"].alias("run_id"),
        lineage["ingested_at"].alias("ingested_at"),
        record_hash(names, extra="rescued_data").alias("record_hash"),
        F.lit(None).cast("string").alias("event_id"),
        lineage["event_time"].alias("event_time"),
        F.lit(False).alias("is_deleted"),
        "rescued_data",
    )
