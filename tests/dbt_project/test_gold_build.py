"""The gold layer end to end on the local target: silver written by the Glue jobs,
gold built by the dbt task (`python dbt/entrypoint.py`, as the ECS hook runs it).

One story, built once for the module (dbt runs cost seconds each):
  r1  oldest + newest batch        -> g1  first build (from scratch)
  r2  middle batch (a late file)   -> g2  incremental
                                      g3  again, no new data
                                      g4  --full-refresh
  s1  stream: cancellations (all lines of one customer among them) + an update
                                   -> g5 incremental
                                      g6  --full-refresh

The builds run in America/Los_Angeles time, and r1 and r2 are stamped (`ingested_at`)
01:30 PDT and 01:10 PST on the night the clock falls back: r2 is 40 minutes later, though
its wall clock is earlier. g2 equal to g4 says the watermark compares instants, so a
daylight-saving change never hides a run (issue 12; Snowflake's default session zone
observes it).

The SCD2 version models (int_*_versions) are incremental per natural key: each build's
versions are kept with the dbt invocation that derived them, so the tests can see which
keys a build re-derived and which it left alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
from deltalake import DeltaTable

from tests.dbt_project.gold_helpers import (
    CUSTOMER_ATTRIBUTES,
    PRODUCT_ATTRIBUTES,
    expected_versions,
    gold_rows,
    gold_snapshot,
    live,
    run_dbt_task,
    silver_rows,
    version_lineage,
)
from tests.dbt_project.silver_feed import GlueSilverFeed

FAKESNOW_TASK = Path(__file__).with_name("fakesnow_dbt_task.py")
FACT_SALES, FACT_PROFIT = 11, 14  # column positions in fact_sales
ROWS = 2400
SEED = 11
UNKNOWN = "unknown"


class Story:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.duckdb_path = Path(env["DUCKDB_PATH"])
        self.lake = Path(env.pop("LAKE_PATH"))
        self.builds: dict[str, object] = {}
        self.gold: dict[str, dict] = {}
        self.silver: dict[str, list[dict]] = {}
        self.versions: dict[str, dict[str, set]] = {}
        self.invocations: dict[str, str] = {}

    def build(self, run_id: str, *dbt_args: str) -> None:
        env = {**self.env, "RUN_ID": run_id}
        started = time.perf_counter()
        self.builds[run_id] = result = run_dbt_task(env, *dbt_args)
        print(f"dbt task {run_id} {' '.join(dbt_args)}: {time.perf_counter() - started:.1f}s")
        assert result.returncode == 0, (
            f"dbt task {run_id} failed:\n{result.stdout}\n{result.stderr}"
        )
        self.gold[run_id] = gold_snapshot(self.duckdb_path)
        self.versions[run_id] = version_lineage(self.duckdb_path)
        run_results = self.lake / "runs" / run_id / "dbt" / "run_results.json"
        self.invocations[run_id] = json.loads(run_results.read_text())["metadata"]["invocation_id"]


# The autumn change in Los Angeles: 01:30 PDT, then 40 minutes later 01:10 PST.
BEFORE_FALL_BACK = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
AFTER_FALL_BACK = datetime(2026, 11, 1, 9, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def story(request, dbt_env, tmp_path_factory) -> Story:
    story = Story({**dbt_env, "TZ": "America/Los_Angeles"})
    work = tmp_path_factory.mktemp("inputs")
    feed = GlueSilverFeed(request.getfixturevalue("spark"), story.lake, work, rows=ROWS, seed=SEED)

    timed(story, "r1", feed.load_batch, [0, 2], "r1")
    feed.restamp("r1", BEFORE_FALL_BACK)
    story.silver["r1"] = silver_rows(story.lake)
    story.build("g1")
    timed(story, "r2", feed.load_batch, [1], "r2")
    feed.restamp("r2", AFTER_FALL_BACK)
    story.silver["r2"] = silver_rows(story.lake)
    story.build("g2")
    story.build("g3")
    story.build("g4", "--full-refresh")

    story.cancelled, story.updated, story.vanished = _stream_changes(story.silver["r2"])
    timed(story, "s1", feed.stream_changes, "s1", story.cancelled, [story.updated])
    story.silver["s1"] = silver_rows(story.lake)
    story.build("g5")
    story.build("g6", "--full-refresh")
    return story


def timed(story: Story, label: str, step, *args) -> None:
    started = time.perf_counter()
    step(*args)
    print(f"silver {label}: {time.perf_counter() - started:.1f}s")


def _stream_changes(rows: list[dict]) -> tuple[list[dict], dict, str]:
    """Cancel the first, a middle and the last order line, and every line of the
    customer with the fewest lines (who then leaves dim_customer); move one mid-history
    order line of the busiest customer (their only line that day) to another city,
    which opens a one-day version in the middle of their history."""
    ordered = sorted(live(rows), key=lambda row: row["row_id"])
    lines_per_customer = Counter(row["customer_id"] for row in ordered)
    rarest = min(lines_per_customer, key=lambda customer: (lines_per_customer[customer], customer))
    chosen = [ordered[0], ordered[len(ordered) // 2], ordered[-1]]
    chosen += [row for row in ordered if row["customer_id"] == rarest]
    cancelled = {row["row_id"]: row for row in chosen}
    busiest = lines_per_customer.most_common(1)[0][0]
    history = [row for row in ordered if row["customer_id"] == busiest]
    lines_per_day = Counter(row["order_date"] for row in history)
    alone = [row for row in history[2:-2] if lines_per_day[row["order_date"]] == 1]
    updated = {**alone[0], "city": "Paysandú", "state": "Paysandú", "country": "Uruguay",
               "postal_code": None, "market": "LATAM", "region": "South"}  # fmt: skip
    return list(cancelled.values()), updated, rarest


def test_every_build_is_green_and_ships_its_artifacts(story):
    for run_id, result in story.builds.items():
        assert "dbt task: build succeeded" in result.stdout, run_id
        run_results = json.loads(
            (story.lake / "runs" / run_id / "dbt" / "run_results.json").read_text()
        )
        statuses = Counter(node["status"] for node in run_results["results"])
        assert set(statuses) <= {"success", "pass"}, (run_id, statuses)
        manifest = json.loads((story.lake / "runs" / run_id / "dbt" / "manifest.json").read_text())
        data_tests = {node for node in manifest["nodes"] if node.startswith("test.")}
        passed = {node["unique_id"] for node in run_results["results"] if node["status"] == "pass"}
        assert len(data_tests) > 40 and passed == data_tests, "every data test ran and passed"


def test_quarantine_is_summarized_per_run_and_reason(story):
    quarantine = DeltaTable(str(story.lake / "silver" / "quarantine")).to_pyarrow_table()
    expected = Counter(
        (row["run_id"], reason) for row in quarantine.to_pylist() for reason in row["reason_codes"]
    )
    dq = {(row[1], row[2]): row[3] for row in story.gold["g6"]["dq_quarantine_by_run_reason"]}
    assert dq == dict(expected)
    assert {run for run, _reason in dq} == {"r1", "r2"}, "the generated faults were quarantined"


def test_gold_equals_silver_exactly(story):
    """The inputs carry 5-decimal sales and 10-decimal profits (`fine_money`): gold keeps
    them and their sums digit for digit, not just to the cent."""
    silver = live(story.silver["s1"])
    assert any(row["sales"] != row["sales"].quantize(Decimal("0.0001")) for row in silver)
    assert any(row["profit"] != row["profit"].quantize(Decimal("0.00000001")) for row in silver)
    facts = gold_rows(story.duckdb_path, "select row_id, sales, profit from main.fact_sales")
    assert sorted(row["row_id"] for row in facts) == sorted(row["row_id"] for row in silver)
    assert sum(row["sales"] for row in facts) == sum(row["sales"] for row in silver)
    assert sum(row["profit"] for row in facts) == sum(row["profit"] for row in silver)
    monthly = gold_rows(
        story.duckdb_path,
        "select sum(sales) as sales, sum(order_lines) as lines "
        "from main.agg_sales_by_month_market_category",
    )[0]
    assert monthly == {"sales": sum(row["sales"] for row in silver), "lines": len(silver)}


def _dimension(snapshot_rows: list[tuple], width: int) -> set:
    """(natural key, attributes..., valid_from, valid_to, is_current) without sk/unknown."""
    return {row[1 : width + 1] for row in snapshot_rows if row[1] != UNKNOWN}


def test_dimensions_hold_the_history_by_order_date(story):
    final_silver, gold = story.silver["s1"], story.gold["g5"]
    customers = _dimension(gold["dim_customer"], 1 + len(CUSTOMER_ATTRIBUTES) + 3)
    products = _dimension(gold["dim_product"], 1 + len(PRODUCT_ATTRIBUTES) + 3)
    assert customers == expected_versions(final_silver, "customer_id", CUSTOMER_ATTRIBUTES)
    assert products == expected_versions(final_silver, "product_id", PRODUCT_ATTRIBUTES)
    versions_per_customer = Counter(row[0] for row in customers)
    assert max(versions_per_customer.values()) >= 2, "the data must contain a customer who moved"
    assert max(Counter(row[0] for row in products).values()) >= 2, "and a renamed product"


def test_a_customer_who_moved_points_to_the_right_version(story):
    """Facts before the move carry the old city, facts from the move on the new one."""
    facts = gold_rows(
        story.duckdb_path,
        "select f.customer_id, f.order_date, c.city, c.valid_from, c.version_number "
        "from main.fact_sales f join main.dim_customer c using (customer_sk) "
        "where f.customer_id in (select customer_id from main.dim_customer "
        "  group by customer_id having count(*) = 2) "
        f"and f.customer_id <> '{story.updated['customer_id']}' order by f.customer_id",
    )
    assert facts, "expected a customer with exactly two versions"
    mine = [row for row in facts if row["customer_id"] == facts[0]["customer_id"]]
    move_date = max(row["valid_from"] for row in mine)
    before = [row for row in mine if row["order_date"] < move_date]
    after = [row for row in mine if row["order_date"] >= move_date]
    assert before and after
    assert {(row["city"], row["version_number"]) for row in before} == {(before[0]["city"], 1)}
    assert {(row["city"], row["version_number"]) for row in after} == {(after[0]["city"], 2)}
    assert before[0]["city"] != after[0]["city"]


def test_every_fact_points_to_the_version_valid_on_its_order_date(story):
    """Point in time: the referenced versions carry the attributes in force on the
    order date, i.e. those of that day's last order line of the same customer/product
    (the tie-break rule); without same-day conflicts, the line's own attributes."""
    joined = gold_rows(
        story.duckdb_path,
        "select f.row_id, c.city, c.customer_name, p.product_name "
        "from main.fact_sales f join main.dim_customer c using (customer_sk) "
        "join main.dim_product p using (product_sk)",
    )
    silver = live(story.silver["s1"])
    day_winner: dict[tuple, dict] = {}
    for row in sorted(silver, key=lambda row: row["row_id"]):
        day_winner[("c", row["customer_id"], row["order_date"])] = row
        day_winner[("p", row["product_id"], row["order_date"])] = row
    by_id = {row["row_id"]: row for row in silver}
    expected, actual = {}, {}
    for row in joined:
        line = by_id[row["row_id"]]
        customer = day_winner[("c", line["customer_id"], line["order_date"])]
        product = day_winner[("p", line["product_id"], line["order_date"])]
        expected[row["row_id"]] = (
            customer["city"],
            customer["customer_name"],
            product["product_name"],
        )
        actual[row["row_id"]] = (row["city"], row["customer_name"], row["product_name"])
    assert actual == expected
    assert len(joined) == len(silver)


