"""Pure transforms on small DataFrames: field splitting, typing, validation, dates, dedupe."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from pyspark.sql import functions as F
from sales_lake import conform, dates
from sales_lake.bronze_csv import detect_date_format
from sales_lake.bronze_reader import PARSED_SCHEMA

from tests.glue_jobs.csv_fixtures import row

pytestmark = pytest.mark.spark

DATES = conform.DATE_COLUMNS


def _records(spark, lines, *, source=0, first_line=2, issue=None, field_count=24, fmt=None):
    """Reader output for `lines`; the date format is detected as the reader does."""
    fmt = fmt or detect_date_format(pa.array(lines))
    data = [
        ("record", source, n, raw, field_count, issue, fmt.order, fmt.label, None)
        for n, raw in enumerate(lines, first_line)
    ]
    return conform.split_fields(spark.createDataFrame(data, PARSED_SCHEMA))


@pytest.fixture(scope="module")
def detected(spark):
    """Four small files (dmy with every bad value, mdy, ambiguous, ISO) conformed together."""
    dmy = [
        row(1),
        row(2, sales='"$1,234.50"', discount="20%", segment="consumer", ship_mode=" first class "),
        row(3, order_date="31/02/2012"),
        row(4, order_date="05/08/2012", ship_date="03/08/2012"),
        row(5, segment="Gold", quantity="-3", discount="1.5"),
        row(6, row_id="", customer_id=""),
        row(7, sales="abc", profit='"1.234,56"'),
        row(8, market="", shipping_cost="", order_priority=""),
    ]
    mdy = [row(21, order_date="7/31/2012", ship_date="8/2/2012"),
           row(22, order_date="3/4/2012", ship_date="3/6/2012")]  # fmt: skip
    ambiguous = [row(23, order_date="03/04/2012", ship_date="05/05/2012")]
    iso = [row(24, order_date="2012-07-31 00:00:00", ship_date="2012-08-02")]
    files = [dmy, mdy, ambiguous, iso]
    formats = {i: detect_date_format(pa.array(lines)) for i, lines in enumerate(files)}
    records = _records(spark, dmy)
    records = records.union(
        _records(spark, [row(9)[:60]], first_line=10, field_count=5, fmt=formats[0])
    ).union(_records(spark, [row(10)], first_line=11, issue="header_mismatch", fmt=formats[0]))
    for i in (1, 2, 3):
        records = records.union(_records(spark, files[i], source=i))
    out = conform.conform(records)
    return formats, {(r.source_index, r.line_number): r for r in out.collect()}


@pytest.fixture(scope="module")
def conformed(detected):
    return {line - 1: r for (source, line), r in detected[1].items() if source == 0}


def test_valid_row_is_typed_exactly(conformed):
    r = conformed[1]
    assert r.reason_codes == [] and r.reason_detail == ""
    assert (r.t_row_id, r.t_order_date, r.t_ship_date) == (1, date(2012, 7, 31), date(2012, 8, 2))
    assert (r.t_sales, r.t_profit, r.t_discount) == (
        Decimal("221.9800"), Decimal("62.1544"), Decimal("0.1000"),
    )  # fmt: skip
    assert r.product_name == "Samsung Galaxy, Full Size" and r.postal_code is None


def test_unambiguous_variants_are_accepted_and_normalised(conformed):
    r = conformed[2]
    assert r.reason_codes == []
    assert r.t_sales == Decimal("1234.5000") and r.t_discount == Decimal("0.2000")
    assert (r.t_segment, r.t_ship_mode) == ("Consumer", "First Class")


@pytest.mark.parametrize(
    ("line", "codes", "detail_part"),
    [
        (3, ["bad_order_date"], "'31/02/2012' is not a valid date in this file's format (dd/MM"),
        (4, ["ship_before_order"], "ship_date 2012-08-03 is before order_date 2012-08-05"),
        (5, ["unknown_segment", "bad_quantity", "bad_discount"], "segment 'Gold' is not one of"),
        (6, ["missing_row_id", "missing_customer_id"], "row_id is empty"),
        (7, ["bad_sales", "bad_profit"], "profit '1.234,56' is not an amount"),
        (8, ["missing_market"], "market is empty"),
    ],
)
def test_each_bad_value_gets_its_reason(conformed, line, codes, detail_part):
    r = conformed[line]
    assert r.reason_codes == codes
    assert detail_part in r.reason_detail


def test_optional_fields_may_be_blank(conformed):
    r = conformed[8]
    assert r.t_shipping_cost is None and r.t_order_priority is None


def test_wrong_field_count_and_reader_issues_replace_value_checks(conformed):
    malformed, rejected = conformed[9], conformed[10]
    assert malformed.reason_codes == ["malformed_record"] and "found 5" in malformed.reason_detail
    assert rejected.reason_codes == ["header_mismatch"]
    assert "rejected_files" in rejected.reason_detail


@pytest.mark.parametrize(
    ("evidence", "order", "label"),
    [
        ({"order_date__dmy": 3, "order_date__amb": 9, "order_date__seps": ["/"],
          "order_date__width": 2}, "dmy", "dd/MM/yyyy"),
        ({"ship_date__mdy": 1, "order_date__seps": ["/"], "order_date__width": 1},
         "mdy", "M/d/yyyy"),
        ({"order_date__dmy": 1, "order_date__seps": ["-"], "order_date__width": 2},
         "dmy", "dd-MM-yyyy"),
        ({"order_date__dmy": 5, "order_date__mdy": 1, "order_date__seps": ["/"],
          "order_date__width": 2}, "dmy", "dd/MM/yyyy"),
        ({"order_date__iso": 10}, None, "yyyy-MM-dd"),
        ({"order_date__amb": 4, "order_date__seps": ["/"]}, "ambiguous", None),
        ({}, None, None),
    ],
)  # fmt: skip
def test_date_format_decision(evidence, order, label):
    decided = dates.decide(evidence, DATES)
    assert decided.order == order
    if label is None and order == "ambiguous":
        assert decided.label.startswith("ambiguous")
    else:
        assert decided.label == label


def test_dates_detected_per_file_and_parsed_by_that_files_order(detected):
    formats, rows = detected
    assert [formats[i].order for i in (0, 1, 2, 3)] == ["dmy", "mdy", "ambiguous", None]
    assert [formats[i].label for i in (0, 1, 3)] == ["dd/MM/yyyy", "M/d/yyyy", "yyyy-MM-dd"]
    assert rows[(1, 3)].t_order_date == date(2012, 3, 4) and rows[(1, 3)].reason_codes == []
    assert rows[(2, 2)].reason_codes == ["ambiguous_order_date"]
    assert rows[(2, 2)].t_ship_date == date(2012, 5, 5)  # 05/05 is the same either way
    assert rows[(3, 2)].t_order_date == date(2012, 7, 31) and rows[(3, 2)].reason_codes == []


def test_latest_occurrence_wins_and_hash_tracks_business_columns(spark):
    lines = [row(1), row(2), row(1, sales="300"), row(2)]
    records = _records(spark, lines)
    later = _records(spark, [row(1, sales="400")], source=1, fmt=dates.DateFormat("dmy", None))
    conformed = conform.conform(records.union(later))
    lineage = {
        "source_uri": F.concat(F.lit("file:///f"), F.col("source_index").cast("string")),
        "source_version": F.lit(None).cast("string"),
        "run_id": F.lit("r"),
        "ingested_at": F.current_timestamp(),
    }
    rows = conform.silver_rows(conformed, lineage)
    latest = {r.row_id: r for r in conform.latest_per_row_id(rows).collect()}
    assert sorted(latest) == [1, 2]
    assert latest[1].sales == Decimal("400.0000") and latest[1].source_uri == "file:///f1"
    assert latest[2].source_line == 5
    hashes = {r.source_line: r.record_hash for r in rows.where("row_id = 2").collect()}
    assert hashes[3] == hashes[5] and len(hashes[3]) == 64
    assert latest[1].record_hash != hashes[3]
