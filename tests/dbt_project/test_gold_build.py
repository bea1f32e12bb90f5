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

The generated data has the shapes of a real export (sales_data_generator): customers
order to many ship-to places, a few really change segment, product ids are shared by
several names at once, a few cities carry two market labels, some lines have no
geography. The expected dimensions are derived in Python from silver's rows
(gold_helpers.expected_versions, the rules of docs/gold.md).

The SCD2 period models (int_*_periods) are incremental per natural key: each build's
rows are kept with the dbt invocation that derived them, so the tests can see which
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
    PERIOD_MODELS,
    PRODUCT_ATTRIBUTES,
    STORE_ATTRIBUTES,
    STORE_TRACKED,
    expected_conflicts,
    expected_versions,
    gold_rows,
    gold_snapshot,
    live,
    run_dbt_task,
    silver_rows,
    version_lineage,
)
from tests.dbt_project.silver_feed import GlueSilverFeed
from tests.dbt_project.snowflake_statements import incremental_statements, parse_all

FAKESNOW_TASK = Path(__file__).with_name("fakesnow_dbt_task.py")
FACT_SALES, FACT_PROFIT = 13, 16  # column positions in fact_sales
ROWS = 2400
SEED = 11
UNKNOWN = ""  # the unknown member's natural key (reserved: silver rejects blank keys)
DIMENSIONS = {  # model: (natural key, attributes, tracked attributes)
    "dim_customer": ("customer_id", CUSTOMER_ATTRIBUTES, CUSTOMER_ATTRIBUTES),
    "dim_product": ("product_id", PRODUCT_ATTRIBUTES, PRODUCT_ATTRIBUTES),
    "dim_store": ("store_nk", STORE_ATTRIBUTES, STORE_TRACKED),
}


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
    story.uncategorized = _without_category(story.silver["r2"], story.cancelled, story.updated)
    timed(story, "s1", feed.stream_changes, "s1", story.cancelled,
          [story.updated, story.uncategorized])  # fmt: skip
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
    order line of the busiest customer (their only line that day) to a new place
    (a new dim_store key)."""
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


def _without_category(rows: list[dict], cancelled: list[dict], updated: dict) -> dict:
    """An update that blanks the category (optional in silver) of a mid-history line
    of the best-selling product."""
    taken = {row["row_id"] for row in cancelled} | {updated["row_id"]}
    candidates = [row for row in live(rows) if row["row_id"] not in taken]
    best_seller = Counter(row["product_id"] for row in candidates).most_common(1)[0][0]
    history = sorted((row for row in candidates if row["product_id"] == best_seller),
                     key=lambda row: (row["order_date"], row["row_id"]))  # fmt: skip
    line = history[len(history) // 2]  # mid-history: the product's other lines surround it
    return {**line, "category": None}


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


def test_overlapping_versions_are_caught_before_the_fact_merges(story):
    """Snowflake's MERGE fails on a target row matched twice, which two versions
    covering one date would cause: the windows test depends on all three dimensions,
    which the fact descends from, so `dbt build` runs it first (dbt-core adds an edge
    from a multi-parent test to the nodes downstream of all its parents) and skips the
    fact if it fails."""
    folder = story.lake / "runs" / "g5" / "dbt"
    manifest = json.loads((folder / "manifest.json").read_text())
    order = [node["unique_id"] for node in json.loads(
        (folder / "run_results.json").read_text())["results"]]  # fmt: skip
    windows = "test.sales_gold.assert_scd2_windows_contiguous_without_overlap"
    dimensions = {f"model.sales_gold.{model}" for model in DIMENSIONS}
    assert set(manifest["nodes"][windows]["depends_on"]["nodes"]) == dimensions
    fact = manifest["nodes"]["model.sales_gold.fact_sales"]
    assert dimensions <= set(fact["depends_on"]["nodes"])
    assert order.index(windows) < order.index("model.sales_gold.fact_sales")


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


def _dimension(story: Story, run_id: str, model: str) -> set:
    """(natural key, attributes..., valid_from, valid_to, is_current) without sk and
    the unknown member; a product's missing category as silver holds it (None)."""
    width = 1 + len(DIMENSIONS[model][1]) + 3
    rows = {row[1 : width + 1] for row in story.gold[run_id][model] if row[1] != UNKNOWN}
    if model == "dim_product":  # the mart shows 'Unknown' where silver has no category
        rows = {row[:2] + tuple(None if v == "Unknown" else v for v in row[2:4]) + row[4:]
                for row in rows}  # fmt: skip
    return rows


