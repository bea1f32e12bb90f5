"""`twin report`: write the workspace's report, one self-contained HTML file with charts
(local_twin.report), and say where it is and how to open it."""

from __future__ import annotations

import sys
from pathlib import Path

from local_twin.commands._common import add_workspace_option
from local_twin.workspace import Workspace


def run(args) -> int:
    import duckdb

    from local_twin import report

    workspace = Workspace.at(args.workspace)
    if not workspace.duckdb_path.exists():
        print(f"twin report: no gold in {workspace.root} yet: run `twin demo` or "
              "`twin drop FILE` first", file=sys.stderr)  # fmt: skip
        return 2
    con = duckdb.connect(str(workspace.duckdb_path), read_only=True)
    try:
        data = report.gather(con, workspace.executions())
    except report.ReportError as error:
        print(f"twin report: {error}", file=sys.stderr)
        return 2
    finally:
        con.close()
    out = args.out or workspace.root / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.render(data), encoding="utf-8")
    totals = data.totals
    print(f"report: {out} ({out.stat().st_size / 1e6:.1f} MB, opens offline)")
    print(f"  {totals['lines']:,} order lines, sales {report.money(totals['sales'])}, "
          f"{len(data.runs)} executions, {sum(r['records'] for r in data.quarantine):,} "
          "quarantined rows")  # fmt: skip
    print(f"  open it in a browser: file://{out.resolve()}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="write an HTML report with charts of gold and the runs (opens offline)"
    )
    parser.add_argument(
        "--out", type=Path, help="where to write it (default: <workspace>/report.html)"
    )
    add_workspace_option(parser)
    parser.set_defaults(func=run)
