"""The dbt task: the command of the gold ECS task and of the local twin's ECS hook.

`python entrypoint.py` in the image, `python dbt/entrypoint.py [dbt build args]` locally.
It reads the dbt task contract (docs/contracts.md) from the environment, then
  1. prod only: runs the `stage_silver_tables` macro, which creates the Snowflake
     Delta Direct Iceberg tables over silver if missing and refreshes them, so the
     build sees the latest silver commit;
  2. runs `dbt build` (extra command-line arguments are passed on, e.g. --full-refresh);
  3. reports dbt's failures on stderr, then uploads run_results.json and manifest.json
     (s3:// through boto3, file:// or a plain path by copying), also after a failure or
     a stop, so the run can be inspected, to
       <LAKE_URI>/runs/<RUN_ID>/dbt/                         the latest build of the run,
       <LAKE_URI>/runs/<RUN_ID>/dbt/builds/<invocation id>/  every build, kept: one
     execution may build more than once (a retry, the gold refresh before and after a
     release). The id is dbt's invocation_id from run_results.json, else a UTC time.
Exit codes (the result is the build's; an upload failure never hides or fakes it):
  0    build succeeded, artifacts uploaded
  1    dbt failed (each failing node named on stderr), uploaded or not
  2    the environment is incomplete (nothing ran)
  3    build succeeded but the artifacts were NOT uploaded (the line says why)
  143  stopped by SIGTERM (ECS StopTask, the state's timeout): dbt cancelled its open
       queries, what artifacts exist were uploaded (128 + SIGTERM, as a shell reports it)

dbt runs in-process (dbtRunner). This file lives in a folder named `dbt`, so it never
imports anything of this project as `dbt.*`: that name belongs to dbt-core. It ships
alone in the image, so the lake key layout it writes to is a copy of the owner's
(glue_jobs/sales_lake/lake_layout.py), held equal by tests/dbt_project/test_entrypoint.py.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

PROJECT_DIR = Path(__file__).resolve().parent
ARTIFACTS = ("run_results.json", "manifest.json")
# Copies of glue_jobs/sales_lake/lake_layout.py (RUNS_PREFIX, run_key's `dbt/` folder).
RUNS_PREFIX = "runs/"
DBT_RUN_FOLDER = "dbt"
BUILDS_FOLDER = "builds"
EXIT_OK, EXIT_DBT_FAILED, EXIT_CONFIGURATION, EXIT_NOT_UPLOADED = 0, 1, 2, 3
EXIT_STOPPED = 128 + signal.SIGTERM  # 143
# The key reaches the task in a variable dbt treats as a secret: dbt-core's
# SECRET_ENV_PREFIX (dbt_common/constants.py) is "DBT_ENV_SECRET", and dbt scrubs the
# values of variables whose names start with it from its logs and exceptions
# (dbt_common.exceptions.base.env_secrets/scrub_secrets). Only profiles.yml and
# packages.yml may read them (dbt/context/secret.py, SecretContext.env_var: the value is
# substituted after Jinja rendering); env_var() in a model or macro raises
# SecretEnvVarLocationError (dbt/context/providers.py).
PRIVATE_KEY_VARIABLE = "DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"
PROD_ENV = (
    "SNOWFLAKE_ACCOUNT",
    "SNOWFLAKE_USER",
    PRIVATE_KEY_VARIABLE,
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
        failures.append(f"dbt {args[0]} raised: {one_line(result.exception)}")
    return False, failures or [f"dbt {args[0]} failed (see the log above)"]


def one_line(error: BaseException) -> str:
    """An error as one line for the task's log: its first line, else its type."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class StopSignal:
    """SIGTERM for the length of one run: ECS sends it on StopTask and when the state
    machine's task state times out, then SIGKILL after the container's stopTimeout
    (cdk/warehouse.py). Python's default would end the process at once, leaving the
    warehouse queries running and no artifacts. While dbt runs (`run`), the first
    SIGTERM is raised as KeyboardInterrupt, dbt's Ctrl-C path: in dbt-core 1.11
    GraphRunnableTask.execute_nodes (dbt/task/runnable.py) catches KeyboardInterrupt,
    writes run_results.json and calls _cancel_connections, which calls the adapter's
    cancel_open_connections (dbt/adapters/base/impl.py -> SQLConnectionManager.cancel_open;
    dbt-snowflake's cancel runs `select system$cancel_all_queries(<session>)`), and
    dbtRunner.invoke returns the interrupt as a failed result (dbt logs its stack trace).
    `dbt run-operation` (the staging macro) has no such path: it is interrupted but its
    statement is not cancelled (a short, idempotent refresh). Outside dbt (the upload) a
    SIGTERM is only recorded, so the upload finishes before the exit code says 143.
    The previous handler is restored on exit. Signal handlers can only be set from the
    main thread; elsewhere nothing is installed and SIGTERM keeps its handler."""

    def __init__(self) -> None:
        self.received = False
        self._interrupt = False
        self._installed = False
        self._previous: object = signal.SIG_DFL

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, self._handle)
            self._previous = signal.SIG_DFL if previous is None else previous
            self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False

    def _handle(self, signum, frame) -> None:
        first = not self.received
        self.received = True
        if first and self._interrupt:  # a second SIGTERM must not break dbt's cancelling
            raise KeyboardInterrupt("SIGTERM")

    def run(self, command, *args):
        """command(*args) with the first SIGTERM raised in it as KeyboardInterrupt."""
        self._interrupt = True
        try:
            return command(*args)
        finally:
            self._interrupt = False


