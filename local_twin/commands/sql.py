"""`twin sql "QUERY"`: query gold and silver of the workspace with DuckDB.

Gold is the dbt build's DuckDB file (the marts in schema `main`, e.g. `fact_sales`);
silver is there too as the views `silver_sales` and `silver_quarantine`
(local_twin.lake_tables). The database is opened read-only: a query cannot change
what the pipeline built.
"""

from __future__ import annotations

import sys

from local_twin.commands._common import add_workspace_option
from local_twin.workspace import Workspace


def connect(workspace: Workspace):
    """A DuckDB connection on the gold file (read-only) with silver registered."""
    import duckdb

    from local_twin.lake_tables import SILVER_TABLES, read_silver

    if workspace.duckdb_path.exists():
        con = duckdb.connect(str(workspace.duckdb_path), read_only=True)
    else:
        con = duckdb.connect()
    for name in SILVER_TABLES:
        table = read_silver(workspace, name)
        if table is not None:
            con.register(f"silver_{name}", table)
    return con


def run(args) -> int:
    import duckdb

    workspace = Workspace.at(args.workspace)
    con = connect(workspace)
    try:
        result = con.sql(args.query)
        if result is None:
            return 0
        result.show(max_rows=args.max_rows, max_width=200)
    except duckdb.Error as error:
        print(f"twin sql: {' '.join(str(error).split())}", file=sys.stderr)
        print('  tables: twin sql "show all tables"', file=sys.stderr)
        return 2
    finally:
        con.close()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sql", help="query gold (DuckDB) and silver (silver_sales, silver_quarantine)"
    )
    parser.add_argument("query", help='e.g. "select count(*) from silver_sales"')
    parser.add_argument("--max-rows", type=int, default=40, help="rows to print (default 40)")
    add_workspace_option(parser)
    parser.set_defaults(func=run)
