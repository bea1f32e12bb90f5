"""The silver Delta tables in the Glue Data Catalog, so Athena (and Lake Formation) can
query `silver.sales` and `silver.quarantine` by name.

The job reads and writes the tables by S3 path; the catalog only points at them. A
Delta table is registered the way Athena's own `CREATE EXTERNAL TABLE ... TBLPROPERTIES
('table_type'='DELTA')` registers it: a location and `table_type = DELTA`, no columns
(Athena and Spark read the schema from the Delta log, so it never drifts from the
data). CDK creates them (cdk/processing.py) and the twin registers the same in moto
(local_twin/provision.py): this module has no CDK import, so the twin can use it.
"""

from __future__ import annotations

from sales_lake.lake_layout import QUARANTINE_TABLE, SALES_TABLE

DATABASE_NAME_PREFIX = "sales_silver"
# table name in the catalog -> its key prefix in the lake bucket
TABLES = {"sales": SALES_TABLE, "quarantine": QUARANTINE_TABLE}


def database_name(env_name: str) -> str:
    return f"{DATABASE_NAME_PREFIX}_{env_name.replace('-', '_')}"


def table_input(name: str, lake_uri: str) -> dict:
    """Glue's TableInput for silver table `name` (a key of TABLES) under `lake_uri`."""
    return {
        "Name": name,
        "Description": f"Delta table {TABLES[name]} of the sales lakehouse (schema in its log)",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "table_type": "DELTA",
            "classification": "delta",
            "spark.sql.sources.provider": "delta",
            "EXTERNAL": "TRUE",
        },
        "StorageDescriptor": {"Location": f"{lake_uri}/{TABLES[name]}/"},
    }
