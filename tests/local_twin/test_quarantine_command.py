"""`twin quarantine`'s selection and report, on an Arrow table shaped as silver/quarantine
(the command on a real workspace: tests/e2e/test_pipeline_e2e.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from local_twin.commands.quarantine import report, select


def _rows(*rows: tuple) -> pa.Table:
    names = ("run_id", "source_uri", "line_number", "raw_record", "reason_codes", "reason_detail")
    return pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows])


TABLE = _rows(
    ("batch-a-1", "s3://raw/landing/sales/a.csv", 7, "7,x\r", ["bad_quantity"], "quantity -1"),
    ("batch-a-1", "s3://raw/landing/sales/a.csv", 3, "3,y", ["bad_quantity", "bad_order_date"],
     "two things"),
    ("batch-b-2", "s3://raw/landing/sales/b.csv", 9, "z" * 300, ["malformed_record"], "9 fields"),
)  # fmt: skip


def test_a_run_prefix_reason_and_file_narrow_the_rows():
    assert select(TABLE, "batch-a", None, None).num_rows == 2
    assert select(TABLE, None, "bad_order_date", None).column("line_number").to_pylist() == [3]
    assert select(TABLE, None, None, "b.csv").num_rows == 1
    with pytest.raises(ValueError, match="matches 2 of the runs"):
        select(TABLE, "batch-", None, None)


def test_the_report_counts_every_reason_then_shows_lines_in_file_order():
    lines = report(TABLE, limit=2)
    assert lines[0] == "3 quarantined rows in 2 file(s), by reason:"
    assert lines[1:4] == ["         2  bad_quantity", "         1  bad_order_date",
                          "         1  malformed_record"]  # fmt: skip
    assert lines[5].startswith("  a.csv:3  bad_quantity,bad_order_date  3,y")
    assert lines[7] == "  a.csv:7  bad_quantity  7,x\\r"  # control characters shown, not printed
    assert len(lines) == 9 and report(TABLE.slice(0, 0), 5) == ["no quarantined rows match"]
    long = report(select(TABLE, None, None, "b.csv"), 1)[3]
    assert long.endswith("…") and len(long) < 130
