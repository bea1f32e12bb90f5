"""`twin report`: one self-contained HTML page of what the pipeline built.

Every number comes from gold (the dbt build's DuckDB file) or from the workspace's
execution records: sales and margin by month and market, by category, the top
customers, quarantined rows per run and reason (gold's `dq_quarantine_by_run_reason`),
and the run history. Charts are Plotly figures; plotly.js is inlined once, so the file
opens offline, mailed or archived, with nothing fetched. Each chart has a table beside
it with the exact figures (money to the cent), which is also what the tests compare
with gold after the page has rendered in a real browser.

`gather` reads, `render` writes HTML: the page is a pure function of the gathered data.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

TOP_CUSTOMERS = 10
MONTHLY_SQL = """
    select year_month, market, sum(sales) as sales, sum(profit) as profit
    from agg_sales_by_month_market_category group by 1, 2 order by 1, 2"""
CATEGORY_SQL = """
    select category, sum(sales) as sales, sum(profit) as profit, sum(quantity) as quantity
    from agg_sales_by_month_market_category group by 1 order by sales desc, category"""
CUSTOMERS_SQL = f"""
    select customer_id, customer_name, segment, orders, sales, profit
    from agg_customer_summary order by sales desc, customer_id limit {TOP_CUSTOMERS}"""
QUARANTINE_SQL = """
    select run_id, reason_code, records
    from dq_quarantine_by_run_reason order by run_id, records desc, reason_code"""
TOTALS_SQL = """
    select count(*) as lines, count(distinct order_id) as orders,
           count(distinct customer_id) as customers,
           coalesce(sum(sales), 0) as sales, coalesce(sum(profit), 0) as profit
    from fact_sales"""


class ReportError(RuntimeError):
    """No report can be made; the message says what to run first."""


@dataclass(frozen=True)
class ReportData:
    """What the page shows: query results as lists of dicts, and the runs."""

    totals: dict
    monthly: list[dict]
    categories: list[dict]
    customers: list[dict]
    quarantine: list[dict]
    runs: list[dict]
    made_at: str


def _rows(con, sql: str) -> list[dict]:
    result = con.sql(sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.fetchall()]


def gather(con, executions: list[dict]) -> ReportData:
    """Read the page's figures from a DuckDB connection on gold, and the run records."""
    present = {name for (name,) in con.sql("select table_name from duckdb_tables()").fetchall()}
    if "fact_sales" not in present:
        raise ReportError("gold has no fact_sales yet: run `twin demo` or `twin drop FILE` first")
    runs = sorted(executions, key=lambda r: r.get("started_at") or "")
    return ReportData(
        totals=_rows(con, TOTALS_SQL)[0],
        monthly=_rows(con, MONTHLY_SQL),
        categories=_rows(con, CATEGORY_SQL),
        customers=_rows(con, CUSTOMERS_SQL),
        quarantine=_rows(con, QUARANTINE_SQL),
        runs=[_run_row(r) for r in runs],
        made_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _run_row(record: dict) -> dict:
    counts = (record.get("metrics") or {}).get("counts") or {}
    return {
        "name": record.get("name", "?"),
        "status": record.get("status", "?"),
        "started_at": (record.get("started_at") or "")[:19].replace("T", " "),
        "seconds": record.get("duration_seconds"),
        **{key: counts.get(key, 0) for key in ("read", "inserted", "updated", "quarantined")},
        "held": counts.get("held", 0),
    }


# ---------------------------------------------------------------- formatting


def money(value) -> str:
    """To the cent, half away from zero (the table shows what the chart labels say)."""
    return f"{Decimal(value).quantize(Decimal('0.01'), rounding='ROUND_HALF_UP'):,}"


def margin(profit, sales) -> str:
    """profit / sales, or '-' without sales."""
    sales = Decimal(sales or 0)
    return f"{Decimal(profit) / sales:.1%}" if sales else "-"


def _table(headers: list[str], rows: list[list], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure(fig, div_id: str) -> str:
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=380)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})  # fmt: skip


# ---------------------------------------------------------------- sections


def _monthly(data: ReportData) -> str:
    import plotly.graph_objects as go

    markets = sorted({r["market"] for r in data.monthly})
    months = sorted({r["year_month"] for r in data.monthly})
    by = {(r["year_month"], r["market"]): r for r in data.monthly}
    sales = go.Figure(
        [go.Scatter(x=months, y=[float(by[m, k]["sales"]) if (m, k) in by else None
                                 for m in months], name=k, mode="lines+markers")
         for k in markets]
    )  # fmt: skip
    sales.update_layout(title="Sales by month and market", yaxis_title="sales")
    margins = go.Figure(
        go.Heatmap(
            x=months, y=markets, colorscale="RdYlGn", zmid=0, colorbar={"title": "margin"},
            z=[[float(by[m, k]["profit"] / by[m, k]["sales"]) if (m, k) in by and by[m, k]["sales"]
                else None for m in months] for k in markets],
        )
    )  # fmt: skip
    margins.update_layout(title="Margin (profit / sales) by month and market")
    rows = [[r["year_month"], r["market"], money(r["sales"]), money(r["profit"]),
             margin(r["profit"], r["sales"])] for r in data.monthly]  # fmt: skip
    table = _table(["month", "market", "sales", "profit", "margin"], rows, "monthly-table")
    return (
        "<h2>Sales and margin by month and market</h2>"
        + _figure(sales, "chart-monthly-sales")
        + _figure(margins, "chart-monthly-margin")
        + f"<details><summary>the figures ({len(rows)} rows)</summary>{table}</details>"
    )


