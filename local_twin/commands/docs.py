"""`twin docs`: the data dictionary of the workspace's gold layer (`dbt docs generate`).

Runs on the local target against the workspace's DuckDB file, which a pipeline run
(`twin demo`, `twin drop`) builds: dbt describes every model, column and test from the
project's YAML and reads the column types of the built tables from that file. The site
goes to <workspace>/dbt_docs/ (not the dbt task's artifact folder); open its index.html
or serve it with `dbt docs serve`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from local_twin.commands._common import add_workspace_option
from local_twin.paths import DBT_PROJECT_DIR
from local_twin.workspace import Workspace


def docs_dir(workspace: Workspace) -> Path:
    return workspace.root / "dbt_docs"


def dbt_docs_command(workspace: Workspace, python: str = sys.executable) -> list[str]:
    """`dbt docs generate` on the local target, the site written to docs_dir."""
    target = docs_dir(workspace)
    return [
        python, "-c", "from dbt.cli.main import cli; cli()", "docs", "generate",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target), "--log-path", str(target / "logs"),
    ]  # fmt: skip


def dbt_docs_env(workspace: Workspace, environ: dict[str, str]) -> dict[str, str]:
    """The variables profiles.yml and the sources read, for the workspace's files."""
    return {
        **environ,
        "DBT_TARGET": "local",
        "DUCKDB_PATH": str(workspace.duckdb_path),
        "LAKE_URI": workspace.lake_uri(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def serve_command(workspace: Workspace) -> str:
    return (
        f".venv/bin/dbt docs serve --project-dir dbt --profiles-dir dbt "
        f"--target-path {docs_dir(workspace)}"
    )


def run(args) -> int:
    workspace = Workspace.at(args.workspace)
    if not workspace.duckdb_path.exists():
        raise SystemExit(
            f"{workspace.duckdb_path} does not exist: build gold first (`twin demo`, or "
            "`twin drop FILE`), then run `twin docs` again."
        )
    completed = subprocess.run(
        dbt_docs_command(workspace), env=dbt_docs_env(workspace, dict(os.environ)), check=False
    )
    if completed.returncode:
        print(f"dbt docs generate failed (exit {completed.returncode}): see the log above",
              file=sys.stderr)  # fmt: skip
        return completed.returncode
    print(f"data dictionary: {docs_dir(workspace) / 'index.html'}")
    print(f"open it in a browser, or serve it (http://localhost:8080): {serve_command(workspace)}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "docs", help="generate the gold data dictionary (dbt docs) from the workspace's DuckDB"
    )
    add_workspace_option(parser)
    parser.set_defaults(func=run)
