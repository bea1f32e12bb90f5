"""Run the dbt task's prod path (key-pair profile, stage_silver_tables, dbt build)
against fakesnow, in a process of its own.

    python tests/dbt_project/fakesnow_dbt_task.py <silver lake folder> <work folder>

fakesnow patches `snowflake.connector.connect` in this process, so dbt-snowflake runs
in-process (the entry point is executed with runpy). The silver tables are created as
plain tables holding the lake's silver rows, with the lower-case quoted column names
Delta Direct tables have; the Iceberg DDL is skipped (nop) as fakesnow cannot run it.
fakesnow knows no privileges either: GRANT / REVOKE are recorded here (not run) and
SHOW GRANTS answers from that record, so dbt's `grants` config runs its real flow.

  1. the first build (<work>/target): the gold tables are summarized into
     <work>/summary.json;
  2. silver changes a little (one new row, one existing row soft-deleted, both with a
     later ingested_at) and the task builds the incremental models again, with the
     tests on them alone (<work>/target-incremental): their MERGE / DELETE / INSERT
     statements run on fakesnow (StatementLedger lists the three rewrites fakesnow
     needs) and dbt keeps them under target-incremental/run/
     (tests/dbt_project/snowflake_statements.py reads them). The summary's
     `incremental_*` keys describe that build.
Every statement dbt sends, as sent, is also written to <work>/statements-first.json
(the first build) and <work>/statements-incremental.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import runpy
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO_ROOT / "dbt" / "entrypoint.py"
ICEBERG_DDL = [r"^\s*create iceberg table", r"^\s*alter iceberg table"]
# Privilege statements: fakesnow (DuckDB) has none; StatementLedger records them.
GRANT_DCL = [r"^\s*grant\s", r"^\s*revoke\s"]
# dbt-snowflake wraps an incremental MERGE / DELETE+INSERT in BEGIN ... COMMIT. In
# DuckDB one transaction may write to one attached database only, and fakesnow's MERGE
# rewrite creates its work table (which DuckDB counts against fakesnow's _fs_global)
# before writing the target: so BEGIN is skipped and each statement autocommits (the
# connection is autocommit, as dbt-snowflake opens it; COMMIT without BEGIN is a no-op).
TRANSACTION_BEGIN = [r"^\s*(?:--[^\n]*\n\s*)*begin\b"]
# dbt's MERGE: `when not matched then insert (<columns>) values (<columns>)`
MERGE_INSERT_VALUES = re.compile(
    r"(when\s+not\s+matched\s+then\s+insert\s*\([^)]*\)\s*values\s*)\(([^)]*)\)", re.I
)
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
            "select customer_sk, customer_id, valid_from, valid_to, is_current "
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


def object_name(name: str) -> str:
    """An unquoted Snowflake name as it resolves: upper case, fully as written."""
    return ".".join(part.strip('"').upper() for part in name.split("."))


class StatementLedger:
    """Every statement dbt sends to fakesnow, and the grants an account would hold.

    GRANT and REVOKE are nops on fakesnow (GRANT_DCL) and recorded here instead; CREATE
    OR REPLACE of a table or view drops its grants, as on Snowflake without COPY GRANTS;
    SHOW GRANTS ON answers from the record, with the owner role and the columns
    dbt-snowflake's standardize_grants_dict reads. So the `grants` config runs its real
    flow: granted after every replace, diffed (SHOW GRANTS) on an incremental run.

    Rewrites for what fakesnow cannot run (besides BEGIN, see TRANSACTION_BEGIN):
      - an incremental run stages its rows in a TEMPORARY view or table named in the
        model's schema, which DuckDB refuses (its temporary objects live in the `temp`
        catalog only): fakesnow gets an ordinary one there, which dbt drops after use;
      - dbt's MERGE inserts `values ("COL", ...)`, unqualified, which Snowflake resolves
        in the source; fakesnow's MERGE rewrite selects them over target FULL JOIN
        source, where they are ambiguous: they are qualified with the source alias.
    Everything else runs as dbt sent it; the files under target*/run/ are dbt's own."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.statements: list[str] = []
        self.grants: dict[str, set[tuple[str, str]]] = {}

    def install(self) -> None:
        from fakesnow.cursor import FakeSnowflakeCursor

        execute, observe = FakeSnowflakeCursor.execute, self.observe

        def recording_execute(cursor, command, *args, **kwargs):
            return execute(cursor, observe(command), *args, **kwargs)

        FakeSnowflakeCursor.execute = recording_execute

    def observe(self, command: str) -> str:
        """Record the statement; returns what fakesnow runs for it."""
        statement = " ".join(command.split())
        self.statements.append(statement)
        statement = re.sub(r"\s*/\*.*?\*/\s*;?\s*$", "", statement)  # dbt's query comment
        dcl = r"(grant|revoke) (.+?) on (?:table |view )?(\S+) (?:to|from) (?:role )?(.+)$"
        if match := re.match(dcl, statement, re.I):
            held = self.grants.setdefault(object_name(match[3]), set())
            for privilege in match[2].split(","):
                for grantee in match[4].split(","):
                    grant = (privilege.strip().upper(), object_name(grantee.strip()))
                    held.add(grant) if match[1].lower() == "grant" else held.discard(grant)
        elif match := re.match(r"create or replace (?:transient )?(?:table|view) (\S+)",
                               statement, re.I):  # fmt: skip
            self.grants.pop(object_name(match[1]), None)
        elif match := re.match(r"show grants on (?:table |view )?(\S+)", statement, re.I):
            held = sorted(self.grants.get(object_name(match[1]), ()))
            return " union all ".join(
                f"""select '{privilege}' as "privilege", 'ROLE' as "granted_to", """
                f"""'{grantee}' as "grantee_name\""""
                for privilege, grantee in [("OWNERSHIP", self.owner), *held]
            )
        if match := re.match(r"(\s*create\s+or\s+replace\s+)temporary\s+", command, re.I):
            return match[1] + command[match.end() :]
        if (match := MERGE_INSERT_VALUES.search(command)) and (
            source := re.search(r"\busing\s+\S+\s+as\s+(\w+)", command, re.I)
        ):
            values = ", ".join(f"{source[1]}.{name.strip()}" for name in match[2].split(","))
            return f"{command[: match.start()]}{match[1]}({values}){command[match.end() :]}"
        return command

    def granted_in(self, schema: str) -> dict[str, list[list[str]]]:
        """object -> [privilege, grantee] held now, for the objects of one schema."""
        prefix = object_name(schema) + "."
        return {name: sorted(map(list, held)) for name, held in sorted(self.grants.items())
                if name.startswith(prefix) and held}  # fmt: skip

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.statements, indent=0))
        self.statements = []