def _categories(data: ReportData) -> str:
    import plotly.graph_objects as go

    names = [r["category"] for r in data.categories]
    fig = go.Figure(
        [go.Bar(x=names, y=[float(r[measure]) for r in data.categories], name=measure,
                text=[money(r[measure]) for r in data.categories], textposition="outside",
                cliponaxis=False)
         for measure in ("sales", "profit")]
    )  # fmt: skip
    fig.update_layout(title="Sales and profit by category", barmode="group")
    rows = [[r["category"], money(r["sales"]), money(r["profit"]), margin(r["profit"], r["sales"]),
             f"{r['quantity']:,}"] for r in data.categories]  # fmt: skip
    return (
        "<h2>By category</h2>"
        + _figure(fig, "chart-categories")
        + _table(["category", "sales", "profit", "margin", "quantity"], rows, "category-table")
    )


def _customers(data: ReportData) -> str:
    import plotly.graph_objects as go

    ordered = list(reversed(data.customers))  # largest at the top of a horizontal bar chart
    fig = go.Figure(
        go.Bar(y=[f"{r['customer_name']} ({r['customer_id']})" for r in ordered],
               x=[float(r["sales"]) for r in ordered], orientation="h",
               text=[money(r["sales"]) for r in ordered], textposition="auto")
    )  # fmt: skip
    fig.update_layout(title=f"Top {TOP_CUSTOMERS} customers by sales")
    rows = [[r["customer_id"], r["customer_name"], r["segment"], f"{r['orders']:,}",
             money(r["sales"]), money(r["profit"])] for r in data.customers]  # fmt: skip
    headers = ["customer", "name", "segment", "orders", "sales", "profit"]
    return (
        "<h2>Top customers</h2>"
        + _figure(fig, "chart-customers")
        + _table(headers, rows, "customer-table")
    )


def _quarantine(data: ReportData) -> str:
    import plotly.graph_objects as go

    if not data.quarantine:
        return "<h2>Quarantine</h2><p>No row has been quarantined.</p>"
    runs = sorted({r["run_id"] for r in data.quarantine})
    reasons = sorted({r["reason_code"] for r in data.quarantine})
    by = {(r["run_id"], r["reason_code"]): r["records"] for r in data.quarantine}
    fig = go.Figure(
        [go.Bar(x=[run[:40] for run in runs], y=[by.get((run, code), 0) for run in runs],
                name=code) for code in reasons]
    )  # fmt: skip
    fig.update_layout(title="Quarantined rows per run and reason", barmode="stack")
    rows = [[r["run_id"], r["reason_code"], f"{r['records']:,}"] for r in data.quarantine]
    return (
        "<h2>Quarantine reasons per run</h2>"
        + _figure(fig, "chart-quarantine")
        + _table(["run", "reason", "rows"], rows, "quarantine-table")
        + "<p>Line by line: <code>twin quarantine RUN</code>.</p>"
    )


def _runs(data: ReportData) -> str:
    import plotly.graph_objects as go

    names = [r["name"][:40] for r in data.runs]
    fig = go.Figure(
        [go.Bar(x=names, y=[r[key] for r in data.runs], name=key)
         for key in ("inserted", "updated", "quarantined", "held")]
    )  # fmt: skip
    fig.update_layout(title="Rows per execution", barmode="stack")
    rows = [[r["name"], r["status"], r["started_at"],
             "-" if r["seconds"] is None else f"{r['seconds']:.1f}",
             *(f"{r[k]:,}" for k in ("read", "inserted", "updated", "quarantined", "held"))]
            for r in data.runs]  # fmt: skip
    headers = ["execution", "status", "started (UTC)", "seconds", "read", "inserted", "updated",
               "quarantined", "held"]  # fmt: skip
    return "<h2>Run history</h2>" + _figure(fig, "chart-runs") + _table(headers, rows, "run-table")


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0; } .made { color: #666; margin-top: .2rem; }
.tiles { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.tile b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #eee; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
"""


def render(data: ReportData) -> str:
    """The whole page (plotly.js inlined: opens offline)."""
    from plotly.offline import get_plotlyjs

    t = data.totals
    tiles = [("sales", money(t["sales"])), ("profit", money(t["profit"])),
             ("margin", margin(t["profit"], t["sales"])), ("order lines", f"{t['lines']:,}"),
             ("orders", f"{t['orders']:,}"), ("customers", f"{t['customers']:,}"),
             ("executions", f"{len(data.runs):,}")]  # fmt: skip
    tile_html = "".join(
        f'<div class="tile" id="total-{name.replace(" ", "-")}">{html.escape(name)}'
        f"<b>{html.escape(value)}</b></div>"
        for name, value in tiles
    )
    sections = (_monthly, _categories, _customers, _quarantine, _runs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sales pipeline report</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f'<h1>Sales pipeline report</h1><p class="made">gold as of {data.made_at}</p>'
        f'<div class="tiles">{tile_html}</div>'
        + "".join(section(data) for section in sections)
        + "</body></html>"
    )