def run_dbt(
    settings: TaskSettings, build_args: list[str], stop: StopSignal
) -> tuple[bool, list[str]]:
    """Stage (prod) then build; (success, failure lines). No build after a failed stage
    or a SIGTERM."""
    ok, failures = True, []
    try:
        if settings.target == "prod":
            ok, failures = stop.run(invoke_dbt, ["run-operation", "stage_silver_tables"])
        if ok and not stop.received:
            ok, failures = stop.run(invoke_dbt, ["build", *build_args])
    except KeyboardInterrupt as interrupt:  # raised outside dbtRunner.invoke, which catches it
        ok, failures = False, failures + [f"dbt interrupted ({one_line(interrupt)})"]
    return ok and not stop.received, failures


def run_key(run_id: str, name: str) -> str:
    """Copy of glue_jobs/sales_lake/lake_layout.py run_key: `runs/<run_id>/<name>`."""
    return f"{RUNS_PREFIX}{run_id}/{name}"


def destination_for(lake_uri: str, run_id: str) -> str:
    """The run's latest dbt artifacts (what the notifications and the smoke check read)."""
    return f"{lake_uri}/{run_key(run_id, DBT_RUN_FOLDER)}"


def build_destination(destination: str, build: str) -> str:
    """Where one build's artifacts stay when later builds of the run replace the latest."""
    return f"{destination}/{BUILDS_FOLDER}/{build}"


def build_id(target_path: Path, now: datetime | None = None) -> str:
    """dbt's invocation_id from run_results.json (unique per dbt invocation), else the
    UTC time: dbt writes no run_results.json when it fails before running nodes."""
    try:
        invocation = json.loads((target_path / "run_results.json").read_text())["metadata"][
            "invocation_id"
        ]
    except (OSError, ValueError, KeyError, TypeError):
        invocation = None
    if isinstance(invocation, str) and re.fullmatch(r"[A-Za-z0-9_-]+", invocation):
        return invocation
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


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


def ship_artifacts(target_path: Path, destination: str) -> bool:
    """Upload to the latest folder and to the build's own; False (after one line saying
    why) when an upload failed: the caller's exit code then says so, the build's result
    is never replaced by an upload error."""
    build_folder = build_destination(destination, build_id(target_path))
    try:
        for folder in (destination, build_folder):
            for uri in upload_artifacts(target_path, folder):
                print(f"dbt task: artifact {uri}")
    except Exception as error:  # S3 (boto3/botocore) or file system: any, reported alike
        print(
            f"dbt task: artifacts NOT uploaded to {folder}: {one_line(error)} "
            "(check LAKE_URI and the task's write access under runs/)",
            file=sys.stderr,
        )
        return False
    return True


def report_build(ok: bool, failures: list[str], stopped: bool) -> None:
    """The build's result, printed before the upload, which may fail or be killed."""
    for line in failures if not ok else []:
        print(f"dbt task FAILED: {line}", file=sys.stderr)
    if stopped:
        print(
            "dbt task STOPPED: SIGTERM (ECS StopTask or the state's timeout); dbt was "
            "interrupted and cancelled its open queries; uploading the artifacts that exist",
            file=sys.stderr,
        )
    elif ok:
        print("dbt task: build succeeded")


def exit_code(ok: bool, stopped: bool, uploaded: bool) -> int:
    """A stop, then the build's result, decide; an upload failure only marks a success."""
    if stopped:
        return EXIT_STOPPED
    if not ok:
        return EXIT_DBT_FAILED
    return EXIT_OK if uploaded else EXIT_NOT_UPLOADED


def run_task(build_args: list[str], environ: dict[str, str]) -> int:
    try:
        settings = read_settings(environ)
    except ConfigurationError as error:
        print(f"dbt task: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    os.environ.update(prepare_environment(settings, environ))
    for name in ARTIFACTS:  # never upload a previous run's artifacts as this run's
        (settings.target_path / name).unlink(missing_ok=True)

    print(f"dbt task: run {settings.run_id}, target {settings.target}, lake {settings.lake_uri}")
    with StopSignal() as stop:
        ok, failures = run_dbt(settings, build_args, stop)
        stopped_in_build = stop.received
        report_build(ok, failures, stopped_in_build)
        uploaded = ship_artifacts(
            settings.target_path, destination_for(settings.lake_uri, settings.run_id)
        )
        if stop.received and not stopped_in_build:
            print("dbt task STOPPED: SIGTERM during the artifact upload", file=sys.stderr)
        return exit_code(ok, stop.received, uploaded)


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
