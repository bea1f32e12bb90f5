"""The real data engines behind the twin's Glue job runs and ECS tasks.

A Glue job run executes the real silver Glue script (glue_jobs/to_silver.py, which
dispatches on `--source_kind` to the batch or stream loader) on the shared local
Spark session; an ECS task runs the real dbt container command
(`python dbt/entrypoint.py`) as a subprocess against the workspace DuckDB file.
Both see `file://` workspace URIs where AWS would pass `s3://` ones, and both
record how long the engine itself worked, so the benchmark can separate engine
time from orchestration overhead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

import boto3
from sales_lake.lake_layout import RUN_METRICS_FILE, RUN_SUMMARY_FILE, run_key
from sales_lake.task_token import (
    HEARTBEAT_SECONDS,
    JOB_RUN_ID_ARGUMENT,
    TOKEN_ARGUMENT,
    TaskToken,
)

from local_twin.aws_hooks import REGION, EcsTaskSpec
from local_twin.paths import DBT_PROJECT_DIR
from local_twin.workspace import LAKE_BUCKET, Workspace

# The in-process entry of the one silver job, whose script (local_twin.provision.GLUE_JOB_SCRIPT)
# only calls this module's main.
URI_ARGUMENTS = ("lake_uri", "manifest_uri", "source_uris")


class EngineTimings:
    """Seconds of engine work per run id (thread-safe; the engines run on worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_run: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def add(self, run_id: str, engine: str, seconds: float) -> None:
        with self._lock:
            self.by_run[run_id][engine] += seconds


def _s3():
    return boto3.client("s3", region_name=REGION)


def localise_glue_arguments(arguments: dict[str, str], workspace: Workspace) -> dict[str, str]:
    """Glue `--name value` arguments -> the job's args dict, s3:// turned into file://.

    A manifest lives in moto's S3 (the trigger function wrote it there); it is
    copied into the workspace folder first so the job reads it like any object.
    """
    # The token and the run id are Glue's business and the reporting's, not the job's
    # arguments (its argument parser ignores them on Glue too).
    args = {
        name.removeprefix("--"): value
        for name, value in arguments.items()
        if name not in (TOKEN_ARGUMENT, JOB_RUN_ID_ARGUMENT)
    }
    manifest_uri = args.get("manifest_uri")
    if manifest_uri and manifest_uri.startswith("s3://"):
        _copy_manifest(manifest_uri, workspace)
    for name in URI_ARGUMENTS:
        if args.get(name):
            args[name] = ",".join(workspace.local_uri(u) for u in args[name].split(","))
    return args


def _copy_manifest(manifest_uri: str, workspace: Workspace) -> None:
    """moto's copy -> the workspace folder (a rerun in a later command finds the folder copy)."""
    bucket, key = manifest_uri[len("s3://") :].split("/", 1)
    target = workspace.object_path(bucket, key)
    client = _s3()
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        if target.exists():
            return
        raise FileNotFoundError(
            f"manifest {manifest_uri} is neither in the local S3 nor at {target}; "
            "drop the files again with `twin drop`."
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)


def glue_runner(
    workspace: Workspace, timings: EngineTimings, heartbeat_seconds: float = HEARTBEAT_SECONDS
):
    """A GlueRunner that runs the real Glue job (sales_lake.silver_run, what to_silver.py
    calls), mirrors its run record into moto's S3, and then, as the job's main() does
    on Glue, completes the state machine's task token (sales_lake.task_token: heartbeats
    every `heartbeat_seconds` while it works, the twin's time scale applied). Spark is
    imported on the first run, not with the twin (`twin --help` stays fast)."""

    def run(job_name: str, arguments: dict[str, str]) -> None:
        token, job_run_id = TaskToken.of(arguments)
        token.report(lambda: _run_job(arguments), job_run_id, heartbeat_seconds)

    def _run_job(arguments: dict[str, str]) -> None:
        started = time.perf_counter()
        args = localise_glue_arguments(arguments, workspace)
        run_id = args["run_id"]
        try:
            from sales_lake.local_spark import jvm_exit_message, local_spark_session
            from sales_lake.silver_run import run_silver

            spark = local_spark_session()  # first call starts the JVM (Glue's start-up)
            timings.add(run_id, "spark_start", time.perf_counter() - started)
            try:
                run_silver(spark, args)
            except Exception:
                why = jvm_exit_message()
                if why:
                    raise RuntimeError(why) from None
                raise
        finally:
            timings.add(run_id, "glue", time.perf_counter() - started)
        # The job wrote the run record into the workspace lake; mirror it into moto's S3,
        # where the state machine reads the summary.
        for name in (RUN_METRICS_FILE, RUN_SUMMARY_FILE):
            key = run_key(run_id, name)
            written = workspace.object_path(LAKE_BUCKET, key)
            if not written.exists():
                raise RuntimeError(
                    f"sales_lake.silver_run.run_silver finished without writing {written}; the "
                    "state machine reads the run summary for the data-quality gate "
                    "(docs/contracts.md, run metrics)."
                )
            _s3().put_object(Bucket=LAKE_BUCKET, Key=key, Body=written.read_bytes())

    return run


def dbt_runner(workspace: Workspace, timings: EngineTimings, python: str = sys.executable):
    """An EcsRunner that runs the dbt project's container command as a subprocess."""

    def run(spec: EcsTaskSpec) -> int:
        env = dict(os.environ)
        env.update(spec.environment)
        env["LAKE_URI"] = workspace.local_uri(spec.environment.get("LAKE_URI", ""))
        run_id = spec.environment.get("RUN_ID", "unknown-run")
        log_path = workspace.logs / f"dbt-{run_id}.log"
        started = time.perf_counter()
        with log_path.open("a") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} {json.dumps(spec.environment)}\n")
            log.flush()
            completed = subprocess.run(
                [python, str(DBT_PROJECT_DIR / "entrypoint.py")],
                cwd=DBT_PROJECT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        timings.add(run_id, "dbt", time.perf_counter() - started)
        return completed.returncode

    return run
