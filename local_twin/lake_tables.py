"""The workspace's silver Delta tables as Arrow tables, for the commands that show them.

Read with delta-rs (`deltalake`): the log replay names the table's current files, which
pyarrow reads. Not `DeltaTable.to_pyarrow_table()`: after a scan through delta-rs, this
Python process aborts at exit ("terminate called without an active exception"), and a
command must exit 0. Tables written by the silver job are plain (reader version 1: no
deletion vectors, no column mapping, no partitions); anything else is refused with a
message rather than read wrong.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from sales_lake.lake_layout import QUARANTINE_TABLE, SALES_TABLE

from local_twin.workspace import LAKE_BUCKET, Workspace

SILVER_TABLES = {"sales": SALES_TABLE, "quarantine": QUARANTINE_TABLE}


class LakeTableError(RuntimeError):
    """A table cannot be shown; the message says why and what to do."""


def read_silver(workspace: Workspace, name: str) -> pa.Table | None:
    """silver/<name> of the workspace, or None when no run has written it yet."""
    from deltalake import DeltaTable

    path = workspace.object_path(LAKE_BUCKET, SILVER_TABLES[name])
    if not (path / "_delta_log").is_dir():
        return None
    table = DeltaTable(str(path))
    protocol = table.protocol()
    if protocol.min_reader_version > 1 or table.metadata().partition_columns:
        raise LakeTableError(
            f"{path}: Delta reader version {protocol.min_reader_version}, partitions "
            f"{table.metadata().partition_columns}: the twin shows plain tables only; "
            "read it with Spark (sales_lake.local_spark)"
        )
    files = table.file_uris()
    if not files:
        return pa.schema(table.schema().to_arrow()).empty_table()
    return pq.read_table(files)
