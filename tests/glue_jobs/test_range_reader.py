"""The silver job reads a file bigger than `split_bytes` in byte ranges, one task each,
and writes exactly what it writes when it reads the file whole.

One generated export (real shapes, faults, CRLF) with multi-line records, stray quotes
and bad bytes added, loaded twice: with a 32 KiB split and with the default (whole).
Silver, quarantine and the run record's file entry must be identical. Gzip-compressed
(bigger than the split: one task streams it), its parsed rows and summary equal the
plain file's.
"""

from __future__ import annotations

import gzip
import json
import math

import pytest
from sales_lake import silver_run
from sales_lake.batch import loader as batch_loader
from sales_lake.batch import range_reader
from sales_lake.batch.bronze_objects import read_bronze
from sales_lake.batch.byte_ranges import merge_summaries
from sales_lake.load_options import LoadOptions
from sales_lake.run_sources import Source

from sales_data_generator import write_dataset
from tests.glue_jobs.csv_fixtures import row

pytestmark = pytest.mark.spark
SPLIT = 32 * 1024
SALES = ("row_id", "record_hash", "source_line", "is_deleted", "rescued_data")
QUARANTINE = ("line_number", "raw_record", "reason_codes", "reason_detail")


def _export(tmp_path):
    faults = {"malformed": 0.01, "bad_date": 0.01, "encoding": 0.005}
    report = write_dataset(tmp_path / "gen", rows=2000, files=1, seed=7, crlf=True, faults=faults)
    [path] = report.files
    extra = [row(900_001, product_name='"Binder, ""Heavy""\r\nDuty"'),
             row(900_002, product_name='5" screen'), row(900_003)]  # fmt: skip
    data = path.read_bytes()
    middle = data.index(b"\r\n", len(data) // 2) + 2
    path.write_bytes(data[:middle] + "\r\n".join(extra).encode() + b"\r\n" + data[middle:])
    return path


def _load(spark, path, lake, split: str | None) -> tuple[dict, list, list]:
    args = {"run_id": "r", "lake_uri": lake.as_uri(), "source_uris": path.as_uri(),
            "quality_policy": "continue"}  # fmt: skip
    if split:
        args["split_bytes"] = split
    record = silver_run.run(spark, batch_loader, args)
    sales = spark.read.format("delta").load(str(lake / "silver" / "sales"))
    quarantine = spark.read.format("delta").load(str(lake / "silver" / "quarantine"))
    return (
        record,
        sorted(tuple(r) for r in sales.select(*SALES).collect()),
        sorted((r[0], r[1], tuple(r[2]), r[3]) for r in quarantine.select(*QUARANTINE).collect()),
    )


def test_a_file_read_in_ranges_or_streamed_as_gzip_loads_exactly_as_read_whole(spark, tmp_path):
    path = _export(tmp_path)
    size = path.stat().st_size
    source = Source(0, path.as_uri(), size=size)
    options = LoadOptions(split_bytes=SPLIT)
    ranges = range_reader.plan(source, options)
    assert len(ranges) == math.ceil(size / SPLIT) >= 10
    assert read_bronze(spark, [source], options).rdd.getNumPartitions() >= len(ranges)

    split_record, split_sales, split_quarantine = _load(spark, path, tmp_path / "a", str(SPLIT))
    whole_record, whole_sales, whole_quarantine = _load(spark, path, tmp_path / "b", None)
    assert split_sales == whole_sales and len(whole_sales) > 1900
    assert split_quarantine == whole_quarantine and len(whole_quarantine) > 15
    assert split_record["counts"] == whole_record["counts"]
    [split_file], [whole_file] = split_record["sources"], whole_record["sources"]
    assert split_file == whole_file

    # The same export gzip-compressed, bigger than the split: one task streams it from its
    # URI and reads the text in ranges; its parsed rows are the plain file's (the loads
    # above show that equal rows make equal silver).
    packed = tmp_path / "export.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert packed.stat().st_size > SPLIT  # not read by binaryFile
    plain = _parsed(read_bronze(spark, [source], LoadOptions()))
    streamed = _parsed(read_bronze(spark, [Source(0, packed.as_uri(), size=packed.stat().st_size)],
                                   options))  # fmt: skip
    assert streamed[0] == plain[0] and len(plain[0]) > 2000
    assert streamed[1].pop("compression") == "gzip" and plain[1].pop("compression") is None
    assert streamed[1] == plain[1]


def _parsed(frame) -> tuple[list, dict]:
    """(the records, sorted; the object's merged summary) of read_bronze's rows."""
    rows = frame.collect()
    records = sorted(
        tuple(v for k, v in r.asDict().items() if k != "file_summary")
        for r in rows if r.row_kind == "record"
    )  # fmt: skip
    parts = [json.loads(r.file_summary) for r in rows if r.row_kind == "file"]
    return records, merge_summaries(parts)
