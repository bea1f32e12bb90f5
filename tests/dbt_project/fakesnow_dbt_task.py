"""Run the dbt task's prod path (key-pair profile, stage_silver_tables, dbt build)
against fakesnow, in a process of its own.

    python tests/dbt_project/fakesnow_dbt_task.py <silver lake folder> <work folder>

fakesnow patches `snowflake.connector.connect` in this process, so dbt-snowflake runs
in-process (the entry point is executed with runpy). The silver tables are created as
plain tables holding the lake's silver rows, with the lower-case quoted column names
Delta Direct tables have; the Iceberg DDL is skipped (nop) as fakesnow cannot run it.
Afterwards `dbt compile` renders the incremental branches (staging, SCD2 versions, fact)
for sqlglot, and a summary of the built gold tables is written to <work>/summary.json.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO_ROOT / "dbt" / "entrypoint.py"
INCREMENTAL_MODELS = (
    "stg_silver__sales",
    "int_customer_versions",
    "int_product_versions",
    "int_store_versions",
    "fact_sales",
)
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


def plain(value):
    """Values DuckDB's DataFrame scan types per column, not per first value: decimals as
    text (else the first value's precision is inferred), timestamps without zone."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def create_silver_table(connection, name: str, columns, rows: list[dict]) -> None:
    """Create the table with Delta's lower-case names, then bulk-insert the rows through
    write_pandas (fakesnow hands the frame straight to DuckDB; SQL VALUES would go
    through sqlglot statement by statement, minutes for a few thousand rows)."""
    import pandas as pd
    from snowflake.connector.pandas_tools import write_pandas

    ddl = ", ".join(f'"{column}" {column_type(type_)}' for column, type_, _n in columns)
    connection.cursor().execute(f"create table silver.{name} ({ddl})")
    names = [column for column, _t, _n in columns]
    frame = pd.DataFrame([{key: plain(value) for key, value in row.items()} for row in rows],
                         columns=names)  # fmt: skip
    write_pandas(connection, frame, name, schema="SILVER", quote_identifiers=True)


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


def log(message: str, started: float) -> None:
    print(f"fakesnow task: {message} after {time.perf_counter() - started:.1f}s", file=sys.stderr)


def main(lake: Path, work: Path) -> int:
    started = time.perf_counter()
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
        connection = snowflake.connector.connect(database="SALES", schema="SILVER")
        for name, columns in (("sales", SALES_COLUMNS), ("quarantine", QUARANTINE_COLUMNS)):
            rows = DeltaTable(str(lake / "silver" / name)).to_pyarrow_table().to_pylist()
            create_silver_table(connection, name, columns, rows)
        log("silver loaded", started)

        # the task's run_task in this process (fakesnow patches only it); not as
        # __main__, whose exit skips the interpreter's teardown (os._exit)
        run_task = runpy.run_path(str(ENTRYPOINT))["run_task"]
        exit_code = run_task([], dict(os.environ))
        log(f"dbt task exited {exit_code}", started)
        if exit_code:
            return exit_code

        from dbt.cli.main import dbtRunner  # dbt-core

        compiled = dbtRunner().invoke(
            [
                "compile",
                "--select",
                *INCREMENTAL_MODELS,
                "--project-dir",
                str(ENTRYPOINT.parent),
                "--profiles-dir",
                str(ENTRYPOINT.parent),
            ]  # fmt: skip
        )
        summary = summarize(connection.cursor())
        summary["compiled_incremental"] = compiled.success
        log("compiled and summarized", started)
    (work / "summary.json").write_text(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