def change_silver(cursor, run_id: str) -> dict:
    """Give the incremental build something to do: one new live row (a copy of the last
    row under a new row_id and order_id) and one existing row soft-deleted, both stamped an
    hour after silver's newest ingested_at, as a later silver run would. Only silver's
    contract columns (SALES_COLUMNS) are relied on."""
    from sales_lake.schema import SALES_COLUMNS

    cursor.execute('select max("row_id"), max("ingested_at") from silver.sales')
    last_row, newest = cursor.fetchone()
    cursor.execute('select min("row_id") from silver.sales where not "is_deleted"')
    (deleted_row,) = cursor.fetchone()
    stamp = f"'{newest + timedelta(hours=1):%Y-%m-%d %H:%M:%S.%f}'::timestamp_ntz"
    new_row = last_row + 1
    changed = {
        "row_id": str(new_row), "order_id": f"'{run_id.upper()}'", "run_id": f"'{run_id}'",
        "ingested_at": stamp, "record_hash": f"'{hashlib.sha256(run_id.encode()).hexdigest()}'",
        "is_deleted": "false",  # the copied row may be a soft-deleted one
    }  # fmt: skip
    columns = [column for column, _t, _n in SALES_COLUMNS]
    cursor.execute(
        f"insert into silver.sales ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
        f"select {', '.join(changed.get(c, f'{chr(34)}{c}{chr(34)}') for c in columns)} "
        f'from silver.sales where "row_id" = {last_row}'
    )
    cursor.execute(
        f"""update silver.sales set "is_deleted" = true, "run_id" = '{run_id}', """
        f""""ingested_at" = {stamp} where "row_id" = {deleted_row}"""
    )
    return {"inserted_row_id": new_row, "deleted_row_id": deleted_row}


