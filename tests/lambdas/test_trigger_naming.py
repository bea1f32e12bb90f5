"""Execution naming and input classification: the pure rules of the trigger function."""

from __future__ import annotations

import re
import sys

from local_twin.paths import LAMBDAS_DIR

sys.path.insert(0, str(LAMBDAS_DIR / "trigger"))
from pipeline_objects import (  # noqa: E402
    S3ObjectRef,
    execution_name,
    group_into_executions,
    kind_of,
    why_ignored,
)

A = S3ObjectRef("raw", "landing/sales/orders 2012.csv", version_id="v1", size=10)
B = S3ObjectRef("raw", "landing/sales/orders 2013.csv", version_id="v1", size=10)


def test_name_is_deterministic_and_order_independent():
    assert execution_name("batch", [A, B]) == execution_name("batch", [B, A, A])


def test_name_changes_with_version_or_etag():
    newer = S3ObjectRef(A.bucket, A.key, version_id="v2", size=10)
    by_etag = S3ObjectRef(A.bucket, A.key, etag="abc", size=10)
    names = {execution_name("batch", [o]) for o in (A, newer, by_etag)}
    assert len(names) == 3


def test_name_is_a_valid_step_functions_name_even_for_long_odd_keys():
    odd = S3ObjectRef("raw", "landing/sales/" + "Ünïcødé & spaces " * 10 + ".csv", etag="x")
    name = execution_name("batch", [odd, A])
    assert re.fullmatch(r"[0-9A-Za-z_-]{1,80}", name), name
    assert name.startswith("batch-")


def test_grouping_is_per_kind_and_chunked():
    stream = S3ObjectRef("raw", "topics/sales/year=2026/month=11/sales+3+0000000100.json")
    many = [S3ObjectRef("raw", f"landing/sales/{i}.csv") for i in range(5)]
    groups = group_into_executions([*many, stream], max_objects=2)
    assert [(g.kind, len(g.objects)) for g in groups] == [
        ("batch", 2),
        ("batch", 2),
        ("batch", 1),
        ("stream", 1),
    ]
    assert len({g.name for g in groups}) == 4


def test_a_key_written_twice_in_one_batch_is_processed_once_at_its_latest_version():
    old = S3ObjectRef("raw", "landing/sales/a.csv", version_id="v1", sequencer="0A")
    new = S3ObjectRef("raw", "landing/sales/a.csv", version_id="v2", sequencer="0FF")
    for batch in ([old, new], [new, old]):
        [group] = group_into_executions(batch)
        assert group.objects == (new,)
    no_order = S3ObjectRef("raw", "landing/sales/a.csv", version_id="v3")
    [group] = group_into_executions([old, no_order])  # no sequencer: the one seen last
    assert group.objects == (no_order,)


def test_classification():
    assert kind_of(S3ObjectRef("raw", "landing/sales/x.CSV")) == "batch"
    assert kind_of(S3ObjectRef("raw", "topics/sales/partition=0/sales+0+0000000000.json")) == (
        "stream"
    )
    assert kind_of(S3ObjectRef("raw", "topics/sales/partition=0/sales+0+12.json")) is None
    assert why_ignored(S3ObjectRef("raw", "landing/sales/", size=0)) == "folder_marker"
    assert why_ignored(S3ObjectRef("raw", "landing/sales/x.csv", size=0)) == "zero_bytes"
    assert why_ignored(S3ObjectRef("raw", "landing/x.csv", size=5)) == "unknown_prefix_or_suffix"
    assert why_ignored(A) is None
