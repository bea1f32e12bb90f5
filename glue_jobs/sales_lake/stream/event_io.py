"""I/O of the stream loader that the shared modules do not cover: reading stream files
(typed in the executors by `event_conform`) and the event-ordered MERGE into silver/sales.

Sources, tables, the quarantine MERGE, the run record and small-object I/O are shared
with the batch loader (`run_sources`, `delta_tables`, `run_metrics`, `uris`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession

from sales_lake import delta_tables
from sales_lake.batch.bronze_csv import FileSummary, Rejected, decompress
from sales_lake.binary_files import read_objects
from sales_lake.run_sources import Source
from sales_lake.schema import BUSINESS_COLUMNS, ddl
from sales_lake.stream.event_conform import conform_events, split_lines

EVENT_ROWS_SCHEMA = ", ".join(
    [
        "source_uri STRING, line_number BIGINT, raw_record STRING",
        ddl(BUSINESS_COLUMNS, not_null=False),
        "event_id STRING, event_time TIMESTAMP, is_deleted BOOLEAN",
        "reason_codes ARRAY<STRING>, reason_detail STRING",
    ]
)


def event_batches(source: Source, content: bytes) -> Iterator[pa.RecordBatch]:
    """The executor side: one stream file's bytes -> typed event rows, the raw line kept
    only where it is rejected (only quarantine shows it). A gzip file (the sink with
    `s3.compression.type = gzip` writes `.json.gz`) is read decompressed, recognised by
    its magic number; a corrupt one is one quarantined row naming the problem."""
    try:
        content = decompress(content, FileSummary())  # stream files are a few MB
    except Rejected as rejection:
        yield _rejected_file(source, rejection)
        return
    numbers, lines = split_lines(content)
    typed = conform_events(lines)
    size = len(lines)
    yield pa.RecordBatch.from_pydict(
        {
            "source_uri": pa.array([source.uri] * size, pa.string()),
            "line_number": numbers,
            "raw_record": pc.if_else(typed.valid, None, lines),
            **typed.columns,
            "reason_codes": typed.reason_codes,
            "reason_detail": typed.reason_detail,
        }
    )


def _rejected_file(source: Source, rejection: Rejected) -> pa.RecordBatch:
    """A file none of whose lines can be read, as one quarantine row (line 0, no text)."""
    typed = conform_events(pa.array(["{}"], pa.string()))  # the column types, all NULL
    return pa.RecordBatch.from_pydict(
        {
            "source_uri": pa.array([source.uri], pa.string()),
            "line_number": pa.array([0], pa.int64()),
            "raw_record": pa.nulls(1, pa.string()),
            **{name: pc.if_else(False, column, None) for name, column in typed.columns.items()},
            "reason_codes": pa.array([[rejection.reason]], pa.list_(pa.string())),
            "reason_detail": pa.array([rejection.detail], pa.string()),
        }
    )


def read_events(spark: SparkSession, sources: list[Source]) -> DataFrame:
    """One row per non-blank line of `sources` (EVENT_ROWS_SCHEMA), typed and validated
    in the task that reads the file (`event_conform`); source_uri as listed in the run."""
    return read_objects(spark, sources, event_batches, EVENT_ROWS_SCHEMA)


MERGE_GUARD = (
    "t.event_time IS NULL OR s.event_time > t.event_time"
    " OR (s.event_time = t.event_time AND s.event_id > coalesce(t.event_id, ''))"
)


def merge_stream_sales(spark: SparkSession, path: str, rows: DataFrame, row_ids) -> None:
    """Upsert the newest event of each row. The guard repeats the ordering rule inside
    the MERGE, so an older event never wins even if silver moved since classification;
    row_id pruning and the append shortcut are the batch loader's (`merge_sales`)."""
    delta_tables.merge_sales(spark, path, rows, row_ids, update_when=MERGE_GUARD)