def summarize_incremental(cursor, changes: dict) -> dict:
    def rows_in_fact(row_id: int) -> int:
        cursor.execute(f"select count(*) from gold.fact_sales where row_id = {row_id}")
        return cursor.fetchone()[0]

    cursor.execute("select count(*), sum(sales), sum(profit) from gold.fact_sales")
    return {
        "incremental_fact": list(cursor.fetchone()),
        "incremental_changes": changes,
        "incremental_fact_rows": {
            "inserted": rows_in_fact(changes["inserted_row_id"]),
            "deleted": rows_in_fact(changes["deleted_row_id"]),
        },
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
        SNOWFLAKE_USER="dbt_svc", DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY=pem_private_key(),
        SNOWFLAKE_ROLE="SALES_DBT", SNOWFLAKE_WAREHOUSE="SALES_DBT_WH",
        SNOWFLAKE_DATABASE="SALES", SNOWFLAKE_SCHEMA="GOLD",
    )  # fmt: skip
    ledger = StatementLedger(owner=os.environ["SNOWFLAKE_ROLE"])
    with fakesnow.patch(nop_regexes=ICEBERG_DDL + GRANT_DCL + TRANSACTION_BEGIN):
        ledger.install()
        connection = snowflake.connector.connect(database="SALES", schema="SILVER")
        for name, columns in (("sales", SALES_COLUMNS), ("quarantine", QUARANTINE_COLUMNS)):
            rows = DeltaTable(str(lake / "silver" / name)).to_pyarrow_table().to_pylist()
            create_silver_table(connection, name, columns, rows)
        ledger.statements = []  # from here on: what dbt sends
        log("silver loaded", started)

        # the task's run_task in this process (fakesnow patches only it); not as
        # __main__, whose exit skips the interpreter's teardown (os._exit)
        run_task = runpy.run_path(str(ENTRYPOINT))["run_task"]
        exit_code = run_task([], dict(os.environ))
        ledger.dump(work / "statements-first.json")
        log(f"dbt task exited {exit_code}", started)
        if exit_code:
            return exit_code

        summary = summarize(connection.cursor())
        summary["grants"] = ledger.granted_in("SALES.GOLD")  # object -> [privilege, role]
        (work / "summary.json").write_text(json.dumps(summary, default=str))
        log("summarized", started)

        # the incremental build, in a target folder of its own (the first build's stays):
        # only the incremental models and the tests on them alone (the tables would be
        # replaced exactly as in the first build; this halves the time)
        changes = change_silver(connection.cursor(), "fakesnow-2")
        os.environ.pop("DBT_LOG_PATH", None)
        incremental_env = {**os.environ, "RUN_ID": "fakesnow-2",
                           "DBT_TARGET_PATH": str(work / "target-incremental")}  # fmt: skip
        incremental = ["--select", "config.materialized:incremental",
                       "--indirect-selection", "cautious"]  # fmt: skip
        ledger.statements = []
        exit_code = run_task(incremental, incremental_env)
        ledger.dump(work / "statements-incremental.json")
        log(f"incremental dbt task exited {exit_code}", started)
        if exit_code:
            return exit_code
        summary |= summarize_incremental(connection.cursor(), changes)
        summary["incremental_grants"] = ledger.granted_in("SALES.GOLD")
    (work / "summary.json").write_text(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