def _expected(story: Story, silver: str, model: str) -> set:
    return expected_versions(story.silver[silver], *DIMENSIONS[model])


def test_dimensions_hold_the_history_by_order_date(story):
    for model in DIMENSIONS:
        assert _dimension(story, "g5", model) == _expected(story, "s1", model), model


def test_a_customer_versions_only_their_own_attributes(story):
    """Customers ship to many places (the generator's real-data shape): that never
    makes a version. Customer versions = customers + real segment/name changes."""
    silver = live(story.silver["s1"])
    places = {}
    for row in silver:
        places.setdefault(row["customer_id"], set()).add((row["country"], row["city"]))
    assert sum(len(p) for p in places.values()) / len(places) > 2, "customers ship to many places"
    own = {}
    for row in silver:
        own.setdefault(row["customer_id"], set()).add((row["customer_name"], row["segment"]))
    versions = Counter(row[0] for row in _dimension(story, "g5", "dim_customer"))
    steady = [customer for customer, values in own.items() if len(values) == 1]
    assert steady and all(versions[customer] == 1 for customer in steady)
    assert len(versions) == len(own)


def test_a_customer_who_changes_segment_gets_one_new_version_from_that_date(story):
    """Facts before the change carry the old segment (version 1), facts from the
    change date on the new one (version 2)."""
    silver = live(story.silver["s1"])
    history: dict[str, list] = {}
    for row in sorted(silver, key=lambda row: row["order_date"]):
        history.setdefault(row["customer_id"], []).append((row["order_date"], row["segment"]))
    changed = {
        customer: days for customer, days in history.items()
        if sum(before[1] != after[1] for before, after in zip(days, days[1:], strict=False)) == 1
    }  # fmt: skip
    assert changed, "the generated data must hold a customer who changes segment"
    customer, days = sorted(changed.items())[0]
    change_date = next(day for day, segment in days if segment != days[0][1])
    facts = gold_rows(
        story.duckdb_path,
        "select f.order_date, c.segment, c.version_number, c.valid_from "
        "from main.fact_sales f join main.dim_customer c using (customer_sk) "
        f"where f.customer_id = '{customer}'",
    )
    assert {(row["segment"], row["version_number"], row["valid_from"]) for row in facts} == {
        (days[0][1], 1, days[0][0]), (days[-1][1], 2, change_date)
    }  # fmt: skip
    assert all((row["order_date"] >= change_date) == (row["version_number"] == 2) for row in facts)


def test_conflicting_values_make_no_versions_and_are_reported(story):
    """Product ids shared by several names at once and cities exported under two
    market labels: one version (the value most lines carry), every competing value
    listed in dq_dimension_conflicts with its row count."""
    silver = story.silver["s1"]
    reported: dict[tuple, dict] = {}
    for row in story.gold["g5"]["dq_dimension_conflicts"]:
        dimension, key, start, _end, values, _kept, rows = row[:7]
        reported.setdefault((dimension, key, start), {})[values] = rows
    expected = {}
    for model, (key, attributes, tracked) in DIMENSIONS.items():
        for (natural_key, start), counts in expected_conflicts(
            silver, key, attributes, tracked
        ).items():
            expected[(model, natural_key, start)] = {
                " | ".join("" if value is None else value for value in values): n
                for values, n in counts.items()
            }
    assert reported == expected
    kinds = Counter(model for model, _key, _start in reported)
    assert kinds["dim_product"] and kinds["dim_store"], f"both shapes must show: {kinds}"
    shared = [key for model, key, _start in reported if model == "dim_product"]
    products = Counter(row[0] for row in _dimension(story, "g5", "dim_product"))
    assert any(products[key] == 1 for key in shared), "names used side by side: no churn"


