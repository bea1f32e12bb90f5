"""Run the dbt task's prod path (key-pair profile, stage_silver_tables, dbt build)
against fakesnow, in a process of its own.

    python tests/dbt_project/fakesnow_dbt_task.py <silver lake folder> <work folder>

fakesnow patches `snowflake.connector.connect` in this process, so dbt-snowflake runs
in-process (the entry point is executed with runpy). The silver tables are created as
plain tables holding the lake's silver rows, with the lower-case quoted column names
Delta Direct tables have; the Iceberg DDL is skipped (nop) as fakesnow cannot run it.
Afterwards `dbt compile` renders the incremental branch of fact_sales for sqlglot, and
a summary of the built gold tables is written to <work>/summary.json.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO_ROOT / "dbt" / "entrypoint.py"
ICEBERG_DDL = [r"^\s*create iceberg table", r"^\s*alter iceberg table"]
SNOWFLAKE_TYPES = {
    "BIGINT": "bigint", "STRING": "varchar", "DATE": "date", "INT": "integer",
    "TIMESTAMP": "timestamp_ntz", "BOOLEAN": "boolean", "ARRAY<STRING>": "array",
}  # fmt: skip


def pem_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def column_type(spark_type: str) -> str:
    if spark_type.startswith("DECIMAL"):
        return "number" + spark_type[7:]
    return SNOWFLAKE_TYPES[spark_type]


def literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, list):
        return "array_construct(" + ", ".join(literal(item) for item in value) + ")"
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None).isoformat(sep=" ")
    elif isinstance(value, date):
        value = value.isoformat()
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def create_silver_table(cursor, name: str, columns, rows: list[dict]) -> None:
    ddl = ", ".join(f'"{column}" {column_type(type_)}' for column, type_, _n in columns)
    cursor.execute(f"create table silver.{name} ({ddl})")
    names = [column for column, _t, _n in columns]
    for start in range(0, len(rows), 500):
        values = ", ".join(
            "(" + ", ".join(literal(row[column]) for column in names) + ")"
            for row in rows[start : start + 500]
        )
        cursor.execute(f"insert into silver.{name} select * from (values {values})")


def summarize(cursor) -> dict:
    def one(sql: str) -> list:
        cursor.execute(sql)
        return [list(row) for row in cursor.fetchall()]

    return {
        "fact": one("select count(*), sum(sales), sum(profit) from gold.fact_sales")[0],
        "customer_versions": one(
            "select customer_sk, customer_id, city, valid_from, valid_to, is_current "
            "from gold.dim_customer order by customer_sk"
        ),
        "product_sks": one("select product_sk from gold.dim_product order by product_sk"),
        "store_sks": one("select store_sk from gold.dim_store order by store_sk"),
        "fact_keys": one(
            "select row_id, customer_sk, product_sk, store_sk, order_date_key "
            "from gold.fact_sales order by row_id"
        ),
        "dq": one("select run_id, reason_code, records from gold.dq_quarantine_by_run_reason"),
    }


def main(lake: Path, work: Path) -> int:
    import fakesnow
    import snowflake.connector
    from deltalake import DeltaTable
    from sales_lake.schema import QUARANTINE_COLUMNS, SALES_COLUMNS

    os.environ.update(
        DBT_TARGET="prod", RUN_ID="fakesnow-1", LAKE_URI=(work / "lake").as_uri(),
        DBT_TARGET_PATH=str(work / "target"), SNOWFLAKE_ACCOUNT="fakesnow",
        SNOWFLAKE_USER="dbt_svc", SNOWFLAKE_PRIVATE_KEY=pem_private_key(),
        SNOWFLAKE_ROLE="SALES_DBT", SNOWFLAKE_WAREHOUSE="SALES_DBT_WH",
        SNOWFLAKE_DATABASE="SALES", SNOWFLAKE_SCHEMA="GOLD",
    )  # fmt: skip
    with fakesnow.patch(nop_regexes=ICEBERG_DDL):
        cursor = snowflake.connector.connect(database="SALES", schema="SILVER").cursor()
        for name, columns in (("sales", SALES_COLUMNS), ("quarantine", QUARANTINE_COLUMNS)):
            rows = DeltaTable(str(lake / "silver" / name)).to_pyarrow_table().to_pylist()
            create_silver_table(cursor, name, columns, rows)

        sys.argv = [str(ENTRYPOINT)]
        try:
            runpy.run_path(str(ENTRYPOINT), run_name="__main__")
            exit_code = 0
        except SystemExit as stop:
            exit_code = int(stop.code or 0)
        if exit_code:
            return exit_code

        from dbt.cli.main import dbtRunner  # dbt-core

        compiled = dbtRunner().invoke(
            [
                "compile",
                "--select",
                "fact_sales",
                "--project-dir",
                str(ENTRYPOINT.parent),
                "--profiles-dir",
                str(ENTRYPOINT.parent),
            ]  # fmt: skip
        )
        summary = summarize(cursor)
        summary["compiled_incremental"] = compiled.success
    (work / "summary.json").write_text(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
