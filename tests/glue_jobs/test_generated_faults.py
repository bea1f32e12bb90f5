"""Generated files with every fault kind: each injected fault is quarantined at its
physical line with a matching reason, no clean line is, and duplicates are counted."""

from __future__ import annotations

import json

import pytest
from sales_lake import silver_run
from sales_lake.batch import loader as batch_loader

from sales_data_generator import FAULT_KINDS, write_dataset

pytestmark = pytest.mark.spark

# Which reason codes may answer which injected fault.
EXPECTED_CODES = {
    "malformed": ("malformed_record",),
    "wrong_type": ("bad_sales", "bad_quantity", "bad_discount", "bad_profit", "bad_shipping_cost"),
    "bad_date": ("bad_order_date", "bad_ship_date"),
    "impossible_date": ("bad_order_date", "bad_ship_date"),
    "ship_before_order": ("ship_before_order",),
    "negative_quantity": ("bad_quantity",),
    "discount_above_one": ("bad_discount",),
    "missing_key": ("missing_row_id", "missing_order_id", "missing_customer_id",
                    "missing_product_id"),
    "unknown_enum": ("unknown_segment", "unknown_ship_mode", "unknown_order_priority",
                     "unknown_market"),
    "encoding": ("bad_encoding",),
}  # fmt: skip


@pytest.fixture(scope="module")
def loaded(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    report = write_dataset(
        root / "landing", rows=600, files=2, seed=11, date_format="mdy", gzip=True,
        encoding="utf-8-sig", crlf=True, faults=dict.fromkeys(FAULT_KINDS, 0.02),
    )  # fmt: skip
    args = {
        "run_id": "gen-1",
        "quality_policy": "continue",  # every faulty row quarantined, no object held
        "lake_uri": (root / "lake").as_uri(),
        "source_uris": ",".join(p.as_uri() for p in report.files),
    }
    metrics = silver_run.run(spark, batch_loader, args)
    quarantine = spark.read.format("delta").load(str(root / "lake" / "silver" / "quarantine"))
    found = {
        (r.source_uri.rsplit("/", 1)[1], r.line_number): r.reason_codes
        for r in quarantine.collect()
    }
    faults = [json.loads(line) for line in report.faults_path.read_text().splitlines()]
    return report, metrics, found, faults


def test_every_injected_fault_is_quarantined_at_its_line(loaded):
    _, _, found, faults = loaded
    for fault in faults:
        if fault["kind"] == "duplicate":
            continue
        codes = found.get((fault["file"], fault["line"]))
        assert codes, f"fault not quarantined: {fault}"
        assert set(codes) & set(EXPECTED_CODES[fault["kind"]]), (fault, codes)


def test_no_clean_line_is_quarantined_and_counts_match_the_injection(loaded):
    report, metrics, found, faults = loaded
    injected = {(f["file"], f["line"]) for f in faults if f["kind"] != "duplicate"}
    assert set(found) == injected
    duplicates = sum(f["kind"] == "duplicate" for f in faults)
    assert duplicates and len(injected) > 20
    counts = metrics["counts"]
    assert counts["read"] == report.rows_written
    assert counts["quarantined"] == len(injected)
    assert counts["duplicates"] == duplicates
    assert counts["inserted"] == report.rows_written - len(injected) - duplicates
    assert {s["date_format"] for s in metrics["sources"]} == {"M/d/yyyy"}
    assert {s["compression"] for s in metrics["sources"]} == {"gzip"}