def test_every_fact_points_to_the_version_valid_on_its_order_date(story):
    """Point in time: each line's customer, product and place versions carry the
    attributes the rules give for its order date (not necessarily the line's own:
    a conflicting value loses to the period's kept one)."""
    joined = gold_rows(
        story.duckdb_path,
        "select f.row_id, f.order_date, f.customer_id, f.product_id, f.store_nk, "
        "c.customer_name, c.segment, p.product_name, s.market, s.region "
        "from main.fact_sales f join main.dim_customer c using (customer_sk) "
        "join main.dim_product p using (product_sk) join main.dim_store s using (store_sk)",
    )
    covering = {model: {} for model in DIMENSIONS}
    for model in DIMENSIONS:
        for version in _expected(story, "s1", model):
            covering[model].setdefault(version[0], []).append(version)

    def at(model: str, key, day, name: str):
        attributes = DIMENSIONS[model][1]
        for version in covering[model].get(key, []):
            if version[-3] <= day < version[-2]:
                return version[1 + attributes.index(name)]
        return "Unknown"

    for row in joined:
        day = row["order_date"]
        assert (row["customer_name"], row["segment"], row["product_name"], row["market"],
                row["region"]) == (
            at("dim_customer", row["customer_id"], day, "customer_name"),
            at("dim_customer", row["customer_id"], day, "segment"),
            at("dim_product", row["product_id"], day, "product_name"),
            at("dim_store", row["store_nk"], day, "market"),
            at("dim_store", row["store_nk"], day, "region"),
        ), row  # fmt: skip
    assert len(joined) == len(live(story.silver["s1"]))


def test_aggregates_by_market_equal_silver_per_market_exactly(story):
    """Market comes from the line: a place labelled two ways, or with no geography,
    never moves sales between markets or to 'Unknown'."""
    silver = live(story.silver["s1"])
    assert any(row["city"] is None for row in silver), "lines without geography exist"
    expected: dict[str, Decimal] = {}
    for row in silver:
        expected[row["market"]] = expected.get(row["market"], Decimal(0)) + row["sales"]
    by_market = gold_rows(
        story.duckdb_path,
        "select market, sum(sales) as sales from main.agg_sales_by_month_market_category "
        "group by market",
    )
    assert {row["market"]: row["sales"] for row in by_market} == expected


def test_a_line_without_category_is_a_conflict_not_a_failure(story):
    """Category is optional in silver: a line without one is outvoted by the product's
    other lines (its version keeps their category) and reported as a conflict; a
    product with no category at all would show 'Unknown' (dim_product)."""
    line = story.uncategorized
    original = next(row for row in story.silver["r2"] if row["row_id"] == line["row_id"])
    shown = gold_rows(
        story.duckdb_path,
        "select p.category from main.fact_sales f join main.dim_product p using (product_sk) "
        f"where f.row_id = {line['row_id']}",
    )
    assert shown == [{"category": original["category"]}]
    conflicts = {
        row[4] for row in story.gold["g5"]["dq_dimension_conflicts"] if row[1] == line["product_id"]
    }
    assert f"{line['product_name']} |  | {line['sub_category']}" in conflicts


def test_a_late_file_rewrites_history_back_in_time(story):
    """Some version starts move earlier when the middle batch arrives after the newest,
    and the result is what the rules give for all rows so far."""
    moved_back = []
    for model in DIMENSIONS:
        starts = {run_id: {} for run_id in ("g1", "g2")}
        for run_id, by_key in starts.items():
            for row in _dimension(story, run_id, model):
                by_key.setdefault(row[0], []).append(row[-3])
        for key, after in starts["g2"].items():
            before = sorted(starts["g1"].get(key, []))
            pairs = zip(before[1:], sorted(after)[1:], strict=False)
            moved_back += [model for old, new in pairs if new < old]
        assert _dimension(story, "g2", model) == _expected(story, "r2", model), model
    assert moved_back, "the late file should move some version starts earlier"


