"""`twin stream --events N`: sales events through Kafka, the S3 sink and the pipeline to gold.

Starts librdkafka's mock Kafka cluster, produces N events with the project's
producer, runs the local S3 sink (msk_connect/connector.json's layout and
flush.size), and lets the files flow through the twin: S3 events -> trigger ->
state machine -> silver Glue job (stream loader) -> dbt. Continues the workspace
like `twin drop`.
"""

from __future__ import annotations

import time

from local_twin import summary
from local_twin.commands._common import add_policy_options, add_workspace_option, twin_settings
from local_twin.progress import Progress, add_verbose_option
from local_twin.streaming import stream_events
from local_twin.twin import Twin
from local_twin.workspace import Workspace
from msk_connect.events import EventMix


def stream_lines(run) -> list[str]:
    latency = run.last_event_to_gold_seconds
    return [
        "",
        "Stream",
        f"  events produced    {run.delivered:,} in {run.produce_seconds:.1f}s "
        f"({run.events_per_second:,.0f} events/s)",
        f"  files written      {len(run.objects)} (sink drained in {run.sink_seconds:.1f}s)",
        f"  executions         {len(run.executions)}",
        "  last event -> gold "
        + (f"{latency:.1f}s" if latency is not None else "not reached (see executions)"),
    ]


def run(args) -> int:
    workspace = Workspace.at(args.workspace)
    progress = Progress(verbose=args.verbose)
    mix = EventMix(update_ratio=args.update_ratio, cancel_ratio=args.cancel_ratio)
    with Twin(workspace, progress=progress, **twin_settings(args)) as twin:
        result = stream_events(
            twin,
            events=args.events,
            seed=args.seed,
            rate=args.rate,
            mix=mix,
            flush_size=args.flush_size,
            progress=progress,
        )
    try:
        print(summary.render(result.executions, workspace.duckdb_path))
    except Exception as exc:  # a gold summary problem must not hide the stream figures
        print("\n".join(["", "Executions", *summary.execution_lines(result.executions)]))
        print(f"(gold summary unavailable: {str(exc).splitlines()[0]})")
    print("\n".join(stream_lines(result)))
    ok = result.executions and all(r["status"] == "SUCCEEDED" for r in result.executions)
    return 0 if ok else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stream", help="produce sales events to a mock Kafka and run them through to gold"
    )
    parser.add_argument("--events", type=int, default=1000, help="events to produce")
    parser.add_argument("--rate", type=float, help="events per second (default: unthrottled)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="generator seed")
    parser.add_argument("--update-ratio", type=float, default=0.2)
    parser.add_argument("--cancel-ratio", type=float, default=0.05)
    parser.add_argument(
        "--flush-size", type=int, help="records per file (default: connector.json's flush.size)"
    )
    add_workspace_option(parser)
    add_policy_options(parser)
    add_verbose_option(parser)
    parser.set_defaults(func=run)
