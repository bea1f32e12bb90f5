"""Fixtures of the gold-layer tests (helpers live in gold_helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dbt_env(tmp_path_factory) -> dict[str, str]:
    """A private lake folder, DuckDB file and dbt target folder for one test module."""
    root = tmp_path_factory.mktemp("gold")
    lake = root / "s3" / "lake-bucket"
    lake.mkdir(parents=True)
    return {
        "DBT_TARGET": "local",
        "LAKE_URI": lake.as_uri(),
        "DUCKDB_PATH": str(root / "gold.duckdb"),
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "LAKE_PATH": str(lake),
    }
