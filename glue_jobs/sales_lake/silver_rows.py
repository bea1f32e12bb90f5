"""Row shaping both loaders share (Spark DataFrame transforms): validity, lineage
lookups, the record hash and the rows of silver/quarantine.

Shared so that a batch row and a stream row of the same content get the same
`record_hash` (the MERGE guards compare them) and a rejected CSV record and a
rejected event land in silver/quarantine in one shape.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sales_lake.reasons import most_frequent_first

SEPARATOR = "\u001f"
NULL_MARK = "\u0000"
# The lineage every quarantine row carries, as Columns the loader provides.
QUARANTINE_LINEAGE = ("run_id", "source_uri", "source_version", "source_kind", "ingested_at")


def is_valid() -> Column:
    """No reason code: the row goes to silver/sales (else to silver/quarantine)."""
    return F.size("reason_codes") == 0


def record_hash(columns: list[str], extra: str | None = None) -> Column:
    """sha256 over the business columns in contract order (NULL-safe, type-stable text).

    `extra` (rescued_data) counts only where it holds a value, so rows without unknown
    columns - every stream row, and every row loaded before header policies - keep
    the hash they had, while a change in a rescued value updates the row."""
    parts = [F.coalesce(F.col(c).cast("string"), F.lit(NULL_MARK)) for c in columns]
    if extra is not None:
        parts.append(F.col(extra))  # concat_ws skips NULL: no separator, same text
    return F.sha2(F.concat_ws(SEPARATOR, *parts), 256)


def lookup(values: dict, key: str) -> Column:
    """`values[<column key>]` per row, NULL for a key it lacks: per-source facts (URI,
    version, write time) attached to rows that carry only their source's index or URI."""
    if not values:
        return F.lit(None)
    return F.create_map(*[F.lit(x) for pair in values.items() for x in pair])[F.col(key)]


def quarantine_rows(rows: DataFrame, lineage: dict[str, Column]) -> DataFrame:
    """The rejected rows in silver/quarantine's shape; `lineage` holds a Column for each
    of QUARANTINE_LINEAGE (`ingested_at` becomes `quarantined_at`)."""
    return rows.where(~is_valid()).select(
        *[lineage[name].alias(name) for name in QUARANTINE_LINEAGE[:-1]],
        "line_number",
        "raw_record",
        "reason_codes",
        "reason_detail",
        lineage["ingested_at"].alias("quarantined_at"),
    )


def reason_counts(rows: DataFrame) -> dict[str, int]:
    """Reason code -> rejected rows carrying it (a row with two reasons counts under both),
    most frequent first."""
    counted = (
        rows.where(~is_valid())
        .select(F.explode("reason_codes").alias("code"))
        .groupBy("code")
        .count()
        .collect()
    )
    return most_frequent_first({r.code: r["count"] for r in counted})
