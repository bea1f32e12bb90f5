"""Conformed records -> silver and quarantine rows (Spark DataFrame transforms).

Runs after `conform` (which typed and validated each record in the executors):
adds lineage and the record hash, keeps one row per row_id, and shapes rejected
records for silver/quarantine.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sales_lake.schema import BUSINESS_COLUMNS

SEPARATOR = "\u001f"
NULL_MARK = "\u0000"


def is_valid() -> Column:
    return F.size("reason_codes") == 0


def record_hash(columns: list[str]) -> Column:
    """sha256 over the business columns in contract order (NULL-safe, type-stable text)."""
    parts = [F.coalesce(F.col(c).cast("string"), F.lit(NULL_MARK)) for c in columns]
    return F.sha2(F.concat_ws(SEPARATOR, *parts), 256)


def valid_rows(conformed: DataFrame) -> DataFrame:
    """The business columns of valid records, with where each came from (for ordering)."""
    business = [F.col(name).cast(type_).alias(name) for name, type_, _ in BUSINESS_COLUMNS]
    return conformed.where(is_valid()).select(
        *business, "source_index", F.col("line_number").alias("source_line")
    )


def latest_per_row_id(rows: DataFrame) -> DataFrame:
    """One row per row_id: the last occurrence (later source, then later line) wins.

    Later files in a run supersede earlier ones exactly as if they had been loaded
    one run at a time; the superseded copies are counted as duplicates.
    """
    rank = Window.partitionBy("row_id").orderBy(F.desc("source_index"), F.desc("source_line"))
    return rows.withColumn("_rank", F.row_number().over(rank)).where("_rank = 1").drop("_rank")


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
        record_hash(names).alias("record_hash"),
        F.lit(None).cast("string").alias("event_id"),
        lineage["event_time"].alias("event_time"),
        F.lit(False).alias("is_deleted"),
    )


def quarantine_rows(conformed: DataFrame, lineage: dict[str, Column]) -> DataFrame:
    return conformed.where(~is_valid()).select(
        lineage["run_id"].alias("run_id"),
        lineage["source_uri"].alias("source_uri"),
        lineage["source_version"].alias("source_version"),
        F.lit("batch").alias("source_kind"),
        "line_number",
        "raw_record",
        "reason_codes",
        "reason_detail",
        lineage["ingested_at"].alias("quarantined_at"),
    )
