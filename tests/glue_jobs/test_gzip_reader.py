"""A gzip object loads exactly as `parse_file` reads its compressed bytes, whether its
decompressed text is read whole or in byte ranges, and the text never sits in memory.

The cases are test_byte_ranges.py's (quoted newlines, stray quotes, CR/CRLF, Latin-1,
cp1252, bad bytes, NUL, blank rows, bad header...), gzip-compressed, with
`MAX_RECORD_LINES` lowered to 3 so the decompressed text is cut every few lines.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc

import pytest
from sales_lake.batch import bronze_csv
from sales_lake.batch.byte_ranges import merge_summaries
from sales_lake.batch.gzip_reader import CHUNK_BYTES, gunzip_to, gzip_batches
from sales_lake.load_options import LoadOptions
from sales_lake.run_sources import Source

from tests.glue_jobs.test_byte_ranges import CASES, _records, whole

SOURCE = Source(0, "s3://raw/landing/sales/export.csv.gz", size=1)


def _read(packed: bytes, split: int) -> tuple[list[dict], dict, int]:
    """Records, merged summary and number of summary rows (ranges) of the gzip path."""
    batches = list(gzip_batches(SOURCE, io.BytesIO(packed), LoadOptions(split_bytes=split)))
    summaries = [json.loads(b.column("file_summary")[0].as_py()) for b in batches
                 if b.column("row_kind")[0].as_py() == "file"]  # fmt: skip
    return _records(batches), merge_summaries(summaries), len(summaries)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_gzip_object_reads_as_parse_file_reads_it_whole_or_in_ranges(name, monkeypatch):
    monkeypatch.setattr(bronze_csv, "MAX_RECORD_LINES", 3)
    text = CASES[name]
    packed = gzip.compress(text)
    records, summary = whole(packed)
    assert summary["compression"] == "gzip"
    for split in (len(text), max(256, len(text) // 5)):
        got_records, got_summary, parts = _read(packed, split)
        assert got_records == records, (name, split)
        assert got_summary == summary, (name, split)
    if name not in ("header_only_then_blank", "bad_header"):
        assert parts > 2, "the decompressed text was not cut: the test would prove little"


@pytest.mark.parametrize(
    "damage", [lambda b: b[:-12], lambda b: b[:40] + b"\x00" * 20 + b[60:], lambda b: b + b"x"]
)
def test_a_damaged_stream_is_rejected_as_a_whole_like_parse_file_does(damage):
    packed = damage(gzip.compress(CASES["plain"]))
    records, summary = whole(packed)
    got_records, got_summary, parts = _read(packed, 1024)
    assert (got_records, got_summary, parts) == (records, summary, 1)
    assert summary["reject_reason"] == "corrupt_gzip" and not records


def test_decompressing_holds_a_chunk_not_the_text():
    text = b"Row ID,Order ID\n" + b"1,CA-2012-000001\n" * 4_000_000  # 68 MB
    packed = gzip.compress(text, compresslevel=1)
    target = io.RawIOBase()  # counts, keeps nothing
    written = []
    target.write = lambda chunk: written.append(len(chunk)) or len(chunk)
    target.tell = lambda: sum(written)
    tracemalloc.start()
    try:
        size = gunzip_to(io.BytesIO(packed), target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == len(text) and max(written) <= CHUNK_BYTES
    assert peak < 8 * CHUNK_BYTES < len(text) // 8


def test_a_full_disk_is_not_called_a_corrupt_stream():
    class Full(io.RawIOBase):
        def write(self, chunk):
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as raised:
        gunzip_to(io.BytesIO(gzip.compress(CASES["plain"])), Full())
    assert not isinstance(raised.value, bronze_csv.Rejected)
