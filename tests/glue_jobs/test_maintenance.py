"""Maintenance compacts a table of many small files into few with the same rows, and its
vacuum keeps what the table's retention protects (time travel to the first version works)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F
from sales_lake.maintenance import maintain

pytestmark = pytest.mark.spark


def test_many_small_files_become_few_with_the_same_rows(spark, tmp_path):
    lake = tmp_path / "lake"
    path = str(lake / "silver" / "sales")
    for k in range(5):  # five appends: five small files, as small runs leave them
        rows = spark.range(k * 10, k * 10 + 10).withColumn("v", F.col("id") * 2)
        rows.coalesce(1).write.format("delta").mode("append").save(path)
    before = sorted(spark.read.format("delta").load(path).collect())

    done = maintain(spark, lake.as_uri())

    sales = done["silver/sales"]
    assert sales["files_before"] == 5 and sales["files_after"] == 1
    assert sorted(spark.read.format("delta").load(path).collect()) == before
    assert done["silver/quarantine"] == {"skipped": "no Delta table yet"}
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    assert "OPTIMIZE" in {h.operation for h in history}
    # The retention (Delta's default here, 7 days) protects every version: the first reads.
    assert spark.read.format("delta").option("versionAsOf", 0).load(path).count() == 10


def test_twin_maintain_runs_the_same_maintenance_on_the_workspace(spark, tmp_path, capsys):
    from local_twin.cli import main as twin_cli

    assert twin_cli(["maintain", "--workspace", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    assert "silver/sales: no Delta table yet" in out and "silver/quarantine: " in out
