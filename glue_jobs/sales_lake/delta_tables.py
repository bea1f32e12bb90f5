"""The silver Delta tables: creation with deliberate properties, and the MERGEs into them.

Properties: 30 days of log and deleted-file retention (time travel), deletion
vectors off and no column mapping, so the protocol stays at reader 1 / writer 2:
readable by delta-rs (dbt's local reader) and by Snowflake Delta Direct, whose
reader only gained reader-v3 features (deletion vectors) in 2026 - older accounts
and tools still need copy-on-write tables.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import functions as F

from sales_lake import uris
from sales_lake.lake_layout import QUARANTINE_TABLE, SALES_TABLE
from sales_lake.schema import QUARANTINE_COLUMNS, SALES_COLUMNS, ddl

TABLE_PROPERTIES: dict[str, str] = {
    "delta.logRetentionDuration": "interval 30 days",
    "delta.deletedFileRetentionDuration": "interval 30 days",
    "delta.enableDeletionVectors": "false",
    "delta.columnMapping.mode": "none",
    "delta.minReaderVersion": "1",
    "delta.minWriterVersion": "2",
}

# File statistics (min/max per file) only where readers prune on them: row_id (the
# MERGE's file skipping), ingested_at (dbt's incremental watermark) and order_date
# (analysts' date filters). Statistics on all 34 columns cost ~3 s per million rows.
STATS_COLUMNS = ("row_id", "order_date", "ingested_at")

# ~25k rows (~2.5 MB of Parquet) per file: a MERGE correcting recent rows rewrites the
# files holding them whole (deletion vectors are off for Snowflake/delta-rs), so small
# files keep corrections cheap (measured: 10k rows into 1M, 46k rows copied at 50k per
# file); still few enough files for S3 listing and scans; OPTIMIZE can compact later.
ROWS_PER_FILE = 25_000

# A batch row replaces a silver row only if it is at least as recent: its event_time is
# the object's write time, a stream row's is its event's (docs/contracts.md). So a
# rerun of an older file, or a file older than a stream update or cancellation,
# leaves the newer row alone.
BATCH_UPDATE_GUARD = (
    "t.record_hash <> s.record_hash AND "
    "(t.event_time IS NULL OR s.event_time IS NULL OR s.event_time >= t.event_time)"
)

QUARANTINE_KEY = (
    "t.source_uri = s.source_uri AND t.source_version <=> s.source_version "
    "AND t.line_number = s.line_number"
)


class TableSchemaError(RuntimeError):
    """An existing table lacks columns of the contract; the message names them."""


@dataclass(frozen=True)
class MergeCounts:
    """What the commit reports it wrote: Delta's own operation metrics."""

    inserted: int
    updated: int


def ensure_table(spark, path: str, columns: tuple[tuple[str, str, bool], ...]) -> None:
    """Create the table if absent. Idempotent; a lost creation race is not an error."""
    from delta.tables import DeltaTable

    schema = spark.createDataFrame([], ddl(columns)).schema
    if path.startswith("file:///"):  # Delta compares locations textually: use Hadoop's form
        path = "file:/" + path[len("file:///") :]
    if not DeltaTable.isDeltaTable(spark, path):
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        stats = [name for name, _, _ in columns if name in STATS_COLUMNS]
        properties = dict(TABLE_PROPERTIES)
        if stats:
            properties["delta.dataSkippingStatsColumns"] = ",".join(stats)
        for key, value in properties.items():
            builder = builder.property(key, value)
        try:
            builder.execute()
        except Exception:
            if not DeltaTable.isDeltaTable(spark, path):
                raise  # a real failure, not another writer creating it first
    evolve(spark, path, columns)


def evolve(spark, path: str, columns: tuple[tuple[str, str, bool], ...]) -> None:
    """Bring a table made by an earlier version up to the contract: nullable columns it
    lacks are added (ALTER TABLE ADD COLUMNS keeps protocol reader 1 / writer 2, and old
    rows read NULL). A missing NOT NULL column, or a column whose type differs (money
    kept at DECIMAL(18,4) before values were kept exactly), cannot be fixed in place
    without changing stored values: the message says how to rebuild."""
    stored = {
        f.name: f.dataType.simpleString() for f in spark.read.format("delta").load(path).schema
    }
    wanted = spark.createDataFrame([], ddl(columns)).schema
    addable = [f"{name} {type_}" for name, type_, nullable in columns
               if name not in stored and nullable]  # fmt: skip
    if addable:
        spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({', '.join(addable)})")
    missing = [name for name, _, nullable in columns if name not in stored and not nullable]
    contract = {f.name: f.dataType.simpleString() for f in wanted}
    changed = [
        f"{name} is {stored[name].upper()}, the contract says {type_.upper()}"
        for name, type_ in contract.items()
        if name in stored and stored[name] != type_
    ]
    if missing or changed:
        problems = "; ".join([*([f"lacks NOT NULL columns {missing}"] if missing else []),
                              *changed])  # fmt: skip
        raise TableSchemaError(
            f"Delta table {path} was made by an earlier version: {problems}; fix: rebuild "
            "silver from bronze (move the table away, then rerun the executions of the "
            "bronze objects, oldest first), see docs/silver.md"
        )


def prepare_silver(spark, lake_uri: str) -> dict[str, str]:
    """What every silver writer does first: micros for Parquet timestamps (INT96 is
    deprecated; micros read everywhere, delta-rs and Snowflake included) and both tables
    present. Returns their URIs by name ("sales", "quarantine")."""
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    paths = {
        "sales": uris.join(lake_uri, SALES_TABLE),
        "quarantine": uris.join(lake_uri, QUARANTINE_TABLE),
    }
    ensure_table(spark, paths["sales"], SALES_COLUMNS)
    ensure_table(spark, paths["quarantine"], QUARANTINE_COLUMNS)
    return paths


