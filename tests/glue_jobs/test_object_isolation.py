"""One object that fails while it is read never fails the run, and leaves no rows.

The parser is meant never to raise (tests/glue_jobs/test_parser_property.py); this is
the net under it: a failure halfway through an object, after some of its batches went
to Spark, makes the object a rejected file (`unreadable`) and drops those batches,
while the other objects of the run load.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from sales_lake import silver_run, uris
from sales_lake.batch import bronze_objects, bronze_reader
from sales_lake.batch import loader as batch_loader
from sales_lake.run_sources import Source

from tests.glue_jobs.csv_fixtures import HEADER, row, write_csv

POISON = "POISON"


def _failing_after_first_chunk(original):
    """conform_in_chunks that hands out its first chunk, then fails (for POISON files)."""

    def conform_in_chunks(records, *args, **kwargs):
        fmt, chunks = original(records, *args, **kwargs)
        if not any(POISON in r for r in records.to_pylist()):
            return fmt, chunks

        def failing():
            yield next(chunks)
            raise RuntimeError("injected failure\nwith a second line")

        return fmt, failing()

    return conform_in_chunks


def _kinds(batches) -> list[str]:
    return [kind for batch in batches for kind in batch.column("row_kind").to_pylist()]


def test_a_failure_after_some_batches_ends_the_object_with_one_unreadable_row(monkeypatch):
    monkeypatch.setattr(bronze_reader, "BATCH_ROWS", 2)
    monkeypatch.setattr(
        bronze_reader,
        "conform_in_chunks",
        _failing_after_first_chunk(bronze_reader.conform_in_chunks),
    )
    content = "\n".join([HEADER, row(1), row(2, city=POISON), row(3), row(4)]).encode()
    source = Source(index=7, uri="s3://raw/landing/sales/poison.csv")
    batches = list(bronze_objects.parsed_batches(source, content))
    assert _kinds(batches) == ["record", "record", "file"]  # two rows went out first
    summary = bronze_reader.json.loads(batches[-1].column("file_summary")[0].as_py())
    assert summary["reject_reason"] == "unreadable" and summary["records"] == 0
    assert "RuntimeError: injected failure with a second line" in summary["reject_detail"]
    assert "fix:" in summary["reject_detail"] and "\n" not in summary["reject_detail"]
    assert bronze_reader.dropped_sources({7: summary, 8: {"outcome": "ok"}}) == {7}


@pytest.mark.spark
def test_the_run_loads_the_other_objects_and_nothing_of_the_failed_one(
    spark, tmp_path, monkeypatch
):
    monkeypatch.setattr(bronze_reader, "BATCH_ROWS", 2)
    monkeypatch.setattr(
        bronze_reader,
        "conform_in_chunks",
        _failing_after_first_chunk(bronze_reader.conform_in_chunks),
    )

    def read_in_the_driver(spark, sources, options=None):
        # Spark's Python workers do not see monkeypatches: parse here, hand Spark the rows.
        batches = [
            batch
            for s in sources
            for batch in bronze_objects.parsed_batches(s, uris.local_path(s.uri).read_bytes())
        ]
        table = pa.Table.from_batches(batches, schema=bronze_reader.ARROW_SCHEMA)
        return spark.createDataFrame(table.to_pylist(), bronze_reader.PARSED_SCHEMA)

    monkeypatch.setattr(batch_loader, "read_bronze", read_in_the_driver)
    good = write_csv(tmp_path / "good.csv", [row(1), row(2), row(3, sales="oops")])
    poison = write_csv(tmp_path / "poison.csv", [row(10), row(11), row(12, city=POISON)])
    lake = tmp_path / "lake"
    args = {"run_id": "r1", "lake_uri": lake.as_uri(), "quality_policy": "continue",
            "source_uris": f"{good.as_uri()},{poison.as_uri()}"}  # fmt: skip
    record = silver_run.run(spark, batch_loader, args)
    assert record["counts"]["read"] == 3 and record["counts"]["inserted"] == 2
    assert record["counts"]["quarantined"] == 1
    [rejected] = record["rejected_files"]
    assert rejected["reason"] == "unreadable" and rejected["uri"] == poison.as_uri()
    assert rejected["detail"].startswith(poison.as_uri() + ": the file could not be read")
    sales = spark.read.format("delta").load(str(lake / "silver" / "sales"))
    assert sorted(r.row_id for r in sales.collect()) == [1, 2]
    quarantine = spark.read.format("delta").load(str(lake / "silver" / "quarantine"))
    assert [r.source_uri for r in quarantine.collect()] == [good.as_uri()]
