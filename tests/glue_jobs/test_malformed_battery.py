"""The malformed-file battery (sales_data_generator.battery): nothing fatal from one bad file.

Per kind, the executor-side reader gives the outcome the battery expects (rejected with
its reason, or loaded with exactly its bad rows quarantined under their codes); then all
kinds go through ONE silver run, which must finish, list every rejected file with its
reason, load every good row and quarantine every bad one, with conserved counts.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from sales_lake import silver_run
from sales_lake.batch import bronze_objects
from sales_lake.batch import loader as batch_loader
from sales_lake.load_options import LoadOptions
from sales_lake.run_sources import Source

from sales_data_generator.battery import (
    EMPTY,
    HEADER_ONLY,
    HUGE_FIELD_CHARS,
    LOADED,
    BatteryFile,
    battery_files,
)

BATTERY = battery_files()
BY_NAME = {f.name: f for f in BATTERY}
OUTCOME = {LOADED: "ok", EMPTY: "empty", HEADER_ONLY: "header_only"}


def _read(index: int, battery_file: BatteryFile) -> tuple[dict, list[tuple[int, list[str]]]]:
    """(file summary, (row_id, reason codes) per record) as the executors produce them."""
    source = Source(index=index, uri=f"s3://raw/landing/sales/{battery_file.name}")
    batches = list(bronze_objects.parsed_batches(source, battery_file.content, LoadOptions()))
    *records, last = batches
    assert last.column("row_kind").to_pylist() == ["file"]
    summary = json.loads(last.column("file_summary")[0].as_py())
    rows = []
    for batch in records:
        assert set(batch.column("row_kind").to_pylist()) == {"record"}
        assert set(batch.column("source_index").to_pylist()) == {index}
        rows += zip(
            batch.column("row_id").to_pylist(), batch.column("reason_codes").to_pylist(),
            strict=True,
        )  # fmt: skip
    return summary, rows


def test_the_battery_has_at_least_30_malformed_kinds_and_2_good_files():
    kinds = [f for f in BATTERY if not f.good]
    good = [f for f in BATTERY if f.good]
    assert len(kinds) >= 30 and len(good) == 2
    assert len(BY_NAME) == len(BATTERY)  # one file per name
    assert {f.reject_reason for f in kinds} >= {
        "not_csv", "corrupt_gzip", "header_mismatch", "missing_columns", None,
    }  # fmt: skip
    ids = [i for f in BATTERY for i in f.loaded_ids]
    assert len(ids) == len(set(ids))  # no Row ID in two files: nothing is a duplicate
    assert all(f.expect == LOADED and f.loaded_ids and not f.quarantined for f in good)
    assert all(f.why and "\n" not in f.why for f in BATTERY)
    assert max(len(f.content) for f in BATTERY) > HUGE_FIELD_CHARS


@pytest.mark.parametrize(
    ("index", "battery_file"), list(enumerate(BATTERY)), ids=[f.name for f in BATTERY]
)
def test_the_reader_gives_each_kind_its_expected_outcome(index, battery_file):
    summary, rows = _read(index, battery_file)
    reason = battery_file.reject_reason
    if reason:
        assert (summary["outcome"], summary["reject_reason"]) == ("rejected", reason)
        assert "fix:" in summary["reject_detail"] and "\n" not in summary["reject_detail"]
    else:
        assert summary["outcome"] == OUTCOME[battery_file.expect]
        assert summary["reject_reason"] is None
    assert summary["records"] == battery_file.records == len(rows)
    assert summary["blank"] == battery_file.blank
    assert summary["rejected"] == battery_file.quarantined
    assert summary["rescued_rows"] == battery_file.rescued_rows
    bad = [codes for _, codes in rows if codes]
    assert len(bad) == battery_file.quarantined
    assert {code for codes in bad for code in codes} == battery_file.reasons
    assert [row_id for row_id, codes in rows if not codes] == list(battery_file.loaded_ids)
    if battery_file.encoding:
        assert summary["encoding"] == battery_file.encoding
    if battery_file.date_format:
        assert summary["date_format"] == battery_file.date_format


@pytest.mark.spark
def test_one_run_over_the_whole_battery_rejects_quarantines_and_loads_per_file(spark, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    uri_of = {}
    for battery_file in BATTERY:
        path = landing / battery_file.name
        path.write_bytes(battery_file.content)
        uri_of[battery_file.name] = path.as_uri()
    lake = tmp_path / "lake"
    args = {
        "run_id": "battery",
        "lake_uri": lake.as_uri(),
        "source_uris": ",".join(uri_of.values()),
        "quality_policy": "continue",
    }

    record = silver_run.run(spark, batch_loader, args)  # one bad file must not raise

    name_of = {uri: name for name, uri in uri_of.items()}
    rejected = {name_of[r["uri"]]: r["reason"] for r in record["rejected_files"]}
    assert rejected == {f.name: f.reject_reason for f in BATTERY if f.reject_reason}
    for entry in record["rejected_files"]:
        assert entry["detail"].startswith(entry["uri"] + ": ") and "fix:" in entry["detail"]
    outcomes = {name_of[s["uri"]]: s["outcome"] for s in record["sources"]}
    assert outcomes == {
        f.name: "rejected" if f.reject_reason else OUTCOME[f.expect] for f in BATTERY
    }

    sales = spark.read.format("delta").load(str(lake / "silver" / "sales"))
    loaded = {r.row_id: r for r in sales.collect()}
    for good in (f for f in BATTERY if f.good):
        assert set(good.loaded_ids) <= set(loaded), f"{good.name} did not load completely"
    assert sorted(loaded) == sorted(i for f in BATTERY for i in f.loaded_ids)
    assert {name_of[r.source_uri] for r in loaded.values()} == {
        f.name for f in BATTERY if f.loaded_ids
    }
    # Loaded means loaded right, not only present.
    first = {f.name: loaded[f.loaded_ids[0]] for f in BATTERY if f.loaded_ids}
    assert first["percent_discount.csv"].discount == Decimal("0.15")
    assert first["windows_1252.csv"].customer_name == "Café O’Neil"
    assert first["utf16_be_bom.csv"].city == "Paysandú"
    assert json.loads(first["extra_unknown_column.csv"].rescued_data) == {
        "Internal Note": f"note {first['extra_unknown_column.csv'].row_id}"
    }
    huge = loaded[BY_NAME["huge_field.csv"].loaded_ids[1]]
    assert len(huge.product_name) == HUGE_FIELD_CHARS
    assert loaded[BY_NAME["good_quoted.csv"].loaded_ids[1]].product_name == (
        'Binder, "Heavy"\nDuty'
    )

    quarantine = spark.read.format("delta").load(str(lake / "silver" / "quarantine"))
    per_file = (
        quarantine.groupBy("source_uri")
        .agg(
            F.count("*").alias("rows"),
            F.array_distinct(F.flatten(F.collect_list("reason_codes"))).alias("codes"),
        )
        .collect()
    )
    quarantined = {name_of[r.source_uri]: (r.rows, set(r.codes)) for r in per_file}
    assert quarantined == {
        f.name: (f.quarantined, set(f.reasons)) for f in BATTERY if f.quarantined
    }

    counts = record["counts"]
    expected_read = sum(f.records + f.blank for f in BATTERY)
    assert counts == {
        "read": expected_read,
        "inserted": len(loaded),
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "quarantined": sum(f.quarantined for f in BATTERY),
        "blank": sum(f.blank for f in BATTERY),
        "held": 0,
    }
    assert counts["read"] == sum(v for k, v in counts.items() if k != "read")
    assert Counter(s["outcome"] for s in record["sources"])["rejected"] == len(rejected)
