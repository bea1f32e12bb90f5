"""Bronze CSV records as Arrow batches of typed, validated rows: what every reader of
bronze objects (bronze_objects.py routes them) hands to Spark.

`record_batches` turns a parsed object, or one byte range of it, into batches
(`parse_file` and `conform` in the task that read the bytes, so the driver never holds
data). Output: one row per record (typed business columns, rescued unknown columns,
reason codes and detail; the raw text only where the record is rejected, since only
quarantine shows it) plus one `file` row per object (per range for a split one)
carrying its summary (JSON), so a single cached pass feeds everything.

One object never fails the run: whatever goes wrong while reading it (any exception,
a parser bug included) makes it a rejected file with reason `unreadable` (`unreadable`)
and a one-line message, and the other objects load. Its records are all or nothing: rows
it yielded before failing are dropped by the loader (`dropped_sources`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from sales_lake.batch.bronze_csv import (
    REASON_UNREADABLE,
    FileSummary,
    ParsedFile,
    rejected_file,
)
from sales_lake.batch.conform import conform_in_chunks
from sales_lake.dates import DateFormat
from sales_lake.load_options import DATE_ORDERS
from sales_lake.reasons import filled
from sales_lake.run_sources import Source
from sales_lake.schema import BUSINESS_COLUMNS, RESCUE_COLUMNS, ddl
from sales_lake.typed_columns import ARROW_FIELDS

ARROW_SCHEMA = pa.schema(
    [
        ("row_kind", pa.string()),
        ("source_index", pa.int32()),
        ("line_number", pa.int64()),
        ("raw_record", pa.string()),
        *ARROW_FIELDS,
        *[(name, pa.string()) for name, _, _ in RESCUE_COLUMNS],
        ("reason_codes", pa.list_(pa.string())),
        ("reason_detail", pa.string()),
        ("file_summary", pa.string()),
    ]
)
PARSED_SCHEMA = ", ".join(
    [
        "row_kind STRING, source_index INT, line_number BIGINT, raw_record STRING",
        ddl(BUSINESS_COLUMNS, not_null=False),
        ddl(RESCUE_COLUMNS, not_null=False),
        "reason_codes ARRAY<STRING>, reason_detail STRING, file_summary STRING",
    ]
)
BATCH_ROWS = 65_536
# An object under a key segment `date_order=dmy` (or mdy) declares its date order.
_DATE_ORDER_SEGMENT = re.compile(r"(?:^|/)date_order=([a-z]+)(?:/|$)", re.IGNORECASE)


def declared_date_order(uri: str, default: str, metadata: str | None = None) -> str:
    """The date order an object declares: its S3 metadata (`date-order: dmy`), else a
    key segment (`.../date_order=dmy/...`), else the run's (`--date_order`). Values that
    are no date order are ignored."""
    if metadata and metadata.strip().lower() in DATE_ORDERS:
        return metadata.strip().lower()
    found = _DATE_ORDER_SEGMENT.search(uri)
    if found and found.group(1).lower() in DATE_ORDERS:
        return found.group(1).lower()
    return default


def record_batches(
    source_index: int,
    parsed: ParsedFile,
    date_order: str = "auto",
    fmt: DateFormat | None = None,
) -> Iterator[pa.RecordBatch]:
    """The object's records as batches, then its summary row (with the count of
    rejected records, known only once every record is typed). `fmt`: the date format
    when it was decided over more than `parsed` (a byte range of a file)."""
    raws = pa.array(parsed.raw_records, type=pa.string())
    numbers = pa.array(parsed.line_numbers, type=pa.int64())
    issues = parsed.issues
    issues = pa.array(issues if len(issues) else [None] * len(raws), type=pa.string())
    if len(raws):
        fmt, chunks = conform_in_chunks(
            raws, issues, BATCH_ROWS, os.cpu_count() or 1, parsed.header, date_order, fmt
        )
        if parsed.summary.outcome != "rejected":
            parsed.summary.date_format = fmt.label
        for start, typed in chunks:
            size = len(typed.reason_detail)
            valid = typed.valid
            parsed.summary.rejected += size - pc.sum(valid).as_py()
            add_reasons(parsed.summary.reasons, typed.reason_codes)
            rescued = typed.rescued_data
            if rescued is None:
                rescued = pa.nulls(size, pa.string())
            parsed.summary.rescued_rows += size - rescued.null_count
            yield pa.RecordBatch.from_pydict(
                {
                    "row_kind": filled(size, pa.string(), "record"),
                    "source_index": filled(size, pa.int32(), source_index),
                    "line_number": numbers.slice(start, size),
                    "raw_record": pc.if_else(valid, None, raws.slice(start, size)),
                    **typed.columns,
                    "rescued_data": rescued,
                    "reason_codes": typed.reason_codes,
                    "reason_detail": typed.reason_detail,
                    "file_summary": pa.nulls(size, pa.string()),
                },
                schema=ARROW_SCHEMA,
            )
    yield summary_batch(source_index, parsed.summary)


def add_reasons(counts: dict[str, int], reason_codes: pa.Array) -> None:
    """Add each reason code's records (a record with two reasons counts under both)."""
    for pair in pc.value_counts(pc.list_flatten(reason_codes)).to_pylist():
        counts[pair["values"]] = counts.get(pair["values"], 0) + pair["counts"]


def summary_batch(source_index: int, summary: FileSummary) -> pa.RecordBatch:
    row = {name: [None] for name in ARROW_SCHEMA.names}
    row.update(
        row_kind=["file"], source_index=[source_index], line_number=[0], reason_codes=[[]],
        file_summary=[json.dumps(summary.as_dict())],
    )  # fmt: skip
    return pa.RecordBatch.from_pydict(row, schema=ARROW_SCHEMA)


def unreadable(source: Source, error: BaseException) -> pa.RecordBatch:
    """The summary row of an object whose reading failed: rejected, one line, no trace."""
    message = " ".join(str(error).split())[:300] or "no message"
    detail = (
        f"the file could not be read ({type(error).__name__}: {message}); nothing of it was "
        "loaded; fix: check that it is a CSV export, re-export it and upload it again, and "
        "report the message if it persists"
    )
    return summary_batch(
        source.index, rejected_file(FileSummary(), REASON_UNREADABLE, detail).summary
    )


def dropped_sources(summaries: dict[int, dict]) -> set[int]:
    """Objects none of whose rows may load: those whose reading failed part way."""
    return {i for i, s in summaries.items() if s.get("reject_reason") == REASON_UNREADABLE}
