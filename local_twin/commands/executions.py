"""`twin executions`: the workspace's past executions with their status."""

from __future__ import annotations

from local_twin.commands._common import add_workspace_option
from local_twin.workspace import Workspace


def run(args) -> int:
    records = Workspace.at(args.workspace).executions()
    if not records:
        print(f"no executions in {args.workspace} yet: try `twin demo` or `twin drop FILE`")
        return 0
    print(f"{'started (UTC)':<20} {'status':<9} {'seconds':>8} {'read':>7} {'quar.':>6}  name")
    for record in records:
        counts = (record.get("metrics") or {}).get("counts", {})
        duration = record.get("duration_seconds")
        print(
            f"{record['started_at'][:19]:<20} {record['status']:<9} "
            f"{f'{duration:.1f}' if duration is not None else '-':>8} "
            f"{counts.get('read', '-'):>7} {counts.get('quarantined', '-'):>6}  {record['name']}"
        )
        for notice in record.get("notifications") or []:
            print(f"{'':47}-> {notice.get('what_failed')}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("executions", help="list past executions with their status")
    add_workspace_option(parser)
    parser.set_defaults(func=run)
