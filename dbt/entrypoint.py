"""The dbt task: the command of the gold ECS task and of the local twin's ECS hook.

`python entrypoint.py` in the image, `python dbt/entrypoint.py [dbt build args]` locally.
It reads the dbt task contract (docs/contracts.md) from the environment, then
  1. prod only: runs the `stage_silver_tables` macro, which creates the Snowflake
     Delta Direct Iceberg tables over silver if missing and refreshes them, so the
     build sees the latest silver commit;
  2. runs `dbt build` (extra command-line arguments are passed on, e.g. --full-refresh);
  3. uploads run_results.json and manifest.json to <LAKE_URI>/runs/<RUN_ID>/dbt/
     (s3:// through boto3, file:// or a plain path by copying), also after a failure,
     so the failed run can be inspected.
Exit code 0 on success, 1 when dbt fails (each failing node is named on stderr),
2 when the environment is incomplete.

dbt runs in-process (dbtRunner). This file lives in a folder named `dbt`, so it never
imports anything of this project as `dbt.*`: that name belongs to dbt-core.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

PROJECT_DIR = Path(__file__).resolve().parent
ARTIFACTS = ("run_results.json", "manifest.json")
PROD_ENV = (
    "SNOWFLAKE_ACCOUNT",
    "SNOWFLAKE_USER",
    "SNOWFLAKE_PRIVATE_KEY",
    "SNOWFLAKE_ROLE",
    "SNOWFLAKE_WAREHOUSE",
    "SNOWFLAKE_DATABASE",
    "SNOWFLAKE_SCHEMA",
)


class ConfigurationError(Exception):
    """The environment does not satisfy the dbt task contract."""


@dataclass(frozen=True)
class TaskSettings:
    target: str
    run_id: str
    lake_uri: str
    target_path: Path


def read_settings(environ: dict[str, str]) -> TaskSettings:
    """Validate the contract's variables; name every missing one and how to fix it."""
    target = environ.get("DBT_TARGET", "local")
    if target not in ("local", "prod"):
        raise ConfigurationError(f"DBT_TARGET={target!r}: set it to 'local' or 'prod'.")
    required = ["RUN_ID", "LAKE_URI"] + (list(PROD_ENV) if target == "prod" else [])
    missing = [name for name in required if not environ.get(name)]
    if missing:
        raise ConfigurationError(
            f"missing environment variable(s) for DBT_TARGET={target}: {', '.join(missing)} "
            "(see the 'dbt task' section of docs/contracts.md)."
        )
    return TaskSettings(
        target, environ["RUN_ID"], environ["LAKE_URI"].rstrip("/"), target_path_for(target, environ)
    )


def target_path_for(target: str, environ: dict[str, str]) -> Path:
    """Where dbt writes artifacts: DBT_TARGET_PATH, else next to the local DuckDB file
    (so two workspaces never share artifacts), else under the temp directory: in the
    image the project folder is read-only to the task's user (dbt/Dockerfile)."""
    if environ.get("DBT_TARGET_PATH"):
        return Path(environ["DBT_TARGET_PATH"])
    if target == "local":
        return default_duckdb_path(environ).parent / "dbt_target"
    return Path(tempfile.gettempdir()) / "dbt" / "target"


def default_duckdb_path(environ: dict[str, str]) -> Path:
    """Local target: <workspace>/gold.duckdb unless DUCKDB_PATH says otherwise."""
    if environ.get("DUCKDB_PATH"):
        return Path(environ["DUCKDB_PATH"])
    workspace = environ.get("SALES_PIPELINE_WORKSPACE") or PROJECT_DIR.parent / "workspace"
    return Path(workspace) / "gold.duckdb"


def prepare_environment(settings: TaskSettings, environ: dict[str, str]) -> dict[str, str]:
    """The variables dbt itself reads (profiles.yml, sources, flags)."""
    env = dict(environ)
    env["DBT_TARGET"] = settings.target
    env["LAKE_URI"] = settings.lake_uri
    env["DBT_TARGET_PATH"] = str(settings.target_path)
    env.setdefault("DBT_LOG_PATH", str(settings.target_path / "logs"))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if settings.target == "local":
        duckdb_path = default_duckdb_path(environ)
        duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        env["DUCKDB_PATH"] = str(duckdb_path)
    return env


