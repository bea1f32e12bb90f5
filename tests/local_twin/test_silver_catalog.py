"""The silver Delta tables are in the Glue Data Catalog of the twin as CDK declares them
(cdk/silver_catalog.py): a location and table_type DELTA, read back through Glue's API."""

from __future__ import annotations

import boto3

from cdk import silver_catalog
from local_twin.aws_hooks import REGION
from local_twin.twin import Twin
from local_twin.workspace import LAKE_BUCKET, Workspace


def test_the_twin_registers_silver_sales_and_quarantine_as_delta_tables(tmp_path):
    with Twin(Workspace.at(tmp_path), glue_runner=lambda n, a: None, ecs_runner=lambda s: 0):
        glue = boto3.client("glue", region_name=REGION)
        database = silver_catalog.database_name("local")
        tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert set(tables) == {"sales", "quarantine"}
    for name, key in (("sales", "silver/sales"), ("quarantine", "silver/quarantine")):
        table = tables[name]
        assert table["Parameters"]["table_type"] == "DELTA"
        assert table["StorageDescriptor"]["Location"] == f"s3://{LAKE_BUCKET}/{key}/"
        assert not table["StorageDescriptor"].get("Columns")  # the schema is the Delta log's