@pytest.mark.parametrize(("incremental", "full"), [("g2", "g4"), ("g5", "g6")])
def test_incremental_build_equals_a_full_rebuild(story, incremental, full):
    for table, rows in story.gold[full].items():
        assert story.gold[incremental][table] == rows, table


def test_rerun_without_new_data_changes_nothing(story):
    assert story.gold["g3"] == story.gold["g2"]


def test_the_late_file_re_derives_exactly_the_keys_it_touched(story):
    """Incremental SCD2: the periods of the customers and products with rows in the
    late file are re-derived by g2; every other key keeps g1's periods untouched;
    the rerun g3 re-derives nothing."""
    late_rows = [row for row in live(story.silver["r2"]) if row["run_id"] == "r2"]
    g1, g2 = story.invocations["g1"], story.invocations["g2"]
    for model, natural_key in (("int_customer_periods", "customer_id"),
                               ("int_product_periods", "product_id")):  # fmt: skip
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
    periods = story.versions["g5"]["int_customer_periods"]
    assert story.vanished not in {key for key, _period_start, _invocation in periods}


def test_soft_deleted_rows_leave_the_fact(story):
    cancelled = {row["row_id"] for row in story.cancelled}
    before = {row[0] for row in story.gold["g4"]["fact_sales"]}
    after = {row[0] for row in story.gold["g5"]["fact_sales"]}
    assert cancelled <= before
    assert not cancelled & after
    assert before - after == cancelled


def test_an_updated_line_moves_to_its_new_place(story):
    row = gold_rows(
        story.duckdb_path,
        "select s.city, s.valid_from, s.valid_to, f.market from main.fact_sales f "
        f"join main.dim_store s using (store_sk) where f.row_id = {story.updated['row_id']}",
    )[0]
    assert (row["city"], row["market"]) == ("Paysandú", "LATAM")
    assert row["valid_from"] <= story.updated["order_date"] < row["valid_to"]


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
    """Every statement either build compiled (the second one renders the incremental
    branches) is Snowflake SQL to sqlglot."""
    compiled = [path for target in ("target", "target-incremental")
                for path in sorted((fakesnow_build / target).rglob("*.sql"))]  # fmt: skip
    assert len(compiled) > 100
    for path in compiled:
        sqlglot.parse(path.read_text(), read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
    second = fakesnow_build / "target-incremental" / "compiled"
    incremental = {p.name: p.read_text() for p in second.rglob("*.sql")}
    assert "written_since_last_run" in incremental["fact_sales.sql"], "incremental fact compiled"
    assert "max(ingested_at)" in incremental["stg_silver__sales.sql"], "incremental staging too"
    for model in ("int_customer_periods", "int_product_periods", "int_store_periods"):
        assert "changed_keys" in incremental[f"{model}.sql"], f"incremental {model} compiled"


def test_incremental_build_on_fakesnow_merges_and_parses(fakesnow_build):
    """The prod target's second build: staging and the fact MERGE, the period models
    DELETE + INSERT, every statement is Snowflake SQL, the new row reaches the fact, the
    soft-deleted one leaves it, and the reader role still holds SELECT on the marts."""
    summary = json.loads((fakesnow_build / "summary.json").read_text())
    kinds = parse_all(incremental_statements(fakesnow_build / "target-incremental"))
    periods = {model: {"delete", "insert"} for model in PERIOD_MODELS}
    assert kinds == {"stg_silver__sales": {"merge"}, "fact_sales": {"merge"}, **periods}
    assert summary["incremental_fact_rows"] == {"inserted": 1, "deleted": 0}
    deleted = summary["incremental_changes"]["deleted_row_id"]
    assert deleted in {row[0] for row in summary["fact_keys"]}, "it was in the first build"
    for grants in (summary["grants"], summary["incremental_grants"]):
        assert "SALES.GOLD.FACT_SALES" in grants
        marts = {name: held for name, held in grants.items() if name.startswith("SALES.GOLD.")}
        assert all(held == [["SELECT", "SALES_READER"]] for held in marts.values()), marts
