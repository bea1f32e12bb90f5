"""The one silver Glue job's entry (glue_jobs/to_silver.py -> sales_lake.silver_run):
--source_kind picks the loader; the loaders never see the argument; a missing or unknown
kind says what to pass. (The stream rerun in test_stream_to_silver.py runs the script's
main end to end.)"""

from __future__ import annotations

import pytest
from sales_lake import silver_run
from sales_lake.batch import loader as batch_loader
from sales_lake.stream import loader as stream_loader


def test_source_kind_is_taken_out_of_the_glue_arguments():
    argv = ["to_silver.py", "--JOB_NAME", "j", "--source_kind", "stream", "--run_id", "r1"]
    assert silver_run.split_source_kind(argv) == (
        "stream",
        ["to_silver.py", "--JOB_NAME", "j", "--run_id", "r1"],
    )
    assert silver_run.split_source_kind(["x", "--source_kind=batch", "--lake_uri", "l"]) == (
        "batch",
        ["x", "--lake_uri", "l"],
    )


@pytest.mark.parametrize(
    "argv",
    [["x", "--run_id", "r1"], ["x", "--source_kind", "csv"], ["x", "--source_kind"]],
)
def test_missing_or_unknown_source_kind_names_the_choices(argv):
    with pytest.raises(silver_run.SourceKindError, match=r"--source_kind .*\['batch', 'stream'\]"):
        silver_run.split_source_kind(argv)


def test_each_kind_runs_its_loader():
    assert silver_run.loader("batch") is batch_loader
    assert silver_run.loader("stream") is stream_loader
    assert (batch_loader.JOB, stream_loader.JOB) == ("batch_to_silver", "stream_to_silver")


def test_run_silver_hands_the_loader_its_own_arguments(monkeypatch):
    seen = []
    monkeypatch.setattr(silver_run, "run", lambda spark, chosen, args: seen.append(
        (chosen, spark, args)) or {"ok": True})  # fmt: skip
    args = {"source_kind": "stream", "run_id": "r1", "lake_uri": "file:///l"}
    assert silver_run.run_silver("spark", args) == {"ok": True}
    assert seen == [(stream_loader, "spark", {"run_id": "r1", "lake_uri": "file:///l"})]
