"""Pure transforms: field splitting, typing, validation and dates (Arrow), dedupe (Spark)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from pyspark.sql import functions as F
from sales_lake import dates
from sales_lake.batch import conform, silver_frames
from sales_lake.batch.bronze_reader import ARROW_SCHEMA, PARSED_SCHEMA

from tests.glue_jobs.csv_fixtures import row

DATES = conform.DATE_COLUMNS


def _rows(lines: list[str], issues: list[str | None] | None = None) -> dict[int, dict]:
    """conform() over one file's records -> {record number (1-based): values}."""
    verdicts = None if issues is None else pa.array(issues, pa.string())
    out = conform.conform(pa.array(lines), verdicts)
    table = pa.table({**out.columns, "codes": out.reason_codes, "detail": out.reason_detail})
    return {i: r for i, r in enumerate(table.to_pylist(), 1)} | {0: {"format": out.date_format}}


@pytest.fixture(scope="module")
def conformed():
    """A day-first file holding every kind of bad value, one per line."""
    return _rows(
        [
            row(1),
            row(2, sales='"$1,234.50"', discount="20%", segment="consumer",
                ship_mode=" first class "),
            row(3, order_date="31/02/2012"),
            row(4, order_date="05/08/2012", ship_date="03/08/2012"),
            row(5, segment="Gold", quantity="-3", discount="1.5"),
            row(6, row_id="", customer_id=""),
            row(7, sales="abc", profit='"1.234,56"'),
            row(8, market="", shipping_cost="", order_priority=""),
            row(9)[:60],
            row(10),
            row(11, sales='"-1,234.56789"', discount="12.345%", profit="+5 €", quantity="+3"),
            row(12, order_date="29/02/2012", ship_date="01/03/2012"),
            row(13, order_date="29/02/2011"),
        ],
        issues=[None] * 9 + ["header_mismatch"] + [None] * 3,
    )  # fmt: skip


def test_valid_row_is_typed_exactly(conformed):
    r = conformed[1]
    assert r["codes"] == [] and r["detail"] == ""
    assert (r["row_id"], r["order_date"]) == (1, date(2012, 7, 31))
    assert r["ship_date"] == date(2012, 8, 2)
    assert (r["sales"], r["profit"], r["discount"]) == (
        Decimal("221.9800"), Decimal("62.1544"), Decimal("0.1000"),
    )  # fmt: skip
    assert r["product_name"] == "Samsung Galaxy, Full Size" and r["postal_code"] is None


def test_unambiguous_variants_are_accepted_and_normalised(conformed):
    r = conformed[2]
    assert r["codes"] == []
    assert r["sales"] == Decimal("1234.5000") and r["discount"] == Decimal("0.2000")
    assert (r["segment"], r["ship_mode"]) == ("Consumer", "First Class")


def test_decimals_are_exactly_what_the_file_says(conformed):
    r = conformed[11]
    assert r["codes"] == []
    assert r["sales"] == Decimal("-1234.56789") and r["discount"] == Decimal("0.12345")
    assert (r["profit"], r["quantity"]) == (Decimal("5"), 3)


@pytest.mark.parametrize(
    ("value", "expected", "codes"),
    [
        ("1213.18876", "1213.18876", []),
        ("0.1234567891", "0.1234567891", []),
        ("99999999.9999999999", "99999999.9999999999", []),
        ("1.2500000000000000", "1.25", []),  # trailing zeros are no decimals
        ("0.12345678912", None, ["too_precise_sales"]),
        ("-0.00000000001", None, ["too_precise_sales"]),
        ("123456789", None, ["too_large_sales"]),
        ("00012345678.5", "12345678.5", []),  # leading zeros are no digits
    ],
)
def test_money_is_exact_or_quarantined_never_rounded(value, expected, codes):
    out = conform.conform(pa.array([row(1, sales=value)]))
    assert out.reason_codes[0].as_py() == codes
    got = out.columns["sales"][0].as_py()
    assert got == (None if expected is None else Decimal(expected))
    if codes:
        detail = out.reason_detail[0].as_py()
        assert f"'{value}'" in detail and ("round" in detail or "check" in detail)


@pytest.mark.parametrize(
    ("value", "expected", "codes"),
    [
        ("12.5%", "0.125", []),
        ("12.12345678%", "0.1212345678", []),
        ("0.1234567891", "0.1234567891", []),
        ("12.123456789%", None, ["too_precise_discount"]),
        ("0.12345678901", None, ["too_precise_discount"]),
        ("150%", None, ["bad_discount"]),
    ],
)
def test_rates_are_exact_or_quarantined_never_rounded(value, expected, codes):
    out = conform.conform(pa.array([row(1, discount=value)]))
    assert out.reason_codes[0].as_py() == codes
    got = out.columns["discount"][0].as_py()
    assert got == (None if expected is None else Decimal(expected))


def test_leap_days_are_checked_against_the_calendar(conformed):
    assert conformed[12]["codes"] == [] and conformed[12]["order_date"] == date(2012, 2, 29)
    assert conformed[13]["codes"] == ["bad_order_date"]


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
    assert r["codes"] == codes
    assert detail_part in r["detail"]


def test_optional_fields_may_be_blank(conformed):
    r = conformed[8]
    assert r["shipping_cost"] is None and r["order_priority"] is None


def test_wrong_field_count_and_reader_issues_replace_value_checks(conformed):
    malformed, rejected = conformed[9], conformed[10]
    assert malformed["codes"] == ["malformed_record"] and "found 6" in malformed["detail"]
    assert rejected["codes"] == ["header_mismatch"]
    assert "rejected_files" in rejected["detail"]


