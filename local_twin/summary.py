"""What the twin prints after a run: executions, run metrics, gold row counts, headlines."""

from __future__ import annotations

import json
from pathlib import Path

from sales_lake.run_metrics import COUNT_KEYS as COUNTS

LISTED = 10  # rejected or held files listed per execution; the rest are counted


def listed(entries: list, line) -> list[str]:
    """The first LISTED entries as lines, then how many more (they are in metrics.json)."""
    lines = [line(entry) for entry in entries[:LISTED]]
    if len(entries) > LISTED:
        lines.append(f"{'':18}… and {len(entries) - LISTED:,} more (runs/<run_id>/metrics.json)")
    return lines


def readable(text: object) -> str:
    """A failure cause in one line: a Glue job run or ECS task description (the JSON a
    `.sync` integration gives as its cause) is told as its state and message, never dumped."""
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return " ".join(str(text).split())
    try:
        described = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    if not isinstance(described, dict):
        return " ".join(text.split())
    if "JobRunState" in described:
        message = described.get("ErrorMessage") or "no error message"
        return (f"Glue job run {described.get('Id', '?')} ended {described['JobRunState']}: "
                f"{' '.join(str(message).split())}")  # fmt: skip
    if "TaskArn" in described:
        containers = described.get("Containers") or [{}]
        return (f"ECS task {described['TaskArn']} stopped ({described.get('StoppedReason')}), "
                f"exit code {containers[0].get('ExitCode')}")  # fmt: skip
    return "; ".join(f"{k}: {v}" for k, v in described.items() if not isinstance(v, dict | list))


def execution_lines(records: list[dict]) -> list[str]:
    lines = []
    for record in records:
        duration = record.get("duration_seconds")
        took = f"{duration:6.1f}s" if duration is not None else "     - "
        lines.append(f"{record['status']:<9} {took}  {record['name']}")
        metrics = record.get("metrics") or {}
        if metrics.get("counts"):
            counts = ", ".join(f"{k} {metrics['counts'].get(k, 0)}" for k in COUNTS)
            ratio = metrics.get("quarantine_ratio", 0.0)
            lines.append(f"{'':18}rows: {counts} (quarantine ratio {ratio:.2%})")
        lines += listed(
            metrics.get("rejected_files") or [],
            lambda r: (
                f"{'':18}rejected ({r.get('reason')}): {readable(r.get('detail') or r.get('uri'))}"
            ),
        )
        lines += listed(
            (metrics.get("quality") or {}).get("breached_files") or [],
            lambda b: f"{'':18}{b.get('action')}: {readable(b.get('detail') or b.get('uri'))}",
        )
        stages = record.get("stage_seconds") or {}
        if stages:
            glue, dbt = stages.get("RunGlueJob"), stages.get("RunDbt")
            parts = [f"Glue {glue:.1f}s" if glue else None, f"dbt {dbt:.1f}s" if dbt else None]
            if any(parts):
                lines.append(f"{'':18}stages: {', '.join(p for p in parts if p)}")
        for notice in record.get("notifications") or []:
            lines.append(f"{'':18}notification: {notice.get('what_failed')}")
            lines.append(f"{'':18}  {readable(notice.get('details'))}")
        if record["status"] != "SUCCEEDED" and not record.get("notifications"):
            lines.append(f"{'':18}{record.get('error')}: {readable(record.get('cause'))}")
    return lines


def gold_row_counts(duckdb_path: Path) -> dict[str, int]:
    """Rows per table/view of the gold DuckDB file ({} when gold is not built yet)."""
    if not duckdb_path.exists():
        return {}
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') "
            "order by table_schema, table_name"
        ).fetchall()
        counts = {}
        for schema, name in tables:
            try:
                query = f'select count(*) from "{schema}"."{name}"'
                counts[name] = con.execute(query).fetchone()[0]
            except duckdb.CatalogException:
                # dbt-duckdb's delta sources are views over data frames that exist only
                # while dbt runs (silver.sales, silver.quarantine): nothing to count here.
                continue
        return counts


def headline_figures(duckdb_path: Path) -> dict[str, str]:
    """A few business figures read from gold, to show the pipeline produced something real."""
    if not duckdb_path.exists():
        return {}
    import duckdb

    figures: dict[str, str] = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        try:
            sales, profit, orders, lines = con.execute(
                "select sum(sales), sum(profit), count(distinct order_id), count(*) from fact_sales"
            ).fetchone()
            figures["order lines"] = f"{lines:,}"
            figures["orders"] = f"{orders:,}"
            figures["sales"] = f"{sales:,.2f}"
            figures["profit"] = f"{profit:,.2f} ({profit / sales:.1%} margin)" if sales else "-"
            market, market_sales = con.execute(
                "select market, sum(sales) s from agg_sales_by_month_market_category "
                "group by market order by s desc limit 1"
            ).fetchone()
            figures["top market"] = f"{market} ({market_sales:,.2f})"
        except duckdb.Error as exc:  # gold models changed: say so, do not hide it
            figures["headline query failed"] = str(exc).splitlines()[0]
    return figures


def render(records: list[dict], duckdb_path: Path) -> str:
    out = ["", "Executions", *execution_lines(records)]
    counts = gold_row_counts(duckdb_path)
    out += ["", f"Gold ({duckdb_path})"]
    out += [f"  {name:<40} {rows:>10,}" for name, rows in counts.items()] or ["  not built yet"]
    figures = headline_figures(duckdb_path) if counts else {}
    if figures:
        out += ["", "Headline figures (gold)"]
        out += [f"  {name:<14} {value}" for name, value in figures.items()]
    return "\n".join(out)
