"""Silver holds money and rates exactly as the file says, or quarantines them.

A generated file with floating-point style amounts (5-decimal sales, 10-decimal profit,
`fine_money`) plus hand-made lines with 6-10 decimals, too many decimals and too many
integer digits, through the real batch job; silver is compared digit for digit with an
independent `decimal.Decimal` parse of the file's text (the csv module, not the job's
parser).
"""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from sales_lake import silver_run
from sales_lake.batch import loader as batch_loader

from sales_data_generator import write_dataset
from tests.glue_jobs.csv_fixtures import row, write_csv

pytestmark = pytest.mark.spark

HAND_MADE = {  # row_id: (sales, discount, profit), each exactly representable
    9001: ("0.123456", "0.1", "1.1234567"),
    9002: ("12345678.12345678", "12.5%", "-0.0000000001"),
    9003: ("1.1234567891", "0.1234567891", "99999999.9999999999"),
}
UNREPRESENTABLE = {  # row_id: (field, value, reason)
    9101: ("sales", "1.12345678901", "too_precise_sales"),
    9102: ("profit", "123456789.5", "too_large_profit"),
    9103: ("discount", "0.12345678901", "too_precise_discount"),
}


def _expected(text: str, *, percent: bool = False) -> Decimal:
    value = Decimal(text.rstrip("%"))
    return value / 100 if percent or text.endswith("%") else value


def test_silver_equals_the_files_decimals_digit_for_digit(spark, tmp_path):
    generated = write_dataset(tmp_path / "gen", rows=400, seed=7, fine_money=True).files[0]
    made = [row(i, sales=s, discount=d, profit=p) for i, (s, d, p) in HAND_MADE.items()]
    made += [row(i, **{field: value}) for i, (field, value, _) in UNREPRESENTABLE.items()]
    hand = write_csv(tmp_path / "hand.csv", made)
    lake = tmp_path / "lake"
    record = silver_run.run(spark, batch_loader, {
        "run_id": "exact", "lake_uri": lake.as_uri(), "quality_policy": "continue",
        "source_uris": f"{generated.as_uri()},{hand.as_uri()}",
    })  # fmt: skip

    expected = {}
    for path in (generated, hand):
        with path.open(encoding="utf-8", newline="") as handle:
            for line in csv.DictReader(handle):
                row_id = int(line["Row ID"])
                if row_id not in UNREPRESENTABLE:
                    expected[row_id] = tuple(
                        _expected(line[c]) for c in ("Sales", "Discount", "Profit")
                    )
    silver = spark.read.format("delta").load(str(lake / "silver" / "sales")).collect()
    got = {r.row_id: (r.sales, r.discount, r.profit) for r in silver}
    assert got == expected  # Decimal equality: the same number, whatever the scale
    # and the text itself: no digit lost (trailing zeros are no digits)
    for i, (sales, _, profit) in HAND_MADE.items():
        assert (got[i][0].normalize(), got[i][2].normalize()) == (
            Decimal(sales).normalize(),
            Decimal(profit).normalize(),
        )
    assert any(sales.normalize().as_tuple().exponent == -5 for sales, _, _ in got.values())

    quarantine = spark.read.format("delta").load(str(lake / "silver" / "quarantine")).collect()
    reasons = {int(q.raw_record.split(",", 1)[0]): q.reason_codes for q in quarantine}
    assert reasons == {i: [reason] for i, (_, _, reason) in UNREPRESENTABLE.items()}
    c = record["counts"]
    assert c["read"] == 400 + len(made)
    assert c["quarantined"] == len(UNREPRESENTABLE) and c["inserted"] == len(expected)