def test_quote_in_the_middle_of_a_field_is_read_record_by_record():
    """Arrow's reader and the field counter disagree on `ab"c,d"e`: the slow path decides."""
    odd = row(2, product_name='ab"c,d"e')
    rows = _rows([row(1), odd, row(3)])
    assert [rows[i]["codes"] for i in (1, 3)] == [[], []]
    assert rows[2]["codes"] == ["malformed_record"] and "found 25" in rows[2]["detail"]


def test_slices_on_threads_give_the_whole_files_result():
    """The file's date order comes from all slices: the one day-first value is in the last."""
    lines = [row(i, order_date="03/04/2012", ship_date="05/04/2012") for i in range(1, 8)]
    lines += [row(8, sales="oops"), row(9, order_date="31/07/2012")]
    issues = pa.array([None] * 6 + ["bad_encoding", None, None], pa.string())
    whole = conform.conform(pa.array(lines), issues)
    fmt, slices = conform.conform_in_chunks(pa.array(lines), issues, rows=4, workers=2)
    parts = list(slices)
    assert fmt == whole.date_format and fmt.order == "dmy"
    assert [start for start, _ in parts] == [0, 4, 8]
    codes = [c for _, part in parts for c in part.reason_codes.to_pylist()]
    assert codes == whole.reason_codes.to_pylist() and codes[6] == ["bad_encoding"]
    dates_seen = [d for _, part in parts for d in part.columns["order_date"].to_pylist()]
    assert dates_seen == whole.columns["order_date"].to_pylist()
    assert dates_seen[0] == date(2012, 4, 3)


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


@pytest.mark.parametrize(
    ("pairs", "label"),
    [
        ([("31/07/2012", "02/08/2012"), ("01/08/2012", "03/08/2012")], "dd/MM/yyyy"),
        ([("31-07-2012", "02-08-2012")], "dd-MM-yyyy"),
        ([("7/31/2012", "8/2/2012"), ("12/24/2012", "12/28/2012")], "M/d/yyyy"),
        ([("2012-07-31", "2012-08-02")], "yyyy-MM-dd"),
    ],
)
def test_date_format_is_detected_per_file_from_unambiguous_values(pairs, label):
    lines = [row(i, order_date=o, ship_date=s) for i, (o, s) in enumerate(pairs, 1)]
    assert _rows(lines)[0]["format"].label == label


def test_dates_are_parsed_by_each_files_order():
    mdy = _rows([row(21, order_date="7/31/2012", ship_date="8/2/2012"),
                 row(22, order_date="3/4/2012", ship_date="3/6/2012")])  # fmt: skip
    assert mdy[0]["format"].order == "mdy"
    assert mdy[2]["order_date"] == date(2012, 3, 4) and mdy[2]["codes"] == []
    ambiguous = _rows([row(23, order_date="03/04/2012", ship_date="05/05/2012")])
    assert ambiguous[0]["format"].order == "ambiguous"
    assert ambiguous[1]["codes"] == ["ambiguous_order_date"]
    assert ambiguous[1]["ship_date"] == date(2012, 5, 5)  # 05/05 is the same either way
    iso = _rows([row(24, order_date="2012-07-31 00:00:00", ship_date="2012-08-02")])
    assert iso[0]["format"].order is None
    assert iso[1]["order_date"] == date(2012, 7, 31) and iso[1]["codes"] == []


def test_mixed_separators_in_one_value_are_not_a_date():
    rows = _rows([row(1), row(2, ship_date="02-08/2012")])
    assert rows[2]["codes"] == ["bad_ship_date"]


@pytest.mark.spark
def test_latest_occurrence_wins_and_hash_tracks_business_columns(spark):
    def reader_rows(lines, source):
        out = conform.conform(pa.array(lines))
        size = len(lines)
        table = pa.table(
            {
                "row_kind": ["record"] * size,
                "source_index": [source] * size,
                "line_number": list(range(2, size + 2)),
                "raw_record": [None] * size,
                **out.columns,
                "rescued_data": out.rescued_data,
                "reason_codes": out.reason_codes,
                "reason_detail": out.reason_detail,
                "file_summary": [None] * size,
            },
            schema=ARROW_SCHEMA,
        )
        return spark.createDataFrame(table.to_pylist(), PARSED_SCHEMA)

    records = reader_rows([row(1), row(2), row(1, sales="300"), row(2)], 0)
    records = records.unionByName(reader_rows([row(1, sales="400")], 1))
    lineage = {
        "source_uri": F.concat(F.lit("file:///f"), F.col("source_index").cast("string")),
        "source_version": F.lit(None).cast("string"),
        "run_id": F.lit("r"),
        "ingested_at": F.current_timestamp(),
        "event_time": F.lit("2026-11-26 08:00:00").cast("timestamp"),
    }
    valid = silver_frames.valid_rows(records)
    rows = silver_frames.silver_rows(valid, lineage)
    latest_rows = silver_frames.silver_rows(silver_frames.latest_per_row_id(valid), lineage)
    latest = {r.row_id: r for r in latest_rows.collect()}
    assert sorted(latest) == [1, 2]
    assert latest[1].sales == Decimal("400.0000") and latest[1].source_uri == "file:///f1"
    assert latest[1].event_time.year == 2026 and latest[1].event_id is None
    assert latest[2].source_line == 5
    hashes = {r.source_line: r.record_hash for r in rows.where("row_id = 2").collect()}
    assert hashes[3] == hashes[5] and len(hashes[3]) == 64
    assert latest[1].record_hash != hashes[3]
