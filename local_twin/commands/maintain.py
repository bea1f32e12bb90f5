"""`twin maintain`: compact and vacuum the workspace's silver Delta tables, as the weekly
maintenance run of the silver job does on AWS (sales_lake.maintenance)."""

from __future__ import annotations

from local_twin.commands._common import add_workspace_option
from local_twin.workspace import Workspace


def run(args) -> int:
    from sales_lake.local_spark import local_spark_session
    from sales_lake.maintenance import maintain

    workspace = Workspace.at(args.workspace)
    print(f"compacting and vacuuming silver in {workspace.root} (starting Spark) ...", flush=True)
    done = maintain(local_spark_session(), workspace.lake_uri(), args.retain_hours)
    for table, what in done.items():
        if "skipped" in what:
            print(f"  {table}: {what['skipped']}")
        else:
            kept = what["retain_hours"]
            kept = f"{kept:g} h" if isinstance(kept, float) else "the table's retention"
            print(f"  {table}: {what['files_before']} files -> {what['files_after']} "
                  f"({what['seconds']} s; unread files older than {kept} vacuumed)")  # fmt: skip
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "maintain", help="compact and vacuum the silver Delta tables (weekly on AWS)"
    )
    parser.add_argument(
        "--retain-hours",
        type=float,
        default=None,
        help="keep every file a version of the last N hours reads (default: the table's "
        "own retention, 30 days for silver; Delta refuses less)",
    )
    add_workspace_option(parser)
    parser.set_defaults(func=run)
