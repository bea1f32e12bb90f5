"""Benchmark: sales events through Kafka -> S3 sink -> pipeline -> gold, versus one batch file.

    .venv/bin/python -m benchmarks.streaming [--events 100000] [--rounds 3] [--keep]

Stream scenario (fresh workspace): produce --events events to librdkafka's mock
cluster, run the local S3 sink (connector.json's flush.size), let the twin run the
trigger, state machine, silver Glue job (stream loader) and dbt. Batch scenario (fresh workspace):
the same order lines, one per event, as one CSV file dropped into landing/sales/.
Spark is started and both scenarios run once on 500 events before timing, so neither
pays the JVM start-up or its warm-up.
Both scenarios then run --rounds times at full size, in alternating order (the first
full-size run also warms the JIT for the other). Prints, for the median rounds, events/s
produced, files written, executions started, Glue runs, latency from the last event
produced to gold updated, both totals and their ratio (target: streaming total within 2x
of the batch-file total).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
from pathlib import Path

from sales_lake.local_spark import local_spark_session
from sales_lake.schema import CANONICAL_HEADER, snake_case

from local_twin.progress import Progress
from local_twin.streaming import stream_events
from local_twin.twin import Twin
from local_twin.workspace import Workspace
from msk_connect.events import generate_events

SEED = 20261126
# Untimed runs of both scenarios first: the JIT and Delta's classes warm up in whichever
# runs first, which would otherwise charge ~15 s to that scenario alone.
WARM_UP_EVENTS = 500
STREAM_TOTAL = "total first event -> gold (s)"
BATCH_TOTAL = "total drop -> gold (s)"


def batch_file_of_events(path: Path, events: int, seed: int = SEED) -> int:
    """One CSV row per event (its order line), in the canonical 24-column layout."""
    columns = [snake_case(name) for name in CANONICAL_HEADER]
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANONICAL_HEADER)
        for event in generate_events(events, seed=seed):
            line = event["order_line"]
            writer.writerow([line[c] for c in columns])
            rows += 1
    return rows


def run_stream(scratch: Path, events: int, progress: Progress, name: str = "stream") -> dict:
    workspace = Workspace.at(scratch / f"ws-{name}", fresh=True)
    with Twin(workspace, progress=progress) as twin:
        run = stream_events(twin, events=events, seed=SEED, progress=progress)
    # From the first event produced, as the batch total runs from the drop (neither
    # counts setting up the twin).
    started = run.last_event_produced_at - run.produce_seconds
    failed = [r for r in run.executions if r["status"] != "SUCCEEDED"]
    if failed or not run.executions:
        raise SystemExit(f"stream scenario: executions {[r['status'] for r in run.executions]}")
    ends = [r["stopped_at_epoch"] for r in run.executions]
    glue_runs = sum(1 for r in run.executions if "RunGlueJob" in (r.get("stage_seconds") or {}))
    return {
        "events produced": run.delivered,
        "events/s produced": run.events_per_second,
        "files written": len(run.objects),
        "executions started": len(run.executions),
        "Glue runs": glue_runs,
        "rows read by Glue": sum(r["metrics"]["counts"]["read"] for r in run.executions),
        "last event -> gold (s)": run.last_event_to_gold_seconds,
        STREAM_TOTAL: max(ends) - started,
    }


def run_batch(scratch: Path, events: int, progress: Progress, name: str = "batch") -> dict:
    csv_path = scratch / name / "sales_stream_equivalent.csv"
    rows = batch_file_of_events(csv_path, events)
    workspace = Workspace.at(scratch / f"ws-{name}", fresh=True)
    with Twin(workspace, progress=progress) as twin:
        [record] = twin.drop([csv_path])
    if record["status"] != "SUCCEEDED":
        raise SystemExit(f"batch scenario: {record['status']}: {record.get('cause')}")
    return {
        "rows in the file": rows,
        "rows read by Glue": record["metrics"]["counts"]["read"],
        BATCH_TOTAL: record["drop_to_end_seconds"],
    }


def _print_figures(title: str, figures: dict) -> None:
    print(f"\n{title}")
    for key, value in figures.items():
        shown = f"{value:>14,.1f}" if isinstance(value, float) else f"{value:>14,}"
        print(f"  {key:<32} {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="stream + batch runs, order alternating (medians)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch workspaces")
    args = parser.parse_args()
    progress = Progress()
    scratch = Path(tempfile.mkdtemp(prefix="streaming-bench-"))
    streams, batches = [], []
    try:
        progress("starting Spark and warming both loaders (excluded from both scenarios)")
        local_spark_session().range(1).count()
        run_stream(scratch, WARM_UP_EVENTS, progress, name="warm-up-stream")
        run_batch(scratch, WARM_UP_EVENTS, progress, name="warm-up-batch")
        for n in range(1, args.rounds + 1):
            # Whichever runs first at full size also warms the JIT for the other (shared
            # Spark/Delta code, ~2-3 s), so the order alternates between rounds.
            progress(f"round {n} of {args.rounds}")
            scenarios = [
                lambda n=n: streams.append(run_stream(scratch, args.events, progress, f"s{n}")),
                lambda n=n: batches.append(run_batch(scratch, args.events, progress, f"b{n}")),
            ]
            for scenario in scenarios if n % 2 else reversed(scenarios):
                scenario()
    finally:
        if args.keep:
            print(f"\nworkspaces kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    stream = sorted(streams, key=lambda f: f[STREAM_TOTAL])[len(streams) // 2]
    batch = sorted(batches, key=lambda f: f[BATCH_TOTAL])[len(batches) // 2]
    _print_figures(
        f"Streaming (mock Kafka -> local S3 sink -> twin), median of {args.rounds}", stream
    )
    _print_figures(f"Same rows as one batch CSV (twin drop), median of {args.rounds}", batch)
    print(f"\nstream totals (s): {', '.join(f'{f[STREAM_TOTAL]:.1f}' for f in streams)}")
    print(f"batch totals (s):  {', '.join(f'{f[BATCH_TOTAL]:.1f}' for f in batches)}")
    ratio = stream[STREAM_TOTAL] / batch[BATCH_TOTAL]
    print(
        f"streaming total / batch total (medians) = {ratio:.2f} (target <= 2.0: "
        f"{'met' if ratio <= 2.0 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
