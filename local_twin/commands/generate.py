"""`twin generate`: write sample sales CSVs (Global Superstore layout), faults on request."""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from datetime import date

from local_twin.progress import Progress
from sales_data_generator import (
    DATE_FORMATS,
    ENCODINGS,
    FAULT_KINDS,
    HEADERS,
    write_dataset,
)

SHOW_PROGRESS_ROWS = 200_000  # smaller outputs are written in a few seconds


def parse_faults(text: str) -> dict[str, float]:
    """'malformed=0.01,bad_date=0.005' -> {'malformed': 0.01, 'bad_date': 0.005}."""
    faults: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, sep, rate = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{item!r}: write KIND=RATE, e.g. malformed=0.01")
        if kind not in FAULT_KINDS:
            raise argparse.ArgumentTypeError(
                f"unknown fault {kind!r}: use any of {', '.join(FAULT_KINDS)}"
            )
        try:
            faults[kind] = float(rate)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: the rate must be a number") from None
    return faults


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text}: must be >= 0")
    return value


def run(args) -> int:
    big = args.rows >= SHOW_PROGRESS_ROWS
    try:
        with Progress().bar("generating", args.rows) if big else nullcontext(None) as done:
            report = write_dataset(
                args.out, rows=args.rows, files=args.files, seed=args.seed,
                date_format=args.date_format, gzip=args.gzip, faults=args.faults,
                encoding=args.encoding, header=args.header, changes=not args.no_changes,
                start_date=args.start_date, days=args.days, first_row_id=args.first_row_id,
                crlf=args.crlf, fine_money=args.fine_money, simple=args.simple, name=args.name,
                progress=done,
            )  # fmt: skip
    except ValueError as exc:
        print(f"twin generate: {exc}", file=sys.stderr)
        return 2
    print(f"seed:   {args.seed} (the same options and --seed {args.seed} write the same files)")
    print(f"rows:   {report.rows_written:,} (Row IDs up to {report.next_row_id - 1:,})")
    print(f"files:  {len(report.files)} in {report.out_dir} ({report.bytes_written:,} bytes)")
    for path in report.files[:5]:
        print(f"        {path.name}")
    if len(report.files) > 5:
        print(f"        ... and {len(report.files) - 5} more")
    faults = ", ".join(f"{kind}={count}" for kind, count in sorted(report.faults.items()))
    print(f"faults: {sum(report.faults.values())} ({faults or 'none'}), see {report.faults_path}")
    moves = f"{report.customer_moves} customer moves, " if args.simple else ""
    print(
        f"changes: {moves}{report.segment_changes} segment changes, "
        f"{report.product_renames} product renames, see {report.changes_path}"
    )
    if not args.simple:
        print(
            f"shapes: {report.shared_product_ids} shared product IDs, "
            f"{report.dual_label_cities} cities under two labels, "
            f"{report.rows_missing_geography} rows without geography"
        )
    print(f"speed:  {report.rows_per_second:,.0f} rows/s ({report.seconds:.2f} s)")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write sample sales CSV files (Global Superstore layout), faults on request",
        description="Write realistic sales CSV files in order-date order, deterministic for "
        "a seed, streamed in constant memory. Faults are listed in faults.jsonl.",
    )
    parser.add_argument("--rows", type=_positive, required=True, help="data lines to write")
    parser.add_argument("--files", type=_positive, default=1, help="files (day ranges)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--date-format", choices=list(DATE_FORMATS), default="dmy")
    parser.add_argument("--gzip", action="store_true", help="write .csv.gz files")
    parser.add_argument("--encoding", choices=list(ENCODINGS), default="utf-8")
    parser.add_argument("--crlf", action="store_true", help="CRLF line endings")
    parser.add_argument(
        "--fine-money",
        action="store_true",
        help="sales with 5 decimals and profit with 10, as floating-point exports print them",
    )
    parser.add_argument(
        "--header",
        choices=list(HEADERS),
        default="global",
        help="sample-superstore = the 21-column variant (a wrong header)",
    )
    parser.add_argument(
        "--faults",
        type=parse_faults,
        default={},
        help=f"KIND=RATE,... with KIND in {', '.join(FAULT_KINDS)}",
    )
    parser.add_argument(
        "--no-changes",
        action="store_true",
        help="no dated changes (segment changes, product renames; with --simple, moves)",
    )
    parser.add_argument(
        "--simple",
        action="store_true",
        help="the earlier shapes: one address per customer (with changes, one move), one "
        "name per product ID, one label per city, no blank geography",
    )
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2012, 1, 1))
    parser.add_argument(
        "--days",
        type=_positive,
        default=None,
        help="days of order dates covered (default 1461, four years)",
    )
    parser.add_argument("--first-row-id", type=_positive, default=1)
    parser.add_argument(
        "--name", help="exact file name (with --files 1), e.g. sales_with_bad_rows.csv"
    )
    parser.set_defaults(func=run)
