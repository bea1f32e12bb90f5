"""`twin demo`: fresh workspace, bundled sample, the whole pipeline, then a summary.

The good sample files are dropped together (one coalesced execution), then each
file of data/sample/bad/ on its own, to show a file held by the quality gate and a
rejected file's failure notification; then the streaming part: sales events through mock
Kafka and the local S3 sink into the silver Glue job (stream loader) and gold.
"""

from __future__ import annotations

from local_twin import summary
from local_twin.commands._common import add_policy_options, add_workspace_option, twin_settings
from local_twin.commands.stream import stream_lines
from local_twin.paths import SAMPLE_DATA_DIR
from local_twin.progress import Progress, add_verbose_option
from local_twin.streaming import stream_events
from local_twin.twin import INPUT_SUFFIXES, Twin
from local_twin.workspace import Workspace

DEMO_STREAM_EVENTS = 2000
DEMO_STREAM_SEED = 2026
# What the demo's last lines suggest (tests/local_twin/test_demo_hints.py: each is a command).
LOOK_FURTHER = (
    ("twin quarantine", "what was quarantined and why, line by line"),
    ('twin sql "select * from fact_sales limit 5"', "gold, and silver_sales, silver_quarantine"),
    ("twin report", "an HTML report with charts of gold and the runs (opens offline)"),
)


def sample_files(folder):
    return sorted(
        p for p in folder.glob("*") if p.is_file() and p.name.lower().endswith(INPUT_SUFFIXES)
    )


def run(args) -> int:
    good, bad = sample_files(SAMPLE_DATA_DIR), sample_files(SAMPLE_DATA_DIR / "bad")
    if not good:
        print(
            f"no sample CSV files in {SAMPLE_DATA_DIR}: restore data/sample/ from git, or "
            "regenerate it with the commands in data/sample/README.md; or drop your own "
            "files with `twin drop FILE...`."
        )
        return 2
    workspace = Workspace.at(args.workspace, fresh=True)
    progress = Progress(verbose=args.verbose)
    progress(f"fresh workspace {workspace.root}")
    with Twin(workspace, progress=progress, **twin_settings(args)) as twin:
        records = twin.drop(good)
        for path in bad:
            records += twin.drop([path])
        streamed = None
        if args.stream_events:
            progress(f"streaming part: {args.stream_events} sales events through Kafka")
            streamed = stream_events(
                twin, events=args.stream_events, seed=DEMO_STREAM_SEED, progress=progress
            )
            records += streamed.executions
    print(summary.render(records, workspace.duckdb_path))
    if streamed is not None:
        print("\n".join(stream_lines(streamed)))
    print(
        f"\nWorkspace kept in {workspace.root}: `twin executions`, `twin drop FILE`, "
        "`twin rerun NAME` continue from here.\nLook further:"
    )
    for command, what in LOOK_FURTHER:
        print(f"  {command:<48} {what}")
    return 0 if records and records[0]["status"] == "SUCCEEDED" else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole pipeline offline on the bundled sample and summarise it"
    )
    parser.add_argument(
        "--stream-events",
        type=int,
        default=DEMO_STREAM_EVENTS,
        metavar="N",
        help=f"then N sales events through Kafka -> S3 sink -> stream job (default "
        f"{DEMO_STREAM_EVENTS}; 0 skips the streaming part)",
    )
    add_workspace_option(parser)
    add_policy_options(parser)
    add_verbose_option(parser)
    parser.set_defaults(func=run)