def test_a_late_file_rewrites_history_back_in_time(story):
    before, after = story.gold["g1"]["dim_customer"], story.gold["g2"]["dim_customer"]
    valid_from = 2 + len(CUSTOMER_ATTRIBUTES)  # column index after sk, key, attributes
    starts = {(row[1], row[-1]): row[valid_from] for row in before}  # (key, version) -> start
    moved_back = [
        row for row in after
        if row[-1] > 1 and (row[1], row[-1]) in starts
        and row[valid_from] < starts[(row[1], row[-1])]
    ]  # fmt: skip
    assert moved_back, "the late file should move some version starts earlier"
    width = 1 + len(CUSTOMER_ATTRIBUTES) + 3
    assert _dimension(after, width) == expected_versions(
        story.silver["r2"], "customer_id", CUSTOMER_ATTRIBUTES
    )


@pytest.mark.parametrize(("incremental", "full"), [("g2", "g4"), ("g5", "g6")])
def test_incremental_build_equals_a_full_rebuild(story, incremental, full):
    for table, rows in story.gold[full].items():
        assert story.gold[incremental][table] == rows, table


def test_rerun_without_new_data_changes_nothing(story):
    assert story.gold["g3"] == story.gold["g2"]


def test_the_late_file_re_derives_exactly_the_keys_it_touched(story):
    """Incremental SCD2: the versions of the customers and products with rows in the
    late file are re-derived by g2; every other key keeps g1's versions untouched;
    the rerun g3 re-derives nothing."""
    late_rows = [row for row in live(story.silver["r2"]) if row["run_id"] == "r2"]
    g1, g2 = story.invocations["g1"], story.invocations["g2"]
    for model, natural_key in (("int_customer_versions", "customer_id"),
                               ("int_product_versions", "product_id")):  # fmt: skip
        touched = {row[natural_key] for row in late_rows}
        before, after = story.versions["g1"][model], story.versions["g2"][model]
        assert {invocation for _key, _from, invocation in before} == {g1}
        assert {key for key, _from, invocation in after if invocation == g2} == touched, model
        untouched = {key for key, _from, _invocation in after} - touched
        assert untouched, f"{model}: the late file should leave some keys alone"
        assert {v for v in after if v[0] in untouched} == {v for v in before if v[0] in untouched}
    assert story.versions["g3"] == story.versions["g2"], "a rerun re-derives nothing"


