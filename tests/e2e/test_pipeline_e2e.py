"""End to end on the local twin: S3 event -> trigger -> state machine -> Glue (Spark)
-> quality gate -> dbt (DuckDB), with the real artifacts and small generated files.

One workspace for the module. The first drop of good files is a module fixture that
the other tests build on, like a user dropping files one after the other; each test
asks for the state it needs, so they pass in any order.
"""

from __future__ import annotations

import re
from decimal import Decimal

import boto3
import duckdb
import pytest
from deltalake import DeltaTable
from sales_lake.run_metrics import ACCOUNTED

from local_twin.cli import main as twin_cli
from local_twin.lambda_runtime import sqs_event
from local_twin.twin import Twin
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace
from tests.e2e.browser import RenderedPage, rendered_dom

pytestmark = pytest.mark.spark


def generate(out, *options: str) -> list:
    assert twin_cli(["generate", "--out", str(out), "--seed", "11", *options]) == 0
    return sorted(out.glob("*.csv"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e-files")
    return {
        "good": generate(root / "good", "--rows", "80", "--files", "2"),
        "bad_rows": generate(
            root / "bad_rows", "--rows", "60", "--faults", "negative_quantity=0.05,bad_date=0.05",
            "--first-row-id", "5000", "--name", "sales_with_bad_rows.csv",
        ),
        "wrong_header": generate(
            root / "wrong_header", "--rows", "20", "--header", "sample-superstore",
            "--first-row-id", "9000", "--name", "superstore_21_columns.csv",
        ),
    }  # fmt: skip


@pytest.fixture(scope="module")
def twin(spark, tmp_path_factory):
    workspace = Workspace.at(tmp_path_factory.mktemp("e2e-workspace"))
    with Twin(workspace) as running:
        yield running


def silver(workspace: Workspace, table: str) -> list[dict]:
    path = workspace.object_path(LAKE_BUCKET, f"silver/{table}")
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


def gold(workspace: Workspace, sql: str):
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def conserved(counts: dict) -> bool:
    return counts["read"] == sum(counts[p] for p in ACCOUNTED)


@pytest.fixture(scope="module")
def first_drop(twin, files) -> dict:
    """The good files, dropped once into the fresh workspace, with silver and gold as that
    execution left them (later tests change both)."""
    [record] = twin.drop(files["good"])
    rows = [r for r in silver(twin.workspace, "sales") if not r["is_deleted"]]
    [gold_totals] = gold(twin.workspace, "select count(*), sum(sales) from fact_sales")
    return {"record": record, "silver": rows, "gold": gold_totals}


def test_sample_builds_gold_that_reconciles_to_silver(first_drop):
    record = first_drop["record"]
    assert record["status"] == "SUCCEEDED", record
    counts = record["metrics"]["counts"]
    assert counts["read"] == 80 and counts["inserted"] == 80 and conserved(counts)
    rows = first_drop["silver"]
    silver_sales = sum(Decimal(r["sales"]) for r in rows)
    lines, gold_sales = first_drop["gold"]
    assert lines == len(rows) == 80
    assert Decimal(gold_sales) == silver_sales  # to the cent: decimals end to end
    assert record["stage_seconds"]["RunGlueJob"] > 0 and record["stage_seconds"]["RunDbt"] > 0


def same_file_again_redelivered(twin, files) -> dict:
    """A new version of a good file, its event delivered twice: one execution that
    changes nothing in silver (checked here) and refreshes gold. Returns its record."""
    silver_before = sorted((r["row_id"], r["record_hash"]) for r in silver(twin.workspace, "sales"))
    executions_before = set(twin.executions.arns())
    path = files["good"][0]
    twin.put_raw_object(f"landing/sales/{path.name}", path.read_bytes())  # a new version
    [message] = twin.trigger.receive()
    assert twin.trigger.invoke([message]) == {"batchItemFailures": []}
    redelivery = twin.trigger.handle(sqs_event([message], twin.trigger.queue_arn))
    assert redelivery == {"batchItemFailures": []}
    started = sorted(set(twin.executions.arns()) - executions_before)
    assert len(started) == 1  # the redelivered event was de-duplicated by the execution name
    [record] = twin.executions.wait(started, dropped_at=None)
    assert record["status"] == "SUCCEEDED", record
    counts = record["metrics"]["counts"]
    assert counts["inserted"] == counts["updated"] == 0
    assert counts["unchanged"] + counts["duplicates"] == counts["read"] > 0
    silver_after = sorted((r["row_id"], r["record_hash"]) for r in silver(twin.workspace, "sales"))
    assert silver_after == silver_before
    # Gold is refreshed from that silver: the same live lines, to the cent.
    live = [r for r in silver(twin.workspace, "sales") if not r["is_deleted"]]
    [(lines, sales)] = gold(twin.workspace, "select count(*), sum(sales) from fact_sales")
    assert lines == len(live) and Decimal(sales) == sum(Decimal(r["sales"]) for r in live)
    return record


def test_a_held_file_stays_out_of_gold_until_released(twin, files, first_drop, capsys):
    """The demo's bad-rows file (about 10% bad rows, threshold 5%, policy stop) dropped
    with a wrong-header export, in one execution: the wrong header is rejected, the
    bad-rows file is held (none of its rows in silver or gold), gold refreshes for the
    rest; a later run (a good file again, its event redelivered: one execution, nothing
    changed) does not bring it in; a rerun with a release loads it; the day-two commands
    show what the first run left. One story, to keep the suite's executions few."""
    bad = f"landing/sales/{files['bad_rows'][0].name}"
    wrong = f"landing/sales/{files['wrong_header'][0].name}"
    [record] = twin.drop(files["bad_rows"] + files["wrong_header"])
    metrics = record["metrics"]
    assert record["status"] == "FAILED" and record["error"] == "DataQualityBreach"
    assert "RunDbt" in record["path"]  # gold refreshed for what loaded
    [notice] = record["notifications"]
    assert notice["outcome"] == "DATA_QUALITY_BREACH"
    [rejected] = notice["rejected_files"]
    assert rejected["reason"] == "missing_columns"  # the 21-column export lacks Market
    assert wrong in rejected["uri"]
    [held] = notice["breached_files"]
    assert held["action"] == "held" and bad in held["uri"] and held["ratio"] > 0.05
    assert notice["held_file_count"] == 1 and "accept_quality_breach" in notice["how_to_rerun"]
    assert notice["objects"].count(f"s3://{RAW_BUCKET}/landing/sales/") == 2
    assert metrics["counts"]["held"] == 60 and conserved(metrics["counts"])
    outcomes = {s["uri"].rsplit("/", 1)[-1]: s["outcome"] for s in metrics["sources"]}
    expected = {files["bad_rows"][0].name: "held", files["wrong_header"][0].name: "rejected"}
    assert outcomes == expected
    assert notice["counts"] == metrics["counts"]
    # Nothing of the held file anywhere in silver; the rejected file's lines in quarantine.
    assert not [r for r in silver(twin.workspace, "sales") if bad in r["source_uri"]]
    quarantine = silver(twin.workspace, "quarantine")
    assert not [r for r in quarantine if bad in r["source_uri"]]
    assert not [r for r in silver(twin.workspace, "sales") if wrong in r["source_uri"]]
    assert len([r for r in quarantine if wrong in r["source_uri"]]) == 20
    assert metrics["counts"]["quarantined"] == 20
    day_two_commands_show(twin, record, files["wrong_header"][0].name, capsys)

    # A later run refreshes gold again: the held rows still do not reach it.
    same_file_again_redelivered(twin, files)
    [(held_lines,)] = gold(twin.workspace, "select count(*) from fact_sales where row_id >= 5000")
    assert held_lines == 0

    # Released deliberately: loaded as it is, and the release is on record.
    released = twin.rerun(record, accept_quality_breach="e2e-test")
    quality = released["metrics"]["quality"]
    assert quality["released"]["by"] == "e2e-test" and quality["released"]["at"]
    assert [b["action"] for b in quality["breached_files"]] == ["released"]
    # Still failed, for the still-rejected wrong header (policy stop), after gold.
    assert released["error"] == "DataQualityBreach" and "RunDbt" in released["path"]
    sales = silver(twin.workspace, "sales")
    bad_loaded = [r for r in sales if bad in r["source_uri"]]
    bad_quarantined = [r for r in silver(twin.workspace, "quarantine") if bad in r["source_uri"]]
    assert bad_quarantined and all(r["reason_codes"] for r in bad_quarantined)
    assert len(bad_loaded) + len(bad_quarantined) == 60
    [(lines,)] = gold(twin.workspace, "select count(*) from fact_sales where row_id >= 5000")
    assert lines == len(bad_loaded) > 0


def day_two_commands_show(twin, record: dict, file_name: str, capsys) -> None:
    """`twin quarantine` counts what silver holds for the run, by reason, and shows the
    raw lines; `twin sql` reads gold and silver; the run's data-quality counts reached
    (moto's) CloudWatch."""
    ws = str(twin.workspace.root)
    rows = [r for r in silver(twin.workspace, "quarantine") if r["run_id"] == record["name"]]
    capsys.readouterr()
    assert twin_cli(["quarantine", record["name"][:20], "--workspace", ws, "--limit", "3"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"{len(rows):,} quarantined rows in 1 file(s), by reason:")
    for code in {c for r in rows for c in r["reason_codes"]}:
        count = sum(code in r["reason_codes"] for r in rows)
        assert f"  {count:>8,}  {code}\n" in shown
    first = min(rows, key=lambda r: r["line_number"])
    assert f"{file_name}:{first['line_number']}  " in shown
    assert first["raw_record"][:40] in shown
    query = "select (select count(*) from fact_sales), (select count(*) from silver_quarantine)"
    assert twin_cli(["sql", query, "--workspace", ws]) == 0
    [(lines,)] = gold(twin.workspace, "select count(*) from fact_sales")
    quarantined = len(silver(twin.workspace, "quarantine"))
    assert re.search(rf"│\s*{lines}\s*│\s*{quarantined}\s*│", capsys.readouterr().out)
    assert twin_cli(["sql", "select nope", "--workspace", ws]) == 2
    listed = boto3.client("cloudwatch").list_metrics(Namespace="SalesPipeline")["Metrics"]
    assert {"RowsRead", "RowsQuarantined", "QuarantineRatio"} <= {m["MetricName"] for m in listed}
    reasons = boto3.client("cloudwatch").list_metrics(
        Namespace="SalesPipeline", MetricName="RowsQuarantinedByReason"
    )["Metrics"]
    listed_reasons = {d["Value"] for m in reasons for d in m["Dimensions"] if d["Name"] == "Reason"}
    assert {c for r in rows for c in r["reason_codes"]} <= listed_reasons


def test_the_report_renders_in_a_browser_with_golds_numbers(twin, first_drop, tmp_path, capsys):
    """`twin report` writes one file that Chromium renders offline: every chart drawn, and
    the figures on the page (tiles, chart labels, tables) are gold's, to the cent."""
    page = tmp_path / "report.html"
    ws = str(twin.workspace.root)
    assert twin_cli(["report", "--workspace", ws, "--out", str(page)]) == 0
    assert f"file://{page.resolve()}" in capsys.readouterr().out
    source = page.read_text()
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", source)  # inlined
    shown = RenderedPage(rendered_dom(page, tmp_path / "profile"))
    for chart in ("monthly-sales", "monthly-margin", "categories", "customers", "runs"):
        assert "main-svg" in shown.classes.get(f"chart-{chart}", set()), chart

    cents = lambda v: f"{Decimal(v).quantize(Decimal('0.01'), 'ROUND_HALF_UP'):,}"  # noqa: E731
    [(lines, sales)] = gold(twin.workspace, "select count(*), sum(sales) from fact_sales")
    assert shown.texts["total-sales"][-1] == cents(sales)
    assert shown.texts["total-order-lines"][-1] == f"{lines:,}"
    by_category = gold(twin.workspace, """
        select p.category, sum(f.sales), sum(f.profit) from fact_sales f
        join dim_product p using (product_sk) group by 1 order by 2 desc""")  # fmt: skip
    table = shown.tables["category-table"][1:]
    assert [(r[0], r[1], r[2]) for r in table] == [
        (c, cents(s), cents(p)) for c, s, p in by_category
    ]
    labels = [t for t in shown.texts["chart-categories"] if re.fullmatch(r"-?[\d,]+\.\d\d", t)]
    assert sorted(labels) == sorted(cents(v) for _, s, p in by_category for v in (s, p))
    top = gold(twin.workspace, """
        select customer_id, sum(sales) from fact_sales group by 1
        order by 2 desc, 1 limit 10""")  # fmt: skip
    assert [(r[0], r[4]) for r in shown.tables["customer-table"][1:]] == [
        (c, cents(s)) for c, s in top
    ]
    quarantined = gold(twin.workspace, """
        select run_id, reason_code, records from dq_quarantine_by_run_reason
        order by run_id, records desc, reason_code""")  # fmt: skip
    rows = [tuple(r) for r in shown.tables.get("quarantine-table", [[]])[1:]]
    assert rows == [(run, code, f"{n:,}") for run, code, n in quarantined]
    runs = shown.tables["run-table"][1:]
    assert {r[0] for r in runs} == {e["name"] for e in twin.workspace.executions()}
