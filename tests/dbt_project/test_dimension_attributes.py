"""The gold tests' copies of the dimensions' attributes (gold_helpers) equal their
owner, the dbt project: macro scd2_dimensions and var scd2_track_history_on."""

from __future__ import annotations

import re

import yaml

from local_twin.paths import REPO_ROOT
from tests.dbt_project.gold_helpers import (
    CUSTOMER_ATTRIBUTES,
    PRODUCT_ATTRIBUTES,
    STORE_ATTRIBUTES,
    STORE_TRACKED,
)

COPIES = {  # model: (attributes, tracked)
    "dim_customer": (CUSTOMER_ATTRIBUTES, CUSTOMER_ATTRIBUTES),
    "dim_product": (PRODUCT_ATTRIBUTES, PRODUCT_ATTRIBUTES),
    "dim_store": (STORE_ATTRIBUTES, STORE_TRACKED),
}


def test_the_tests_know_each_dimensions_attributes_and_tracked_list():
    macro = (REPO_ROOT / "dbt" / "macros" / "scd2_dimensions.sql").read_text()
    owner = {
        model: tuple(re.findall(r"'(\w+)'", attributes))
        for model, attributes in re.findall(
            r"'model': '(\w+)'.*?'attributes': \[([^\]]*)\]", macro, re.DOTALL
        )
    }
    tracked = yaml.safe_load((REPO_ROOT / "dbt" / "dbt_project.yml").read_text())["vars"][
        "scd2_track_history_on"
    ]
    assert owner == {model: attributes for model, (attributes, _t) in COPIES.items()}
    assert {model: tuple(names) for model, names in tracked.items()} == {
        model: names for model, (_a, names) in COPIES.items()
    }
