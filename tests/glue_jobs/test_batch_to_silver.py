"""The batch job end to end on small explicit files: every bad input, rerun, update, fault.

One lake per module; the runs build on each other through module fixtures (normal run,
rerun), which keeps the number of Spark jobs - and the suite time - small. Tests run in
random order (pytest-randomly), so a test that writes (the failed run and its retry) works
on a copy of the lake and leaves the shared one as the read-only tests expect it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from sales_lake import silver_run
from sales_lake.batch import loader as batch_loader
from sales_lake.batch import silver_frames

from tests.glue_jobs.csv_fixtures import HEADER, row, write_csv

pytestmark = pytest.mark.spark

SAMPLE_SUPERSTORE = ",".join(
    c for c in HEADER.split(",") if c not in ("Market", "Shipping Cost", "Order Priority")
)
BUSINESS = ["row_id", "order_id", "order_date", "sales", "product_name", "customer_name"]


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    """Bronze files; comments give (rows read, valid distinct rows) per file."""
    root = tmp_path_factory.mktemp("bronze")
    files = {
        # 6 read: rows 1-4, a quoted newline in row 3, and row 2 twice in the file.
        "dmy.csv": write_csv(
            root / "dmy.csv",
            [row(1), row(2), row(3, product_name='"Binder, ""XL""\nHeavy Duty"'), row(2), row(4),
             row(5, order_date="14/08/2012", ship_date="16/08/2012")],
            bom=True, newline="\r\n",
        ),
        # 4 read: month-first, gzip; row 1 again (identical content) -> duplicate across files.
        "mdy.csv.gz": write_csv(
            root / "mdy.csv.gz",
            [row(6, order_date="7/31/2012", ship_date="8/2/2012"),
             row(7, order_date="12/24/2012", ship_date="12/28/2012"),
             row(8, order_date="1/2/2013", ship_date="1/5/2013"),
             row(1, order_date="7/31/2012", ship_date="8/2/2012")],
            compress=True,
        ),
        # 2 read: Latin-1 text.
        "latin1.csv": write_csv(
            root / "latin1.csv",
            [row(9, order_date="2012-07-31", ship_date="2012-08-02"),
             row(10, order_date="2012-07-30", ship_date="2012-08-01")],
            encoding="latin-1",
        ),
        # 8 read, all quarantined (ISO dates; last line truncated mid-quote).
        "bad.csv": write_csv(
            root / "bad.csv",
            [row(11, order_date="2012-02-31", ship_date="2012-03-02"),
             row(12, order_date="2012-08-05", ship_date="2012-08-03"),
             row(13, segment="Gold"),
             row(14, quantity="-2", discount="1.5"),
             row(15, customer_id=""),
             row(16, sales="N/A"),
             row(17)[:50],
             row(18)[:90] + ',"Samsung Gal'],
            final_newline=False,
        ),
        # 2 read, rejected whole: the 21-column Sample Superstore export.
        "sample_superstore.csv": write_csv(
            root / "sample_superstore.csv", [row(30)[:120], row(31)[:120]], header=SAMPLE_SUPERSTORE
        ),
        "empty.csv": write_csv(root / "empty.csv", [], header="", final_newline=False),
        "header_only.csv": write_csv(root / "header_only.csv", []),
    }  # fmt: skip
    files["missing.csv"] = root / "missing.csv"
    return files


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return tmp_path_factory.mktemp("lake")


def _args(lake, run_id: str, files) -> dict:
    uris = ",".join(p.as_uri() for p in files)
    # The loader's quarantine under test: nothing held by the per-object gate.
    return {"run_id": run_id, "lake_uri": lake.as_uri(), "source_uris": uris,
            "quality_policy": "continue"}  # fmt: skip


def _sales(spark, lake):
    return spark.read.format("delta").load(str(lake / "silver" / "sales"))


def _quarantine(spark, lake):
    return spark.read.format("delta").load(str(lake / "silver" / "quarantine"))


def _snapshot(spark, lake) -> tuple[list, list]:
    sales = sorted(tuple(r) for r in _sales(spark, lake).collect())
    quarantine = sorted(
        (r.source_uri, r.line_number, r.raw_record, tuple(r.reason_codes), r.run_id)
        for r in _quarantine(spark, lake).collect()
    )
    return sales, quarantine


@pytest.fixture(scope="module")
def first_run(spark, lake, landing):
    metrics = silver_run.run(spark, batch_loader, _args(lake, "run-1", landing.values()))
    return metrics, _snapshot(spark, lake)


def test_counts_add_up_exactly(first_run):
    counts = first_run[0]["counts"]
    # read: 6 + 4 + 2 + 8 + 2 (rejected) = 22; valid distinct: rows 1-10 = 10
    assert counts == {
        "read": 22, "inserted": 10, "updated": 0, "unchanged": 0, "duplicates": 2,
        "quarantined": 10, "blank": 0, "held": 0,
    }  # fmt: skip
    assert first_run[0]["quarantine_ratio"] == pytest.approx(10 / 22, abs=1e-6)


def test_metrics_record_has_the_contract_shape(first_run, lake):
    written = json.loads((lake / "runs" / "run-1" / "metrics.json").read_text())
    assert written == first_run[0]
    assert set(written) == {
        "run_id", "job", "status", "counts", "quarantine_ratio", "quarantine_reasons",
        "quality", "rejected_files", "sources", "delta_versions", "timings_seconds",
        "started_at", "finished_at",
    }  # fmt: skip
    # per reason: what the quarantine table holds, most frequent first
    codes = Counter(code for _, _, _, reasons, _ in first_run[1][1] for code in reasons)
    assert written["quarantine_reasons"] == dict(codes)
    assert list(written["quarantine_reasons"].values()) == sorted(codes.values(), reverse=True)
    # bad.csv (8 of 8 quarantined) breaches; policy continue loads it and says so
    [breach] = written["quality"]["breached_files"]
    assert breach["uri"].endswith("/bad.csv") and breach["action"] == "loaded"
    assert breach["records"] == breach["quarantined"] == 8
    assert sum(breach["reasons"].values()) >= 8 and "bad.csv: 8 of 8 rows" in breach["detail"]
    assert written["quality"]["policy"] == "continue" and written["quality"]["released"] is None
    assert written["status"] == "SUCCEEDED" and written["job"] == "batch_to_silver"
    assert set(written["timings_seconds"]) == {"read", "transform", "merge", "total"}
    assert written["delta_versions"] == {"silver/sales": 1, "silver/quarantine": 1}


def test_sources_record_format_encoding_and_outcome(first_run):
    by_name = {s["uri"].rsplit("/", 1)[1]: s for s in first_run[0]["sources"]}
    assert by_name["dmy.csv"]["date_format"] == "dd/MM/yyyy"
    assert by_name["dmy.csv"]["encoding"] == "utf-8-sig"
    assert by_name["mdy.csv.gz"]["date_format"] == "M/d/yyyy"
    assert by_name["mdy.csv.gz"]["compression"] == "gzip"
    assert by_name["latin1.csv"]["encoding"] == "latin-1"
    assert by_name["latin1.csv"]["date_format"] == "yyyy-MM-dd"
    assert [by_name[n]["rows_read"] for n in ("dmy.csv", "mdy.csv.gz", "bad.csv")] == [6, 4, 8]
    assert by_name["empty.csv"]["outcome"] == "empty"
    assert by_name["header_only.csv"]["outcome"] == "header_only"
    assert by_name["missing.csv"]["outcome"] == "missing"


def test_rejected_files_have_one_clear_reason(first_run):
    rejected = {r["uri"].rsplit("/", 1)[1]: r for r in first_run[0]["rejected_files"]}
    assert set(rejected) == {"sample_superstore.csv", "missing.csv"}
    header = rejected["sample_superstore.csv"]
    assert header["reason"] == "missing_columns"
    assert "sample_superstore.csv" in header["detail"] and "fix:" in header["detail"]
    assert "required column(s) missing: Market" in header["detail"]
    assert rejected["missing.csv"]["reason"] == "missing_object"


def test_silver_holds_typed_rows_with_text_intact(spark, lake, first_run):
    rows = {r.row_id: r for r in _sales(spark, lake).collect()}
    assert sorted(rows) == list(range(1, 11))
    assert rows[3].product_name == 'Binder, "XL"\nHeavy Duty' and rows[3].source_line == 4
    assert rows[9].customer_name == "María Juárez" and rows[9].city == "Paysandú"
    assert str(rows[6].order_date) == "2012-07-31" and str(rows[8].order_date) == "2013-01-02"
    assert rows[1].source_uri.endswith("mdy.csv.gz")  # the later file's copy won
    assert rows[1].sales == Decimal("221.9800") and rows[1].postal_code is None
    assert {r.source_kind for r in rows.values()} == {"batch"}
    assert all(r.run_id == "run-1" and not r.is_deleted for r in rows.values())


def test_quarantine_has_line_raw_text_and_reason(spark, lake, landing, first_run):
    found = {
        (r.source_uri.rsplit("/", 1)[1], r.line_number): r
        for r in _quarantine(spark, lake).collect()
    }
    expected = {
        ("bad.csv", 2): ["bad_order_date"],
        ("bad.csv", 3): ["ship_before_order"],
        ("bad.csv", 4): ["unknown_segment"],
        ("bad.csv", 5): ["bad_quantity", "bad_discount"],
        ("bad.csv", 6): ["missing_customer_id"],
        ("bad.csv", 7): ["bad_sales"],
        ("bad.csv", 8): ["malformed_record"],
        ("bad.csv", 9): ["malformed_record"],
        ("sample_superstore.csv", 2): ["missing_columns"],
        ("sample_superstore.csv", 3): ["missing_columns"],
    }
    assert {k: v.reason_codes for k, v in found.items()} == expected
    assert found[("bad.csv", 8)].raw_record == row(17)[:50]
    assert "found" in found[("bad.csv", 8)].reason_detail
    assert found[("bad.csv", 2)].source_kind == "batch"


def test_tables_keep_a_protocol_delta_rs_and_snowflake_can_read(spark, lake, first_run):
    for name in ("sales", "quarantine"):
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{lake / 'silver' / name}`").first()
        assert (detail.minReaderVersion, detail.minWriterVersion) == (1, 2)
        props = detail.properties
        assert props["delta.logRetentionDuration"] == "interval 30 days"
        assert props["delta.deletedFileRetentionDuration"] == "interval 30 days"
        assert props["delta.enableDeletionVectors"] == "false"
        assert not detail.partitionColumns


def test_delta_rs_reader_sees_the_same_rows(spark, lake, first_run):
    from deltalake import DeltaTable

    by_rust = DeltaTable(str(lake / "silver" / "sales")).to_pyarrow_table().to_pylist()
    rust = sorted((r["row_id"], r["record_hash"], r["sales"], r["order_date"]) for r in by_rust)
    spark_rows = sorted(
        (r.row_id, r.record_hash, r.sales, r.order_date) for r in _sales(spark, lake).collect()
    )
    assert rust == spark_rows


@pytest.fixture(scope="module")
def rerun(spark, lake, landing, first_run):
    metrics = silver_run.run(spark, batch_loader, _args(lake, "run-2", landing.values()))
    return metrics, _snapshot(spark, lake)


def test_rerun_changes_nothing(first_run, rerun):
    assert rerun[0]["counts"] == {
        "read": 22, "inserted": 0, "updated": 0, "unchanged": 10, "duplicates": 2,
        "quarantined": 10, "blank": 0, "held": 0,
    }  # fmt: skip
    assert rerun[1] == first_run[1]  # same silver and quarantine content, lineage included


@pytest.fixture(scope="module")
def update_file(landing, tmp_path_factory):
    root = tmp_path_factory.mktemp("bronze-update")
    return write_csv(root / "update.csv", [row(3, sales="999.99"), row(4), row(20)])


def test_fault_between_read_and_commit_leaves_no_trace_and_retry_succeeds(
    spark, lake, update_file, rerun, monkeypatch, tmp_path
):
    lake = Path(shutil.copytree(lake, tmp_path / "lake"))  # the shared lake stays as run-2 left it
    original = silver_frames.latest_per_row_id

    def failing(rows):  # the executors fail on row 20 after the read (counting, then MERGE)
        return original(rows).withColumn(
            "order_id",
            F.when(F.col("row_id") == 20, F.raise_error(F.lit("injected fault"))).otherwise(
                F.col("order_id")
            ),
        )

    monkeypatch.setattr(silver_frames, "latest_per_row_id", failing)
    with pytest.raises(Exception, match="injected fault"):
        silver_run.run(spark, batch_loader, _args(lake, "run-3", [update_file]))
    assert _snapshot(spark, lake) == rerun[1]
    assert not (lake / "runs" / "run-3" / "metrics.json").exists()
    hash_before = _sales(spark, lake).where("row_id = 3").first().record_hash

    monkeypatch.setattr(silver_frames, "latest_per_row_id", original)
    metrics = silver_run.run(spark, batch_loader, _args(lake, "run-3", [update_file]))
    assert metrics["counts"] == {
        "read": 3, "inserted": 1, "updated": 1, "unchanged": 1, "duplicates": 0, "quarantined": 0,
        "blank": 0, "held": 0,
    }  # fmt: skip
    changed = _sales(spark, lake).where("row_id = 3").first()
    assert changed.sales == Decimal("999.9900") and changed.run_id == "run-3"
    assert changed.record_hash != hash_before
    assert _sales(spark, lake).where("row_id = 4").first().run_id == "run-1"  # untouched


def test_a_file_older_than_the_silver_row_never_overwrites_it(spark, tmp_path):
    """Rows are as of their object's write time: a stale file (or a rerun of an old one)
    and a file older than a stream update leave the newer row alone."""
    lake = tmp_path / "lake"
    current = write_csv(tmp_path / "current.csv", [row(3, sales="999.99"), row(4)])
    silver_run.run(spark, batch_loader, _args(lake, "run-3", [current]))
    # A stream event from the future updated row 4.
    table = DeltaTable.forPath(spark, str(lake / "silver" / "sales"))
    table.update(
        "row_id = 4",
        {"event_time": "timestamp'2100-01-01 00:00:00'", "source_kind": "'stream'",
         "is_deleted": "true"},
    )  # fmt: skip
    # One run (to keep the suite short) with a stale file for row 3 and today's for row 4.
    stale = write_csv(tmp_path / "stale.csv", [row(3, sales="111.11")])
    os.utime(stale, (946684800, 946684800))  # written in 2000
    today = write_csv(tmp_path / "today.csv", [row(4, sales="5")])
    metrics = silver_run.run(spark, batch_loader, _args(lake, "run-4", [stale, today]))
    assert metrics["counts"]["updated"] == 0 and metrics["counts"]["unchanged"] == 2
    kept = _sales(spark, lake).where("row_id = 3").first()
    assert kept.sales == Decimal("999.9900") and kept.event_time.year > 2000
    streamed = _sales(spark, lake).where("row_id = 4").first()
    assert streamed.is_deleted and streamed.sales != Decimal("5.0000")


def test_manifest_objects_with_spaces_equals_and_plus_in_their_keys_are_loaded(spark, tmp_path):
    """Keys as users and the S3 sink write them (`a b.csv`, `year=2026/`, `t+0+…`):
    resolved in the local bucket layout, then read by Spark under their literal name."""
    key = "landing/sales/year=2026/orders 2012+(2).csv"
    workspace = tmp_path / "s3"
    write_csv(workspace / "raw" / key, [row(1), row(2)])
    manifest = {
        "run_id": "m-1",
        "kind": "batch",
        "objects": [{"bucket": "raw", "key": key, "version_id": "v1"}],
    }
    (workspace / "lake" / "manifests").mkdir(parents=True)
    (workspace / "lake" / "manifests" / "m-1.json").write_text(json.dumps(manifest))
    lake_uri = (workspace / "lake").as_uri()
    args = {"lake_uri": lake_uri, "manifest_uri": f"{lake_uri}/manifests/m-1.json"}
    sources, missing = silver_run.sources_of(args, batch_loader)
    assert missing == []
    # The key verbatim after the bucket (docs/contracts.md, "S3 keys"), not percent-encoded.
    assert [(s.uri, s.version) for s in sources] == [(f"file://{workspace}/raw/{key}", "v1")]
    metrics = silver_run.run(spark, batch_loader, {**args, "run_id": "m-1"})
    assert metrics["counts"]["inserted"] == 2 and metrics["rejected_files"] == []
