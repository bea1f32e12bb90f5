"""`twin quarantine [RUN]`: what was quarantined and why, without writing code.

Reads silver/quarantine of the workspace (local_twin.lake_tables) and prints the rows
by reason, then the first lines: file, line number, reasons and the raw text exactly as
the file had it. `RUN` is a run id (= execution name) or a unique prefix of one;
`--reason` and `--file` narrow it down.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from local_twin.commands._common import add_workspace_option
from local_twin.workspace import Workspace

RAW_WIDTH = 100


def select(table: pa.Table, run: str | None, reason: str | None, file: str | None) -> pa.Table:
    """The rows of one run (id or unique prefix), one reason code, files whose URI
    contains `file`; ValueError naming the choices when `run` matches no or many runs."""
    if run:
        runs = sorted(set(table.column("run_id").to_pylist()))
        found = [r for r in runs if r == run] or [r for r in runs if r.startswith(run)]
        if len(found) != 1:
            raise ValueError(
                f"run {run!r} matches {len(found)} of the runs with quarantined rows "
                f"({', '.join(runs) or 'none'}); give more of its name"
            )
        table = table.filter(pc.equal(table.column("run_id"), found[0]))
    if reason:
        has = [reason in codes for codes in table.column("reason_codes").to_pylist()]
        table = table.filter(pa.array(has, pa.bool_()))
    if file:
        table = table.filter(pc.match_substring(table.column("source_uri"), file))
    return table


def report(table: pa.Table, limit: int) -> list[str]:
    """Counts by reason (a row with two reasons counts for both), then `limit` lines."""
    if not table.num_rows:
        return ["no quarantined rows match"]
    reasons = Counter(code for codes in table.column("reason_codes").to_pylist() for code in codes)
    files = len(set(table.column("source_uri").to_pylist()))
    lines = [f"{table.num_rows:,} quarantined rows in {files} file(s), by reason:"]
    lines += [f"  {count:>8,}  {code}" for code, count in reasons.most_common()]
    ordered = table.sort_by([("run_id", "ascending"), ("source_uri", "ascending"),
                             ("line_number", "ascending")])  # fmt: skip
    shown = ordered.slice(0, limit).to_pylist()
    lines.append(f"first {len(shown)} (file:line  reasons  raw text):")
    for row in shown:
        name = row["source_uri"].rsplit("/", 1)[-1]
        raw = (row["raw_record"] or "").replace("\r", "\\r").replace("\n", "\\n")
        if len(raw) > RAW_WIDTH:
            raw = raw[: RAW_WIDTH - 1] + "…"
        lines.append(f"  {name}:{row['line_number']}  {','.join(row['reason_codes'])}  {raw}")
        lines.append(f"      {row['reason_detail']}")
    return lines


def run(args) -> int:
    from local_twin.lake_tables import read_silver

    table = read_silver(Workspace.at(args.workspace), "quarantine")
    if table is None:
        print(f"no quarantine in {args.workspace} yet: try `twin demo` or `twin drop FILE`")
        return 0
    try:
        chosen = select(table, args.run, args.reason, args.file)
    except ValueError as error:
        print(f"twin quarantine: {error}")
        return 2
    print("\n".join(report(chosen, args.limit)))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "quarantine", help="show quarantined rows: counts by reason, then the lines"
    )
    parser.add_argument("run", nargs="?", help="a run id (execution name) or a unique prefix")
    parser.add_argument("--reason", help="only rows with this reason code, e.g. bad_order_date")
    parser.add_argument("--file", help="only files whose URI contains this text")
    parser.add_argument("--limit", type=int, default=20, help="lines to show (default 20)")
    add_workspace_option(parser)
    parser.set_defaults(func=run)