def test_a_customer_whose_lines_are_all_cancelled_leaves_the_dimension(story):
    def customer_ids(run_id: str) -> set:
        return {row[1] for row in story.gold[run_id]["dim_customer"]}

    assert story.vanished in customer_ids("g4")
    assert story.vanished not in customer_ids("g5")
    assert story.vanished not in customer_ids("g6")
    versions = story.versions["g5"]["int_customer_versions"]
    assert story.vanished not in {key for key, _valid_from, _invocation in versions}


def test_soft_deleted_rows_leave_the_fact(story):
    cancelled = {row["row_id"] for row in story.cancelled}
    before = {row[0] for row in story.gold["g4"]["fact_sales"]}
    after = {row[0] for row in story.gold["g5"]["fact_sales"]}
    assert cancelled <= before
    assert not cancelled & after
    assert before - after == cancelled


def test_an_updated_line_moves_to_its_new_version(story):
    row = gold_rows(
        story.duckdb_path,
        "select c.city, c.valid_from, c.valid_to from main.fact_sales f "
        f"join main.dim_customer c using (customer_sk) where f.row_id = {story.updated['row_id']}",
    )[0]
    assert row["city"] == "Paysandú"
    assert row["valid_from"] == story.updated["order_date"]


def test_a_null_fails_its_models_not_null_test_naming_the_column(story, tmp_path):
    """One not_null test per model checks all its columns; the failure still says which
    column holds nulls and how many (a copy of the final gold, one key nulled)."""
    broken = tmp_path / "gold.duckdb"
    shutil.copyfile(story.duckdb_path, broken)
    with duckdb.connect(str(broken)) as connection:
        connection.execute(
            "update main.fact_sales set store_sk = null "
            "where row_id in (select row_id from main.fact_sales order by row_id limit 2)"
        )
    env = {**story.env, "RUN_ID": "null-key", "DUCKDB_PATH": str(broken),
           "DBT_TARGET_PATH": str(tmp_path / "dbt_target")}  # fmt: skip
    result = run_dbt_task(env, "--select", "not_null_fact_sales", "not_null_dim_store")
    assert result.returncode == 1, result.stdout
    failures = [line for line in result.stderr.splitlines() if "dbt task FAILED" in line]
    assert len(failures) == 1, result.stderr
    assert "test.sales_gold.not_null_fact_sales" in failures[0]
    assert "fact_sales.store_sk holds 2 null row(s)" in failures[0]
    assert "PASS not_null_dim_store" in result.stdout, "the other model's test passed"