def failed_nodes(result) -> list[str]:
    """'<unique_id>: <message>' for every node that errored or whose test failed."""
    failures = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result.status, "value", node_result.status)).lower()
        if status in ("error", "fail", "runtime error"):
            message = (node_result.message or "").strip().replace("\n", " ")
            failures.append(f"{node_result.node.unique_id}: {status}: {message}")
    return failures


class FailureDetails:
    """dbtRunner callback: keeps the lines the not_null_columns test logs (which columns
    hold nulls), by node, because dbt's own failure message only counts rows."""

    PREFIX = "not_null: "

    def __init__(self) -> None:
        self.by_node: dict[str, list[str]] = {}

    def __call__(self, event) -> None:
        if event.info.name == "JinjaLogInfo" and event.data.msg.startswith(self.PREFIX):
            node = event.data.node_info.unique_id
            self.by_node.setdefault(node, []).append(event.data.msg)

    def annotate(self, failures: list[str]) -> list[str]:
        """'<unique_id>: ...' lines with the logged details of their node appended."""
        annotated = []
        for line in failures:
            details = self.by_node.get(line.split(":", 1)[0])
            annotated.append(f"{line} ({'; '.join(details)})" if details else line)
        return annotated


def invoke_dbt(args: list[str]) -> tuple[bool, list[str]]:
    """Run one dbt command in-process; (success, failure lines)."""
    from dbt.cli.main import dbtRunner  # dbt-core, not this folder (see module docstring)

    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    details = FailureDetails()
    result = dbtRunner(callbacks=[details]).invoke(args + common)
    if result.success:
        return True, []
    failures = details.annotate(failed_nodes(result))
    if result.exception is not None:
        failures.append(f"dbt {args[0]} raised: {result.exception}")
    return False, failures or [f"dbt {args[0]} failed (see the log above)"]


def destination_for(lake_uri: str, run_id: str) -> str:
    return f"{lake_uri}/runs/{run_id}/dbt"


def upload_artifacts(target_path: Path, destination: str) -> list[str]:
    """Copy the run's artifacts that exist to the lake; returns their new URIs."""
    uploaded = []
    parsed = urlparse(destination)
    for name in ARTIFACTS:
        artifact = target_path / name
        if not artifact.exists():
            continue
        if parsed.scheme == "s3":
            import boto3

            key = f"{parsed.path.lstrip('/')}/{name}"
            boto3.client("s3").upload_file(str(artifact), parsed.netloc, key)
        else:
            folder = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(destination)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(artifact, folder / name)
        uploaded.append(f"{destination}/{name}")
    return uploaded


def run_task(build_args: list[str], environ: dict[str, str]) -> int:
    try:
        settings = read_settings(environ)
    except ConfigurationError as error:
        print(f"dbt task: {error}", file=sys.stderr)
        return 2
    os.environ.update(prepare_environment(settings, environ))
    for name in ARTIFACTS:  # never upload a previous run's artifacts as this run's
        (settings.target_path / name).unlink(missing_ok=True)

    print(f"dbt task: run {settings.run_id}, target {settings.target}, lake {settings.lake_uri}")
    ok, failures = True, []
    if settings.target == "prod":
        ok, failures = invoke_dbt(["run-operation", "stage_silver_tables"])
    if ok:
        ok, failures = invoke_dbt(["build", *build_args])

    destination = destination_for(settings.lake_uri, settings.run_id)
    for uri in upload_artifacts(settings.target_path, destination):
        print(f"dbt task: artifact {uri}")
    if not ok:
        for line in failures:
            print(f"dbt task FAILED: {line}", file=sys.stderr)
        return 1
    print("dbt task: build succeeded")
    return 0


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown (freeing dbt's ~1,400 modules and its
    object graph: ~0.4 s, a tenth of an incremental build). Everything with an effect
    runs first: the atexit handlers (dbt-duckdb closes DuckDB, which checkpoints;
    logging flushes its files; multiprocessing releases its semaphores), then the
    standard streams are flushed."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # One short-lived build per process: without the cyclic garbage collector's passes
    # over dbt's large object graph a build is ~0.3-0.5 s faster; what they would
    # reclaim is ~20 MB of a ~600 MB process (1M-row benchmark, maxrss), freed at exit.
    gc.disable()
    exit_now(run_task(sys.argv[1:], dict(os.environ)))