def _last_commit(table) -> tuple[int, dict[str, str]]:
    """(version, operation metrics) of the table's newest commit."""
    last = table.history(1).first()
    return int(last["version"]), last["operationMetrics"]


def range_partitions(row_count: int) -> int:
    return max(1, math.ceil(row_count / ROWS_PER_FILE))


@contextmanager
def spark_conf(spark, key: str, value: str):
    """`key` set to `value` in the session while the block runs, then as it was."""
    before = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def source_not_materialized(spark):
    """MERGE without Delta's defensive copy of the source, for sources the caller cached.

    Delta copies a source it cannot prove deterministic (ours starts in Python); the
    job's source is a persisted DataFrame, so the copy only costs time.
    """
    return spark_conf(spark, "spark.databricks.delta.merge.materializeSource", "none")


def holds_row_ids(spark, path: str, low: int, high: int) -> bool:
    """Whether any row of the table has a row_id in [low, high]. Cheap: file statistics
    skip every file outside the range and `limit(1)` stops at the first hit."""
    table = spark.read.format("delta").load(path)
    return bool(table.where(f"row_id BETWEEN {low} AND {high}").limit(1).count())


def merge_sales(
    spark, path: str, rows, row_ids: tuple[int, int], update_when: str = BATCH_UPDATE_GUARD
) -> MergeCounts:
    """Upsert on row_id: insert new rows, update the rows `update_when` lets through
    (batch: content changed and not newer in silver; the stream loader passes its
    event-order guard). Rows it holds back count as unchanged.

    Identical rows are not touched, so a rerun rewrites nothing. `row_ids` is the
    (min, max) row_id of `rows`: a target-only range in the condition lets Delta
    skip every file outside it (it cannot change which rows match). When no row of
    the table falls in that range, every row is new and a plain append (one atomic
    commit, no join) does the same; silver writers are serialized, so nothing can
    land in the range between the check and the commit.
    """
    from delta.tables import DeltaTable

    names = [name for name, _, _ in SALES_COLUMNS]
    low, high = (int(v) for v in row_ids)
    table = DeltaTable.forPath(spark, path)
    if not holds_row_ids(spark, path, low, high):
        rows.select(*names).write.format("delta").mode("append").save(path)
        return MergeCounts(int(_last_commit(table)[1]["numOutputRows"]), 0)
    (
        table.alias("t")
        .merge(rows.alias("s"), _row_id_match(low, high))
        .whenMatchedUpdate(condition=update_when, set={n: f"s.{n}" for n in names})
        .whenNotMatchedInsert(values={name: f"s.{name}" for name in names})
        .execute()
    )
    # A MERGE with an update clause commits even when it changes nothing.
    metrics = _last_commit(table)[1]
    return MergeCounts(
        int(metrics.get("numTargetRowsInserted", 0)), int(metrics.get("numTargetRowsUpdated", 0))
    )


def _row_id_match(low: int, high: int) -> str:
    return f"t.row_id = s.row_id AND t.row_id BETWEEN {low} AND {high}"


def held_back(
    spark, path: str, rows, row_ids: tuple[int, int], update_when: str = BATCH_UPDATE_GUARD
) -> int:
    """How many of `rows` match a stored row that `update_when` keeps (same content, or
    newer in silver): what `merge_sales` will leave unchanged, counted before it runs.

    Delta 3.3 reports no matched-but-not-updated count for a MERGE, and after the MERGE
    the updated rows look unchanged too; a count of our own, with the MERGE's join and
    guard, is what lets conservation catch a MERGE that wrote other than it should.
    """
    low, high = (int(v) for v in row_ids)
    if not holds_row_ids(spark, path, low, high):
        return 0  # nothing stored in the range: every row is new
    stored = spark.read.format("delta").load(path).alias("t")
    matched = rows.alias("s").join(stored, F.expr(_row_id_match(low, high)))
    # A guard that is NULL does not update either (MERGE updates only where it is true).
    return matched.where(f"NOT coalesce(({update_when}), false)").count()


def merge_quarantine(spark, path: str, rows, source_uris: list[str]) -> int:
    """Insert rejected records once per (object, version, line): reprocessing adds nothing.
    Returns how many records it took in (each is now stored, new or from an earlier run),
    as Delta counted them: the run's `quarantined`.

    Insert-only, so Delta takes its cheaper insert-only MERGE path; an object's
    content is fixed by its version, so an existing entry is never stale. When the
    table holds nothing from the run's objects (the usual first load), a plain append
    does the same without the join (silver writers are serialized). Both loaders shape
    `rows` from the records they cached, so Delta need not copy the source.
    """
    from delta.tables import DeltaTable

    names = [name for name, _, _ in QUARANTINE_COLUMNS]
    table = DeltaTable.forPath(spark, path)
    stored = spark.read.format("delta").load(path).where(F.col("source_uri").isin(source_uris))
    if not stored.limit(1).count():
        rows.select(*names).write.format("delta").mode("append").save(path)
        return int(_last_commit(table)[1]["numOutputRows"])
    before = _last_commit(table)[0]
    with source_not_materialized(spark):
        (
            table.alias("t")
            .merge(rows.alias("s"), QUARANTINE_KEY)
            .whenNotMatchedInsert(values={name: f"s.{name}" for name in names})
            .execute()
        )
    version, metrics = _last_commit(table)
    if version > before:
        return int(metrics["numSourceRows"])
    return rows.count()  # an insert-only MERGE that inserts nothing makes no commit


def table_version(spark, path: str) -> int:
    from delta.tables import DeltaTable

    return _last_commit(DeltaTable.forPath(spark, path))[0]
