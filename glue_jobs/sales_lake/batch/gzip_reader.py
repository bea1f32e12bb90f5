"""Gzip objects with memory bounded by `split_bytes`, not by what they decompress to.

A gzip stream cannot be cut into byte ranges (a range of compressed bytes means nothing
without everything before it), so one task reads each gzip object, front to back. It
never holds the decompressed text: it streams it into a local temporary file (1 MiB at a
time), then reads that file like any plain object of its size: whole when it is at most
`split_bytes`, otherwise in byte ranges, one after the other, with the three passes of
byte_ranges.py (range_reader.batches_here). Only then does it hand rows to Spark, so a
corrupt or truncated stream rejects the object before any of its rows exist. The
results are those of `parse_file` on the compressed bytes (the tests hold them equal).

How the compressed bytes reach the task: an object up to `split_bytes` comes whole with
`binaryFile`, as any small object (bronze_reader); a bigger one is streamed from its
URI in the task (`uris.open_stream`, one GET). The temporary file needs local disk as
big as the decompressed object (Glue workers: docs/silver.md).
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from sales_lake import uris
from sales_lake.batch import range_reader
from sales_lake.batch.bronze_csv import (
    GZIP_ERRORS,
    FileSummary,
    Rejected,
    corrupt_gzip,
    parse_file,
    rejected_file,
)
from sales_lake.batch.bronze_reader import (
    PARSED_SCHEMA,
    declared_date_order,
    record_batches,
    summary_batch,
    unreadable,
)
from sales_lake.load_options import LoadOptions
from sales_lake.run_sources import Source

CHUNK_BYTES = 1024 * 1024
GZIP = "gzip"


def gunzip_to(stream: BinaryIO, target: BinaryIO) -> int:
    """Decompress `stream` into `target`, a chunk at a time; the decompressed size.
    Raises `Rejected` (corrupt_gzip) for a stream that is corrupt or cut short; an error
    of `target` (a full disk) is raised as it is: it says nothing about the stream."""
    with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
        while True:
            try:
                chunk = unzipped.read(CHUNK_BYTES)
            except GZIP_ERRORS as error:
                raise corrupt_gzip(error) from None
            if not chunk:
                return target.tell()
            target.write(chunk)


def gzip_batches(
    source: Source, stream: BinaryIO, options: LoadOptions | None = None
) -> Iterator[pa.RecordBatch]:
    """The executor side for one gzip object: its record batches and summary rows (one
    per range when the decompressed text is read in ranges; the loader adds them up)."""
    options = options or LoadOptions()
    try:
        with tempfile.TemporaryDirectory(prefix="sales-gunzip-") as folder:
            path = Path(folder) / "object.csv"
            with path.open("wb") as target:
                size = gunzip_to(stream, target)
            yield from _decompressed(source, path, size, options)
    except MemoryError:
        raise
    except Rejected as rejection:
        summary = rejected_file(FileSummary(compression=GZIP), rejection.reason, rejection.detail)
        yield summary_batch(source.index, summary.summary)
    except Exception as error:  # noqa: BLE001 - any failure is this object's, by design
        yield unreadable(source, error)


def _decompressed(
    source: Source, path: Path, size: int, options: LoadOptions
) -> Iterator[pa.RecordBatch]:
    date_order = declared_date_order(source.uri, options.date_order, source.date_order)
    # The local file stands in for the object; its declared date order goes with it.
    local = replace(source, uri=uris.file_uri(path), size=size, date_order=date_order)
    ranges = range_reader.plan(local, options)
    found = range_reader.batches_here(local, ranges, options, GZIP) if ranges else None
    if found is None:
        parsed = parse_file(path.read_bytes(), options.header_policy, gunzipped=True)
        found = record_batches(source.index, parsed, date_order)
    yield from found


def _streamed_batches(
    rows: Iterable[pa.RecordBatch], sources: dict[int, Source], options: LoadOptions
) -> Iterator[pa.RecordBatch]:
    """In the executors: source index rows -> each big gzip object's rows."""
    for batch in rows:
        for index in batch.column("source_index").to_pylist():
            source = sources[index]
            try:
                stream = uris.open_stream(source.uri)
            except Exception as error:  # noqa: BLE001 - this object's, by design
                yield unreadable(source, error)
                continue
            with stream:
                yield from gzip_batches(source, stream, options)


def read_streamed(spark, sources: list[Source], options: LoadOptions):
    """DataFrame (PARSED_SCHEMA) of gzip objects bigger than `split_bytes`, one task each,
    each streamed from its URI (never whole in memory)."""
    by_index = {s.index: s for s in sources}
    descriptors = spark.sparkContext.parallelize(
        [(i,) for i in sorted(by_index)], len(by_index)
    ).toDF("source_index int")
    return descriptors.mapInArrow(
        partial(_streamed_batches, sources=by_index, options=options), PARSED_SCHEMA
    )
