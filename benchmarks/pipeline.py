"""Benchmark: wall time from drop to gold on the local twin, split by stage.

    .venv/bin/python -m benchmarks.pipeline [--rows 100000] [--keep]

Scenarios (each in a fresh workspace, one process): the demo sample
(data/sample/*.csv, generated if absent) and one file of --rows rows.
For each: trigger (drop -> StartExecution), Glue state (incl. Spark start-up on
the first run), dbt state, total (drop -> execution end), and the orchestration
overhead = total - Spark work - dbt work (events, trigger, state transitions,
polling, DynamoDB/S3/SNS calls). Target: overhead < 10% of total. Also the time
from the silver run's end to the state machine moving on (task token; target
<= 5 s) beside the longest wait `.sync` polling would add on AWS.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import boto3

from local_twin.aws_hooks import GlueRunEnded
from local_twin.paths import SAMPLE_DATA_DIR
from local_twin.progress import Progress
from local_twin.provision import GLUE_JOB_NAME
from local_twin.twin import INPUT_SUFFIXES, Twin
from local_twin.workspace import Workspace
from sales_data_generator import write_dataset


def sample_files(scratch: Path) -> list[Path]:
    files = sorted(p for p in SAMPLE_DATA_DIR.glob("*") if p.name.endswith(INPUT_SUFFIXES))
    if files:
        return files
    return list(write_dataset(scratch / "sample", rows=3_000, files=3).files)


def measure(name: str, files: list[Path], scratch: Path, progress: Progress) -> dict:
    workspace = Workspace.at(scratch / f"ws-{name.replace(' ', '-')}", fresh=True)
    progress(f"scenario {name}: {len(files)} file(s), {sum(f.stat().st_size for f in files):,} B")
    with Twin(workspace, progress=progress) as twin:
        [record] = twin.drop(files)
        learned = run_end_to_next_state(record)
    if record["status"] != "SUCCEEDED":
        raise SystemExit(f"scenario {name}: execution {record['status']}: {record.get('cause')}")
    stages, engine = record["stage_seconds"], record["engine_seconds"]
    total = record["drop_to_end_seconds"]
    work = engine.get("glue", 0.0) + engine.get("dbt", 0.0)
    return {
        "scenario": name,
        "rows read": record["metrics"]["counts"]["read"],
        "trigger (drop -> start)": record["drop_to_start_seconds"],
        "Glue state": stages.get("RunGlueJob", 0.0),
        "  of which Spark start-up": engine.get("spark_start", 0.0),
        "  of which Spark job": engine.get("glue", 0.0) - engine.get("spark_start", 0.0),
        "dbt state": stages.get("RunDbt", 0.0),
        "  of which dbt process": engine.get("dbt", 0.0),
        "Glue run end -> next state": learned,
        "  .sync polling, up to": polling_delay(stages.get("RunGlueJob", 0.0)),
        "total drop -> gold": total,
        "orchestration overhead": total - work,
        "overhead %": 100.0 * (total - work) / total,
    }


def run_end_to_next_state(record: dict) -> float:
    """Seconds from the silver run's end (Glue's CompletedOn) to the moment RunGlueJob
    succeeded or failed: how long the state machine took to learn it (target <= 5 s).
    Negative when the job's own report arrived before Glue recorded the end."""
    runs = boto3.client("glue").get_job_runs(JobName=GLUE_JOB_NAME)["JobRuns"]
    run = next(r for r in runs if r["Arguments"]["--run_id"] == record["run_id"])
    events = boto3.client("stepfunctions").get_execution_history(
        executionArn=record["arn"], maxResults=1000
    )["events"]
    learned = next(e for e in events if e["type"] in ("TaskSucceeded", "TaskFailed")
                   and e["timestamp"] >= run["StartedOn"])  # fmt: skip
    return (learned["timestamp"] - run["CompletedOn"]).total_seconds()


def event_path(scratch: Path, progress: Progress, runs: int = 5) -> float:
    """The same delay when the job dies without reporting (Glue's run-ended event ->
    SQS -> glue_run_ended function -> SendTaskFailure): the slowest of `runs` runs."""
    workspace = Workspace.at(scratch / "ws-event-path", fresh=True)

    def dies(job_name: str, arguments: dict) -> None:
        raise GlueRunEnded("FAILED", "killed by the benchmark")

    delays = []
    with Twin(workspace, glue_runner=dies, ecs_runner=lambda spec: 0) as twin:
        for k in range(runs):
            name = f"event-path-{k}"
            payload = {"run_id": name, "kind": "batch", "source_uris": "s3://x/landing/sales/a.csv"}
            [record] = twin.executions.wait([twin.executions.start(name, payload)], None)
            delays.append(run_end_to_next_state(record))
    progress(f"event path: {', '.join(f'{d:.3f}' for d in delays)} s")
    return max(delays)


def polling_delay(run_seconds: float) -> float:
    """The longest wait `.sync` would add after a run this long, on AWS's schedule
    (GetJobRun once a minute for 10 minutes, then every 5 minutes)."""
    return 60.0 if run_seconds <= 600 else 300.0


def report(results: list[dict]) -> None:
    print()
    print(f"{'':28}" + "".join(f"{r['scenario']:>16}" for r in results))
    for key in results[0]:
        if key == "scenario":
            continue
        cells = []
        for r in results:
            value = r[key]
            cells.append(f"{value:>16,}" if isinstance(value, int) else f"{value:>16.3f}")
        unit = "" if key in ("rows read", "overhead %") else " s"
        print(f"{key + unit:<28}" + "".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the large file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch workspaces")
    args = parser.parse_args()
    progress = Progress()
    scratch = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    try:
        progress(f"generating a {args.rows:,}-row file")
        started = time.perf_counter()
        large = write_dataset(scratch / "large", rows=args.rows, files=1).files
        progress(f"generated in {time.perf_counter() - started:.1f}s")
        results = [
            measure("demo sample", sample_files(scratch), scratch, progress),
            measure(f"{args.rows // 1000}k rows", list(large), scratch, progress),
        ]
        report(results)
        slowest = event_path(scratch, progress)
        print(f"\nGlue run end -> next state when the job dies silently (event path, slowest "
              f"of 5): {slowest:.3f} s (target <= 5 s; .sync polling: up to 60 s)")  # fmt: skip
    finally:
        if args.keep:
            print(f"\nworkspaces kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
