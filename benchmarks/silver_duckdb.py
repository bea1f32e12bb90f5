"""The DuckDB reference for benchmarks.silver: the job's work, in one embedded engine.

Same input file, same steps: parse (all text, malformed lines set aside), detect
the file's date order (the job's own `dates.decide`), type and validate with
reason codes, hash the business columns, keep the last copy per row_id, and write
silver and quarantine as Parquet. Not done here (the job does them): physical line
numbers and raw text of every quarantined record, encoding detection, Delta MERGE.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from sales_lake import dates
from sales_lake.batch.conform import FIELDS
from sales_lake.rules import ENUMERATIONS
from sales_lake.schema import BUSINESS_COLUMNS
from sales_lake.schema import MONEY as SILVER_MONEY
from sales_lake.schema import RATE as SILVER_RATE

DM = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
ISO = r"^\s*(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})"
MONEY = r"^[-+]?\s*[$€£¥]?\s*[-+]?\s*(\d{1,3}(,\d{3})+|\d{1,14})(\.\d+)?\s*$"


def _date(column: str, order: str | None) -> str:
    def part(pattern: str, i: int) -> str:
        return f"try_cast(nullif(regexp_extract({column}, '{pattern}', {i}), '') AS INT)"

    a, b, y = part(DM, 1), part(DM, 2), part(DM, 3)
    day, month = (a, b) if order == dates.DAY_FIRST else (b, a)
    dm = f"try_cast(printf('%04d-%02d-%02d', {y}, {month}, {day}) AS DATE)"
    y2, m2, d2 = part(ISO, 1), part(ISO, 2), part(ISO, 3)
    iso = f"try_cast(printf('%04d-%02d-%02d', {y2}, {m2}, {d2}) AS DATE)"
    if order not in (dates.DAY_FIRST, dates.MONTH_FIRST):
        dm = "NULL::DATE"
    return f"CASE WHEN regexp_matches({column}, '{ISO}') THEN {iso} ELSE {dm} END"


def _enum(column: str) -> str:
    pairs = ", ".join(f"'{v.lower()}': '{v}'" for v in sorted(ENUMERATIONS[column]))
    return f"MAP {{{pairs}}}[lower(trim({column}))]"


def _money(column: str) -> str:
    cleaned = f"regexp_replace({column}, '[\\s$€£¥,+]', '', 'g')"
    decimal = f"try_cast({cleaned} AS {SILVER_MONEY})"
    return f"CASE WHEN regexp_matches({column}, '{MONEY}') THEN {decimal} END"


def duckdb_reference(source: Path, out: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE raw AS SELECT * FROM read_csv('{source}', header=true, all_varchar=true,
            quote='"', escape='"', names={list(FIELDS)}, ignore_errors=true, store_rejects=true)"""
    )
    evidence_sql = ", ".join(
        f"""count(*) FILTER (WHERE a_{c} > 12 AND b_{c} <= 12) AS {c}__dmy,
            count(*) FILTER (WHERE b_{c} > 12 AND a_{c} <= 12) AS {c}__mdy,
            count(*) FILTER (WHERE a_{c} <= 12 AND b_{c} <= 12 AND a_{c} <> b_{c}) AS {c}__amb,
            count(*) FILTER (WHERE regexp_matches({c}, '{ISO}')) AS {c}__iso,
            min(length(regexp_extract({c}, '{DM}', 1))) FILTER (WHERE a_{c} IS NOT NULL)
                AS {c}__width"""
        for c in ("order_date", "ship_date")
    )
    parts_sql = ", ".join(
        f"try_cast(nullif(regexp_extract({c}, '{DM}', {i}), '') AS INT) AS {p}_{c}"
        for c in ("order_date", "ship_date")
        for p, i in (("a", 1), ("b", 2))
    )
    row = con.execute(
        f"SELECT {evidence_sql} FROM (SELECT order_date, ship_date, {parts_sql} FROM raw)"
    ).fetchone()
    names = [d[0] for d in con.description]
    evidence = dict(zip(names, row, strict=True))
    evidence["order_date__seps"] = ["/"]
    fmt = dates.decide(evidence, ("order_date", "ship_date"))

    typed = {
        "row_id": "CASE WHEN regexp_matches(row_id, '^\\d{1,18}$') THEN row_id::BIGINT END",
        "order_date": _date("order_date", fmt.order),
        "ship_date": _date("ship_date", fmt.order),
        "quantity": "CASE WHEN regexp_matches(quantity, '^\\+?\\d{1,9}$') THEN quantity::INT END",
        "discount": f"try_cast(discount AS {SILVER_RATE})",
        **{m: _money(m) for m in ("sales", "profit", "shipping_cost")},
        **{e: _enum(e) for e in ENUMERATIONS},
    }
    typed_sql = ", ".join(f"{expr} AS t_{name}" for name, expr in typed.items())
    checks = [
        ("missing_row_id", "row_id IS NULL"),
        ("bad_row_id", "row_id IS NOT NULL AND (t_row_id IS NULL OR t_row_id <= 0)"),
        *[(f"missing_{k}", f"{k} IS NULL") for k in ("order_id", "customer_id", "product_id")],
        *[(f"bad_{d}", f"t_{d} IS NULL") for d in ("order_date", "ship_date")],
        ("ship_before_order", "t_ship_date < t_order_date"),
        *[(f"unknown_{e}", f"{e} IS NOT NULL AND t_{e} IS NULL") for e in ENUMERATIONS],
        *[(f"bad_{m}", f"t_{m} IS NULL") for m in ("sales", "profit")],
        ("bad_shipping_cost", "shipping_cost IS NOT NULL AND t_shipping_cost IS NULL"),
        ("bad_quantity", "t_quantity IS NULL OR t_quantity <= 0"),
        ("bad_discount", "t_discount IS NULL OR t_discount NOT BETWEEN 0 AND 1"),
    ]
    reasons = ", ".join(f"CASE WHEN {cond} THEN '{code}' END" for code, cond in checks)
    con.execute(
        f"""CREATE TABLE checked AS
            SELECT *, list_filter([{reasons}], x -> x IS NOT NULL) AS reasons
            FROM (SELECT rowid AS line, *, {typed_sql} FROM raw)"""
    )
    business = [f"t_{n} AS {n}" if n in typed else f"{n}" for n, _, _ in BUSINESS_COLUMNS]
    hashed = (
        "sha256(concat_ws(chr(31), "
        + ", ".join(
            f"coalesce(CAST(t_{n} AS VARCHAR), chr(0))" if n in typed else f"coalesce({n}, chr(0))"
            for n, _, _ in BUSINESS_COLUMNS
        )
        + "))"
    )
    con.execute(
        f"""COPY (SELECT {", ".join(business)}, {hashed} AS record_hash, line AS source_line
                  FROM checked WHERE len(reasons) = 0
                  QUALIFY row_number() OVER (PARTITION BY t_row_id ORDER BY line DESC) = 1)
            TO '{out / "silver.parquet"}' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT line, reasons FROM checked WHERE len(reasons) > 0
                  UNION ALL SELECT DISTINCT line, ['malformed_record'] FROM reject_errors)
            TO '{out / "quarantine.parquet"}' (FORMAT parquet)"""
    )
    seconds = time.perf_counter() - started
    counts = con.execute(
        f"""SELECT (SELECT count(*) FROM raw)
                   + (SELECT count(DISTINCT line) FROM reject_errors) AS read,
                   (SELECT count(*) FROM '{out / "silver.parquet"}') AS silver,
                   (SELECT count(*) FROM '{out / "quarantine.parquet"}') AS quarantined"""
    ).fetchone()
    con.close()
    return seconds, dict(zip(("read", "silver", "quarantined"), counts, strict=True))
