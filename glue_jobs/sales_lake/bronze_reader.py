"""Read bronze CSV objects into a DataFrame of records (Spark I/O around `bronze_csv`).

`binaryFile` hands each object whole to one task; `mapInArrow` runs `parse_file` in
the executor and streams Arrow batches back, so the driver never holds data and
many objects parse in parallel. Output: one row per record plus one `file` row per
object carrying its summary (JSON), so a single cached pass feeds everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import pyarrow as pa

from sales_lake.bronze_csv import ParsedFile, field_counts, parse_file
from sales_lake.uris import normalize

PARSED_SCHEMA = (
    "row_kind STRING, source_index INT, line_number BIGINT, raw_record STRING, "
    "field_count INT, issue STRING, date_order STRING, date_format STRING, file_summary STRING"
)
ARROW_SCHEMA = pa.schema(
    [
        ("row_kind", pa.string()),
        ("source_index", pa.int32()),
        ("line_number", pa.int64()),
        ("raw_record", pa.string()),
        ("field_count", pa.int32()),
        ("issue", pa.string()),
        ("date_order", pa.string()),
        ("date_format", pa.string()),
        ("file_summary", pa.string()),
    ]
)
BATCH_ROWS = 65_536
# An object this big parses in one task; its records are then hash-spread so that
# splitting fields, validation and hashing use every core instead of one.
SPREAD_ABOVE_BYTES = 16 * 1024 * 1024
_GLOB_CHARS = "\\{}[]*?"


@dataclass(frozen=True)
class Source:
    """One bronze object of a run, in manifest order (later sources win duplicates)."""

    index: int
    uri: str
    version: str | None = None
    size: int = 0  # bytes; big objects get their records spread over all cores


def record_batches(source_index: int, parsed: ParsedFile) -> Iterator[pa.RecordBatch]:
    raws = pa.array(parsed.raw_records, type=pa.string())
    numbers = pa.array(parsed.line_numbers, type=pa.int64())
    issues = pa.array(parsed.issues or [None] * len(raws), type=pa.string())
    counts = field_counts(raws) if len(raws) else pa.array([], type=pa.int32())
    for start in range(0, len(raws), BATCH_ROWS):
        size = min(BATCH_ROWS, len(raws) - start)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(["record"] * size, type=pa.string()),
                pa.array([source_index] * size, type=pa.int32()),
                numbers.slice(start, size),
                raws.slice(start, size),
                counts.slice(start, size),
                issues.slice(start, size),
                pa.array([parsed.date_order] * size, type=pa.string()),
                pa.array([parsed.summary.date_format] * size, type=pa.string()),
                pa.nulls(size, type=pa.string()),
            ],
            schema=ARROW_SCHEMA,
        )
    summary = json.dumps(parsed.summary.as_dict())
    yield pa.RecordBatch.from_arrays(
        [
            pa.array(["file"]),
            pa.array([source_index], type=pa.int32()),
            pa.array([0], type=pa.int64()),
            pa.nulls(1, type=pa.string()),
            pa.array([0], type=pa.int32()),
            pa.nulls(1, type=pa.string()),
            pa.nulls(1, type=pa.string()),
            pa.nulls(1, type=pa.string()),
            pa.array([summary]),
        ],
        schema=ARROW_SCHEMA,
    )


def parse_binary_batches(
    batches: Iterable[pa.RecordBatch], index_by_path: dict[str, int]
) -> Iterator[pa.RecordBatch]:
    """The executor side: (path, content) rows of `binaryFile` -> record batches."""
    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content")
        for k, path in enumerate(paths):
            source_index = index_by_path[normalize(path)]
            yield from record_batches(source_index, parse_file(contents[k].as_py()))


def escape_glob(uri: str) -> str:
    """Hadoop treats `[`, `*`, `{`... in paths as globs; S3 keys may contain them."""
    return "".join("\\" + c if c in _GLOB_CHARS else c for c in uri)


def read_bronze(spark, sources: list[Source]):
    """DataFrame (PARSED_SCHEMA) of every record of `sources` plus one summary row each."""
    index_by_path = {normalize(s.uri): s.index for s in sources}
    binary = spark.read.format("binaryFile").load([escape_glob(s.uri) for s in sources])
    parsed = binary.select("path", "content").mapInArrow(
        partial(parse_binary_batches, index_by_path=index_by_path), PARSED_SCHEMA
    )
    if max(s.size for s in sources) > SPREAD_ABOVE_BYTES:
        parts = max(2, spark.sparkContext.defaultParallelism) * 2
        parsed = parsed.repartition(parts, "source_index", "line_number")
    return parsed


def parse_summary(row_json: str) -> dict:
    return json.loads(row_json)
