"""Read bronze CSV objects into a DataFrame of typed, validated records.

Each object is read whole in one task (`binary_files.read_objects`), where
`parse_file` and `conform` turn it into Arrow batches, so many objects parse in
parallel and the driver never holds data. Output: one row per record (typed business
columns, reason codes and detail; the raw text only where the record is rejected,
since only quarantine shows it) plus one `file` row per object carrying its summary
(JSON), so a single cached pass feeds everything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from sales_lake.batch.bronze_csv import ParsedFile, parse_file
from sales_lake.batch.conform import conform_in_chunks
from sales_lake.binary_files import read_objects
from sales_lake.reasons import filled
from sales_lake.run_sources import Source
from sales_lake.schema import BUSINESS_COLUMNS, ddl
from sales_lake.typed_columns import ARROW_FIELDS

ARROW_SCHEMA = pa.schema(
    [
        ("row_kind", pa.string()),
        ("source_index", pa.int32()),
        ("line_number", pa.int64()),
        ("raw_record", pa.string()),
        *ARROW_FIELDS,
        ("reason_codes", pa.list_(pa.string())),
        ("reason_detail", pa.string()),
        ("file_summary", pa.string()),
    ]
)
PARSED_SCHEMA = ", ".join(
    [
        "row_kind STRING, source_index INT, line_number BIGINT, raw_record STRING",
        ddl(BUSINESS_COLUMNS, not_null=False),
        "reason_codes ARRAY<STRING>, reason_detail STRING, file_summary STRING",
    ]
)
BATCH_ROWS = 65_536


def record_batches(source_index: int, parsed: ParsedFile) -> Iterator[pa.RecordBatch]:
    raws = pa.array(parsed.raw_records, type=pa.string())
    numbers = pa.array(parsed.line_numbers, type=pa.int64())
    issues = pa.array(parsed.issues or [None] * len(raws), type=pa.string())
    if len(raws):
        fmt, chunks = conform_in_chunks(raws, issues, BATCH_ROWS, os.cpu_count() or 1)
        if parsed.summary.outcome != "rejected":
            parsed.summary.date_format = fmt.label
        for start, typed in chunks:
            size = len(typed.reason_detail)
            chunk_raws = raws.slice(start, size)
            yield pa.RecordBatch.from_pydict(
                {
                    "row_kind": filled(size, pa.string(), "record"),
                    "source_index": filled(size, pa.int32(), source_index),
                    "line_number": numbers.slice(start, size),
                    "raw_record": pc.if_else(typed.valid, None, chunk_raws),
                    **typed.columns,
                    "reason_codes": typed.reason_codes,
                    "reason_detail": typed.reason_detail,
                    "file_summary": pa.nulls(size, pa.string()),
                },
                schema=ARROW_SCHEMA,
            )
    summary = {name: [None] for name in ARROW_SCHEMA.names}
    summary.update(
        row_kind=["file"], source_index=[source_index], line_number=[0], reason_codes=[[]],
        file_summary=[json.dumps(parsed.summary.as_dict())],
    )  # fmt: skip
    yield from pa.table(summary, schema=ARROW_SCHEMA).to_batches()


def parsed_batches(source: Source, content: bytes) -> Iterator[pa.RecordBatch]:
    """The executor side: one object's bytes -> its record batches and summary row."""
    return record_batches(source.index, parse_file(content))


def read_bronze(spark, sources: list[Source]):
    """DataFrame (PARSED_SCHEMA) of every record of `sources` plus one summary row each.
    One task per object; the loader's range partitioning by row_id spreads the rows later."""
    return read_objects(spark, sources, parsed_batches, PARSED_SCHEMA)
