"""The toolchain works offline: Spark writes and MERGEs a Delta table that a
second, independent reader (delta-rs via the `deltalake` package) agrees with."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytestmark = pytest.mark.spark


def test_delta_write_merge_read_and_cross_reader(spark, tmp_path):
    from delta.tables import DeltaTable
    from deltalake import DeltaTable as RustDeltaTable

    path = str(tmp_path / "smoke")
    schema = "row_id INT, sales DECIMAL(18,4)"
    spark.createDataFrame([(1, Decimal("10.5000")), (2, Decimal("20.0000"))], schema).write.format(
        "delta"
    ).save(path)

    updates = spark.createDataFrame([(2, Decimal("25.2500")), (3, Decimal("7.0100"))], schema)
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(updates.alias("s"), "t.row_id = s.row_id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )

    by_spark = {r.row_id: r.sales for r in spark.read.format("delta").load(path).collect()}
    assert by_spark == {1: Decimal("10.5"), 2: Decimal("25.25"), 3: Decimal("7.01")}

    rust_table = RustDeltaTable(path)
    assert rust_table.version() == 1
    by_rust = dict(zip(*rust_table.to_pyarrow_table().to_pydict().values(), strict=True))
    assert by_rust == by_spark


def test_session_uses_local_jars_and_loopback(spark):
    conf = spark.sparkContext.getConf()
    jars = conf.get("spark.jars").split(",")
    assert all(j.endswith(".jar") and "/.cache/jars/" in j for j in jars)
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.jars.packages", None) is None
