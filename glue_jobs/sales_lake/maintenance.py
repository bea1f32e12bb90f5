"""Delta maintenance of silver: compact small files, then vacuum the files no version
within the retention still reads.

Why: every run MERGEs a few new files into each table (and a stream run's small
batches make many small ones); readers (Snowflake's Delta Direct, Athena, dbt) list and
open every file, and S3 keeps every file a vacuum never removed. Compaction rewrites
the small files of the current version into fewer large ones (same rows: a
`dataChange = false` commit); VACUUM then deletes the files that only versions older
than the table's retention reference (`delta.deletedFileRetentionDuration`: 30 days on
the silver tables, delta_tables.py; Delta refuses less), so time travel and long
readers keep working.

How it runs: as the one silver Glue job with `--source_kind maintenance` (so
MaxConcurrentRuns 1 serializes it with every silver writer), weekly from an EventBridge
Scheduler schedule (cdk/processing.py), or locally with `twin maintain`.
"""

from __future__ import annotations

import time

from sales_lake import uris
from sales_lake.delta_tables import spark_conf
from sales_lake.lake_layout import QUARANTINE_TABLE, SALES_TABLE

KIND = "maintenance"
RETAIN_HOURS = None  # the table's own deletedFileRetentionDuration


def _files(spark, path: str) -> int:
    return int(spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["numFiles"])


def _listing_parallelism(spark, tasks: int):
    """VACUUM lists the table's directories in `parallelPartitionDiscovery.parallelism`
    tasks, 10,000 by default: for these unpartitioned tables that is 10,000 near-empty
    tasks (47 s instead of 2.6 s on a laptop). One per core is plenty."""
    key = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
    return spark_conf(spark, key, str(max(1, tasks)))


def maintain(spark, lake_uri: str, retain_hours: float | None = RETAIN_HOURS) -> dict:
    """Compact and vacuum silver/sales and silver/quarantine; what it did, per table."""
    from delta.tables import DeltaTable

    done = {}
    for table in (SALES_TABLE, QUARANTINE_TABLE):
        path = uris.spark_uri(uris.join(lake_uri.rstrip("/"), table))
        if not DeltaTable.isDeltaTable(spark, path):
            done[table] = {"skipped": "no Delta table yet"}
            continue
        clock = time.monotonic()
        delta = DeltaTable.forPath(spark, path)
        before = _files(spark, path)
        delta.optimize().executeCompaction()
        compacted = _files(spark, path)
        with _listing_parallelism(spark, spark.sparkContext.defaultParallelism):
            delta.vacuum(retain_hours)
        done[table] = {
            "files_before": before,
            "files_after": compacted,
            "retain_hours": retain_hours if retain_hours is not None else "table's own",
            "seconds": round(time.monotonic() - clock, 1),
        }
    return done