@pytest.fixture(scope="module")
def fakesnow_build(story, tmp_path_factory) -> Path:
    """The prod target from scratch on fakesnow, over the story's final silver."""
    work = tmp_path_factory.mktemp("fakesnow")
    result = subprocess.run(
        [sys.executable, str(FAKESNOW_TASK), str(story.lake), str(work)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return work


def test_prod_target_builds_on_fakesnow_with_the_same_gold(fakesnow_build, story):
    summary = json.loads((fakesnow_build / "summary.json").read_text())
    duck = story.gold["g6"]
    facts = duck["fact_sales"]
    assert summary["compiled_incremental"]
    count, sales, profit = summary["fact"]
    assert count == len(facts)
    assert Decimal(sales) == sum(row[FACT_SALES] for row in facts)
    assert Decimal(profit) == sum(row[FACT_PROFIT] for row in facts)
    # same surrogate keys on both engines, and the same point-in-time assignment
    assert sorted(row[0] for row in summary["customer_versions"]) == sorted(
        row[0] for row in duck["dim_customer"]
    )
    assert sorted(row[0] for row in summary["product_sks"]) == sorted(
        row[0] for row in duck["dim_product"]
    )
    assert sorted(row[0] for row in summary["store_sks"]) == sorted(
        row[0] for row in duck["dim_store"]
    )
    assert [tuple(row) for row in summary["fact_keys"]] == sorted(
        (row[0], row[4], row[5], row[6], row[2]) for row in facts
    )
    assert sorted(map(tuple, summary["dq"])) == sorted(
        (row[1], row[2], row[3]) for row in duck["dq_quarantine_by_run_reason"]
    )
    assert (fakesnow_build / "lake" / "runs" / "fakesnow-1" / "dbt" / "run_results.json").exists()


def test_compiled_snowflake_sql_parses_with_sqlglot(fakesnow_build):
    compiled = sorted((fakesnow_build / "target").rglob("*.sql"))
    assert len(compiled) > 100
    for path in compiled:
        sqlglot.parse(path.read_text(), read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
    incremental = {p.name: p.read_text() for p in compiled if "compiled" in p.parts}
    assert "written_since_last_run" in incremental["fact_sales.sql"], "incremental fact compiled"
    assert "max(ingested_at)" in incremental["stg_silver__sales.sql"], "incremental staging too"
    for model in ("int_customer_versions", "int_product_versions", "int_store_versions"):
        assert "change_scope" in incremental[f"{model}.sql"], f"incremental {model} compiled"
