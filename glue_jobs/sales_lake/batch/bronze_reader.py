"""Read bronze CSV objects into a DataFrame of typed, validated records.

`binaryFile` hands each object whole to one task; `mapInArrow` runs `parse_file`
and `conform` in the executor and streams Arrow batches back, so the driver never
holds data and many objects parse in parallel. Output: one row per record (typed
business columns, reason codes and detail; the raw text only where the record is
rejected, since only quarantine shows it) plus one `file` row per object carrying
its summary (JSON), so a single cached pass feeds everything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from sales_lake.bronze_csv import ParsedFile, parse_file
from sales_lake.conform import ARROW_FIELDS, conform_in_chunks
from sales_lake.schema import BUSINESS_COLUMNS, ddl
from sales_lake.uris import normalize, spark_uri

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
_GLOB_CHARS = "\\{}[]*?"


@dataclass(frozen=True)
class Source:
    """One bronze object of a run, in manifest order (later sources win duplicates)."""

    index: int
    uri: str
    version: str | None = None
    size: int = 0  # bytes; zero-byte objects are reported, not read
    modified: datetime | None = None  # when the object was written: its rows' as-of time


def _constant(size: int, type_: pa.DataType, value) -> pa.Array:
    return pc.fill_null(pa.nulls(size, type_), pa.scalar(value, type_))


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
                    "row_kind": _constant(size, pa.string(), "record"),
                    "source_index": _constant(size, pa.int32(), source_index),
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


def source_of(path: str, by_path: dict[str, object]):
    """What `by_path` (keyed by `normalize`d source URI) holds for a path Spark reports.

    Exact match only: the reported path is Hadoop's literal spelling of the URI we
    passed, so a miss means the two spellings drifted apart, never a near match to pick.
    """
    found = by_path.get(normalize(path))
    if found is None:
        raise LookupError(
            f"Spark read {path!r}, which matches no source URI of the run: "
            "uris.normalize (glue_jobs/sales_lake/uris.py) must map Hadoop's path back to it"
        )
    return found


def parse_binary_batches(
    batches: Iterable[pa.RecordBatch], index_by_path: dict[str, int]
) -> Iterator[pa.RecordBatch]:
    """The executor side: (path, content) rows of `binaryFile` -> record batches."""
    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content")
        for k, path in enumerate(paths):
            source_index = source_of(path, index_by_path)
            yield from record_batches(source_index, parse_file(contents[k].as_py()))


def escape_glob(uri: str) -> str:
    """Hadoop expands `?`, `*`, `[`, `{` and `\\` in a load path as a glob, and S3 keys may
    hold them (`q?x=1.csv`): escaped, its globber reads the one object by its literal key."""
    return "".join("\\" + c if c in _GLOB_CHARS else c for c in uri)


def hadoop_paths(uris: Iterable[str]) -> list[str]:
    """The load paths that make Spark read exactly these objects (literal keys, no globs)."""
    return [escape_glob(spark_uri(uri)) for uri in uris]


def read_bronze(spark, sources: list[Source]):
    """DataFrame (PARSED_SCHEMA) of every record of `sources` plus one summary row each."""
    index_by_path = {normalize(s.uri): s.index for s in sources}
    paths = hadoop_paths(s.uri for s in sources)
    binary = spark.read.format("binaryFile").load(paths)
    # One task per object; the job's range partitioning by row_id spreads the rows later.
    return binary.select("path", "content").mapInArrow(
        partial(parse_binary_batches, index_by_path=index_by_path), PARSED_SCHEMA
    )
