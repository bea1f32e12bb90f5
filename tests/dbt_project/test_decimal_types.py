"""dbt's copies of silver's decimal types equal their owner, glue_jobs/sales_lake/schema.py."""

from __future__ import annotations

import re

import yaml
from sales_lake.schema import MONEY, RATE

from local_twin.paths import REPO_ROOT


def _normal(type_: str) -> str:
    return re.sub(r"\s+", "", type_).upper()


def test_gold_casts_to_silvers_exact_types():
    project = yaml.safe_load((REPO_ROOT / "dbt" / "dbt_project.yml").read_text())
    assert _normal(project["vars"]["money_type"]) == MONEY
    assert _normal(project["vars"]["rate_type"]) == RATE
    staging = (REPO_ROOT / "dbt" / "models" / "staging" / "stg_silver__sales.sql").read_text()
    assert not re.search(r"decimal\(", staging, re.IGNORECASE), "staging casts via the vars"
