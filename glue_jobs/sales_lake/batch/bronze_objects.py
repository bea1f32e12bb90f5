"""Each bronze object to the reader that suits it; one DataFrame of all their rows.

- An object up to `split_bytes` is read whole, one task each (`binaryFile`,
  binary_files.py), and parsed where it was read (`parsed_batches`); a gzip one is
  decompressed to local disk there, not in memory (gzip_reader.py).
- A bigger plain-text object is read in byte ranges, one task each (range_reader.py).
- A bigger gzip object is streamed from its URI by one task (gzip_reader.py).
- A bigger object of any other kind (UTF-16/32, not text, no header near its start) is
  read whole: it is rare, and rejected or read as the small ones are.

The rows are the same whichever reader took the object (the tests hold them equal);
the loader's range partitioning by row_id spreads them afterwards.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import partial

import pyarrow as pa

from sales_lake import uris
from sales_lake.batch import gzip_reader, range_reader
from sales_lake.batch.bronze_csv import parse_file
from sales_lake.batch.bronze_reader import (
    PARSED_SCHEMA,
    declared_date_order,
    record_batches,
    unreadable,
)
from sales_lake.batch.byte_ranges import HEAD_BYTES
from sales_lake.batch.file_kind import GZIP_MAGIC
from sales_lake.binary_files import read_objects
from sales_lake.load_options import LoadOptions
from sales_lake.run_sources import Source


def parsed_batches(
    source: Source, content: bytes, options: LoadOptions | None = None
) -> Iterator[pa.RecordBatch]:
    """The executor side: one object's bytes -> its record batches and summary row.

    Batches stream out as they are typed (memory stays one batch deep), so a failure
    halfway through an object can follow rows already handed to Spark: the object's
    summary row then says `unreadable`, and the loader drops every row of an object
    whose summary says so (`bronze_reader.dropped_sources`). Memory errors are not
    caught: they are about the worker, not the object."""
    options = options or LoadOptions()
    if content.startswith(GZIP_MAGIC):
        yield from gzip_reader.gzip_batches(source, io.BytesIO(content), options)
        return
    try:
        parsed = parse_file(content, options.header_policy)
        date_order = declared_date_order(source.uri, options.date_order, source.date_order)
        yield from record_batches(source.index, parsed, date_order)
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure is this object's, by design
        yield unreadable(source, error)


def read_bronze(spark, sources: list[Source], options: LoadOptions | None = None):
    """DataFrame (PARSED_SCHEMA) of every record of `sources` plus a summary row per
    object, or per byte range of an object read in ranges (`merge_summaries` adds those
    up)."""
    options = options or LoadOptions()
    planned, streamed, whole = {}, [], []
    for source in sources:
        if source.size <= options.split_bytes:
            whole.append(source)
            continue
        head = uris.read_range(source.uri, 0, HEAD_BYTES)
        ranges = range_reader.plan(source, options, head)
        if ranges is not None:
            planned[source.index] = (source, ranges)
        elif head.startswith(GZIP_MAGIC):
            streamed.append(source)
        else:
            whole.append(source)
    frames = []
    if planned:
        split, read_whole = range_reader.read_ranges(spark, planned, options)
        whole += read_whole
        if split is not None:
            frames.append(split)
    if streamed:
        frames.append(gzip_reader.read_streamed(spark, streamed, options))
    if whole or not frames:
        per_object = partial(parsed_batches, options=options)
        frames.append(read_objects(spark, whole, per_object, PARSED_SCHEMA))
    frame = frames[0]
    for part in frames[1:]:
        frame = frame.unionByName(part)
    return frame
