"""Helpers of the gold-layer tests: run the dbt task the way the ECS task (and the
twin's ECS hook) runs it, read silver and gold back, and derive the expected SCD2
history independently of the SQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
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
)
CUSTOMER_ATTRIBUTES = (
    "customer_name", "segment", "city", "state", "country", "postal_code", "market", "region",
)  # fmt: skip
PRODUCT_ATTRIBUTES = ("product_name", "category", "sub_category")


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


VERSION_MODELS = {
    "int_customer_versions": "customer_id",
    "int_product_versions": "product_id",
    "int_store_versions": "store_nk",
}


def version_lineage(duckdb_path: Path) -> dict[str, set]:
    """(natural key, valid_from, derived_by_invocation) of every SCD2 version model:
    which build derived which versions."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return {
            model: set(
                connection.sql(
                    f"select {key}, valid_from, derived_by_invocation from main.{model}"
                ).fetchall()
            )
            for model, key in VERSION_MODELS.items()
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


def _blank_to_none(value):
    return None if isinstance(value, str) and not value.strip() else value


def expected_versions(rows: list[dict], natural_key: str, attributes: tuple[str, ...]) -> set:
    """SCD2 by order date, computed in Python from the rules in docs/gold.md: per key
    and day the attributes of the highest row_id; a version starts when they differ
    from the previous order day's; valid_to is the next start (or 9999-12-31)."""
    daily: dict[str, dict[date, tuple[int, tuple]]] = defaultdict(dict)
    for row in live(rows):
        values = tuple(
            _blank_to_none(row[name]) if name == "postal_code" else row[name] for name in attributes
        )
        day = daily[row[natural_key]]
        current = day.get(row["order_date"])
        if current is None or row["row_id"] > current[0]:
            day[row["order_date"]] = (row["row_id"], values)
    versions = set()
    for key, days in daily.items():
        starts: list[tuple[date, tuple]] = []
        for order_date in sorted(days):
            values = days[order_date][1]
            if not starts or starts[-1][1] != values:
                starts.append((order_date, values))
        for index, (valid_from, values) in enumerate(starts):
            valid_to = starts[index + 1][0] if index + 1 < len(starts) else END_OF_TIME
            versions.add((key, *values, valid_from, valid_to, valid_to == END_OF_TIME))
    return versions
