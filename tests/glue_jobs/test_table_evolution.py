"""Silver tables made by an earlier version: added columns arrive, changed types refuse."""

from __future__ import annotations

import pytest
from sales_lake import delta_tables
from sales_lake.schema import SALES_COLUMNS, ddl

pytestmark = pytest.mark.spark

BEFORE_RESCUE = tuple(c for c in SALES_COLUMNS if c[0] != "rescued_data")


def _create(spark, path, columns):
    spark.createDataFrame([], ddl(columns)).write.format("delta").save(path)


def test_a_table_without_rescued_data_gains_it_and_keeps_its_protocol(spark, tmp_path):
    path = str(tmp_path / "sales")
    _create(spark, path, BEFORE_RESCUE)
    delta_tables.ensure_table(spark, path, SALES_COLUMNS)
    table = spark.read.format("delta").load(path)
    assert table.columns[-1] == "rescued_data"
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    assert (detail.minReaderVersion, detail.minWriterVersion) == (1, 2)


def test_money_kept_at_four_decimals_refuses_with_how_to_rebuild(spark, tmp_path):
    path = str(tmp_path / "sales")
    old = tuple((n, "DECIMAL(18,4)" if t.startswith("DECIMAL(18") else t, nullable)
                for n, t, nullable in BEFORE_RESCUE)  # fmt: skip
    _create(spark, path, old)
    with pytest.raises(delta_tables.TableSchemaError) as refused:
        delta_tables.ensure_table(spark, path, SALES_COLUMNS)
    message = str(refused.value)
    assert "sales is DECIMAL(18,4), the contract says DECIMAL(18,10)" in message
    assert "fix: rebuild silver from bronze" in message
