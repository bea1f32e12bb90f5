"""Helpers of the gold-layer tests: run the dbt task the way the ECS task (and the
twin's ECS hook) runs it, read silver and gold back, and derive the expected SCD2
history independently of the SQL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
from deltalake import DeltaTable

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO_ROOT / "dbt" / "entrypoint.py"
END_OF_TIME = date(9999, 12, 31)

GOLD_TABLES = (
    "dim_customer",
    "dim_product",
    "dim_store",
    "dim_date",
    "fact_sales",
    "agg_sales_by_month_market_category",
    "agg_customer_summary",
    "dq_quarantine_by_run_reason",
    "dq_dimension_conflicts",
)
# The dimensions' attributes and tracked attributes, as dbt/macros/scd2_dimensions.sql
# and the var scd2_track_history_on in dbt/dbt_project.yml define them (a test holds
# these copies to the dbt project).
CUSTOMER_ATTRIBUTES = ("customer_name", "segment")
PRODUCT_ATTRIBUTES = ("product_name", "category", "sub_category")
STORE_ATTRIBUTES = ("country", "state", "city", "postal_code", "market", "region")
STORE_TRACKED = ("market", "region")


def run_dbt_task(env: dict[str, str], *dbt_args: str) -> subprocess.CompletedProcess:
    """`python dbt/entrypoint.py` as a subprocess, as the twin's ECS hook runs it."""
    return subprocess.run(
        [sys.executable, str(ENTRYPOINT), *dbt_args],
        cwd=ENTRYPOINT.parent,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def gold_snapshot(duckdb_path: Path) -> dict[str, list[tuple]]:
    """Every gold table's content, sorted, so two builds compare with ==."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return {
            table: sorted(connection.sql(f"select * from main.{table}").fetchall(), key=_sort_key)
            for table in GOLD_TABLES
        }


PERIOD_MODELS = {
    "int_customer_periods": "customer_id",
    "int_product_periods": "product_id",
    "int_store_periods": "store_nk",
}


def version_lineage(duckdb_path: Path) -> dict[str, set]:
    """(natural key, period_start, derived_by_invocation) of every SCD2 period model:
    which build derived which keys."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return {
            model: set(
                connection.sql(
                    f"select {key}, period_start, derived_by_invocation from main.{model}"
                ).fetchall()
            )
            for model, key in PERIOD_MODELS.items()
        }


def gold_rows(duckdb_path: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        relation = connection.sql(sql)
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in row)


def silver_rows(lake: Path) -> list[dict]:
    """silver/sales as the delta-rs reader sees it (the latest snapshot)."""
    return DeltaTable(str(lake / "silver" / "sales")).to_pyarrow_table().to_pylist()


def live(rows: list[dict]) -> list[dict]:
    return [row for row in rows if not row["is_deleted"]]


def _postal(value: str | None) -> str | None:
    """Staging's postal code: trimmed, blank as null."""
    return (value or "").strip() or None


def store_nk(row: dict) -> str | None:
    """The place's natural key as staging computes it (macro surrogate_key over country,
    state, city and the trimmed postal code); None when no part of the place is known."""
    parts = [row["country"], row["state"], row["city"], _postal(row["postal_code"])]
    if parts[0] is None and parts[1] is None and parts[2] is None:
        return None
    text = "|".join("~null~" if part is None else part for part in parts)
    return hashlib.md5(text.encode()).hexdigest()


def _by_value(values: tuple) -> tuple:
    """Ascending by value, nulls last (the SQL tie-break)."""
    return tuple((value is None, value or "") for value in values)


def _best(candidates: dict[tuple, list]) -> tuple:
    """The attribute set most rows carry; ties: the most recently ingested, then by value."""
    return min(candidates, key=lambda values: (-candidates[values][0],
                                               _negated(candidates[values][1]),
                                               _by_value(values)))  # fmt: skip


def _negated(moment) -> float:
    return -moment.timestamp()


def expected_periods(rows, natural_key, attributes, tracked, window_days=365) -> dict:
    """The SCD2 rules of docs/gold.md in Python, independent of the SQL: per key,
    [(period_start, {attribute set: [rows, last ingested]}), ...] in date order."""
    tracked_at = [attributes.index(name) for name in tracked]
    window = timedelta(days=window_days)
    days: dict = defaultdict(lambda: defaultdict(dict))  # key -> date -> values -> [n, t]
    for row in live(rows):
        key = store_nk(row) if natural_key == "store_nk" else row[natural_key]
        if key is None:
            continue
        values = tuple(_postal(row[name]) if name == "postal_code" else row[name]
                       for name in attributes)  # fmt: skip
        seen = days[key][row["order_date"]].setdefault(values, [0, row["ingested_at"]])
        seen[0] += 1
        seen[1] = max(seen[1], row["ingested_at"])
    periods = {}
    for key, by_day in days.items():
        sightings = defaultdict(set)  # tracked values -> days seen
        for day, candidates in by_day.items():
            for values in candidates:
                sightings[tuple(values[i] for i in tracked_at)].add(day)
        key_periods, previous = [], None
        for day in sorted(by_day):
            winner = tuple(_best(by_day[day])[i] for i in tracked_at)
            confirmed = previous is None or (
                winner != previous
                and not any(day < seen <= day + window for seen in sightings[previous])
                and not any(day - window <= seen < day for seen in sightings[winner])
            )
            if confirmed:
                key_periods.append((day, {}))
            counts = key_periods[-1][1]
            for values, (n, moment) in by_day[day].items():
                total = counts.setdefault(values, [0, moment])
                total[0] += n
                total[1] = max(total[1], moment)
            previous = winner
        periods[key] = key_periods
    return periods


def expected_versions(rows, natural_key, attributes, tracked, window_days=365) -> set:
    """(key, *attributes, valid_from, valid_to, is_current) of every version: runs of
    periods whose kept tracked values differ; untracked attributes show the latest
    kept value."""
    tracked_at = [attributes.index(name) for name in tracked]
    versions = set()
    for key, key_periods in expected_periods(
        rows, natural_key, attributes, tracked, window_days
    ).items():
        kept = [(start, _best(counts)) for start, counts in key_periods]
        latest = kept[-1][1]
        starts = []
        for start, values in kept:
            tracked_values = [values[i] for i in tracked_at]
            if not starts or [starts[-1][1][i] for i in tracked_at] != tracked_values:
                starts.append((start, values))
        for index, (valid_from, values) in enumerate(starts):
            shown = tuple(values[i] if i in tracked_at else latest[i] for i in range(len(values)))
            valid_to = starts[index + 1][0] if index + 1 < len(starts) else END_OF_TIME
            versions.add((key, *shown, valid_from, valid_to, valid_to == END_OF_TIME))
    return versions


def expected_conflicts(rows, natural_key, attributes, tracked, window_days=365) -> dict:
    """{(key, period_start): {attribute set: rows}} of the periods with competing values."""
    return {
        (key, start): {values: n for values, (n, _moment) in counts.items()}
        for key, key_periods in expected_periods(
            rows, natural_key, attributes, tracked, window_days
        ).items()
        for start, counts in key_periods
        if len(counts) > 1
    }
