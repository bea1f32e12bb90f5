"""The one silver Glue job's entry script (glue_jobs/to_silver.py): --source_kind picks
the loader; the loaders never see the argument; a missing or unknown kind says what to pass.
(The stream rerun in test_stream_to_silver.py runs the script's main end to end.)"""

from __future__ import annotations

import pytest

from glue_jobs import to_silver


def test_source_kind_is_taken_out_of_the_glue_arguments():
    argv = ["to_silver.py", "--JOB_NAME", "j", "--source_kind", "stream", "--run_id", "r1"]
    assert to_silver.split_source_kind(argv) == (
        "stream",
        ["to_silver.py", "--JOB_NAME", "j", "--run_id", "r1"],
    )
    assert to_silver.split_source_kind(["x", "--source_kind=batch", "--lake_uri", "l"]) == (
        "batch",
        ["x", "--lake_uri", "l"],
    )


@pytest.mark.parametrize(
    "argv",
    [["x", "--run_id", "r1"], ["x", "--source_kind", "csv"], ["x", "--source_kind"]],
)
def test_missing_or_unknown_source_kind_names_the_choices(argv):
    with pytest.raises(to_silver.SourceKindError, match=r"--source_kind .*\['batch', 'stream'\]"):
        to_silver.split_source_kind(argv)


def test_each_kind_runs_its_loader():
    batch, stream = to_silver.loader("batch"), to_silver.loader("stream")
    assert (batch.__module__, batch.__name__) == ("batch_to_silver", "run_batch")
    assert (stream.__module__, stream.__name__) == ("stream_to_silver", "run_stream")


def test_run_silver_hands_the_loader_its_own_arguments(monkeypatch):
    seen = []
    monkeypatch.setattr(to_silver, "loader", lambda kind: lambda spark, args: seen.append(
        (kind, spark, args)) or {"ok": True})  # fmt: skip
    args = {"source_kind": "stream", "run_id": "r1", "lake_uri": "file:///l"}
    assert to_silver.run_silver("spark", args) == {"ok": True}
    assert seen == [("stream", "spark", {"run_id": "r1", "lake_uri": "file:///l"})]
