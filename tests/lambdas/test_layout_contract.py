"""The trigger's copies of the key layout are the owner's (glue_jobs/sales_lake/lake_layout.py).

The trigger Lambda ships alone (its asset is lambdas/trigger/), so it cannot import the
library and keeps copies of what it must agree on with the job and the stack: which
keys are batch and stream input, and where manifests go. A drifted copy would start
executions for objects nobody grants the job (or ignore ones it should load).
"""

from __future__ import annotations

import re
import sys

import pytest
from sales_lake import lake_layout

from local_twin.paths import LAMBDAS_DIR

sys.path.insert(0, str(LAMBDAS_DIR / "trigger"))
import pipeline_objects  # noqa: E402

COPIED = (
    "BATCH_LANDING_PREFIX",
    "BATCH_FILE_SUFFIXES",
    "STREAM_TOPICS_PREFIX",
    "STREAM_FILE_KEY",
    "MANIFESTS_PREFIX",
)


@pytest.mark.parametrize("name", COPIED)
def test_the_trigger_copy_equals_the_owner(name):
    assert getattr(pipeline_objects, name) == getattr(lake_layout, name), (
        f"lambdas/trigger/pipeline_objects.py {name} drifted from "
        f"glue_jobs/sales_lake/lake_layout.py {name}: copy the owner's value"
    )


def test_the_trigger_writes_manifests_where_the_layout_says():
    assert pipeline_objects.manifest_key("run-1") == lake_layout.manifest_key("run-1")
    assert lake_layout.manifest_key("run-1").startswith(lake_layout.MANIFESTS_PREFIX)


def test_the_stream_file_pattern_lives_under_the_topics_prefix():
    key = f"{lake_layout.STREAM_TOPICS_PREFIX}t/year=2026/t+0+0000000042.json"
    assert re.match(lake_layout.STREAM_FILE_KEY, key)
    assert lake_layout.STREAM_FILE_KEY.startswith("^" + re.escape(lake_layout.STREAM_TOPICS_PREFIX))


def test_the_trigger_takes_exactly_the_layout_input_keys():
    batch = lake_layout.BATCH_LANDING_PREFIX + "orders.CSV.gz"
    stream = lake_layout.STREAM_TOPICS_PREFIX + "t/year=2026/t+3+0000000007.json"
    kinds = {kind.name: kind.accepts for kind in pipeline_objects.INPUT_KINDS}
    assert kinds["batch"](batch) and not kinds["batch"](stream)
    assert kinds["stream"](stream) and not kinds["stream"](batch)
    assert not kinds["batch"]("landing/other/orders.csv")
