"""Every injected fault is really in the file, at the line faults.jsonl names, and nowhere else.

The checks below re-derive each fault from the bytes of the file, independently of the
generator, so a fault recorded but not written (or written but not recorded) fails.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
from sales_lake.rules import ENUMERATIONS
from sales_lake.schema import CANONICAL_HEADER

from sales_data_generator import FAULT_KINDS, write_dataset
from sales_data_generator.reading import csv_fields, physical_lines

ROWS, RATE = 3_000, 0.02
COL = {name: i for i, name in enumerate(CANONICAL_HEADER)}
DATE_SHAPES = {  # the shape of a date in each format, and how to parse it
    "dmy": (r"\d{2}/\d{2}/\d{4}", "%d/%m/%Y"),
    "mdy": (r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y"),
    "iso": (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    "dmy-dash": (r"\d{2}-\d{2}-\d{4}", "%d-%m-%Y"),
}
MONEY = re.compile(r"-?\d+\.\d+")
CONFIGS = {
    "plain": {"date_format": "dmy"},
    "gzip-bom-crlf": {"date_format": "mdy", "gzip": True, "encoding": "utf-8-sig", "crlf": True},
    "iso": {"date_format": "iso"},
}


def parse_date(text: str, date_format: str) -> date | str:
    """The date, or the fault it shows: 'bad_date' (not a date) or 'impossible_date'."""
    shape, pattern = DATE_SHAPES[date_format]
    if not re.fullmatch(shape, text):
        return "bad_date"
    try:
        return datetime.strptime(text, pattern).date()
    except ValueError:
        return "impossible_date"


def problems(row: list[str], date_format: str) -> set[str]:
    """What is wrong with one parsed row, found from its text alone."""
    if len(row) != len(CANONICAL_HEADER):
        return {"malformed"}
    found = set()
    if any(row[COL[key]] == "" for key in ("Row ID", "Order ID", "Customer ID", "Product ID")):
        found.add("missing_key")
    if not all(MONEY.fullmatch(row[COL[c]]) for c in ("Sales", "Profit", "Shipping Cost")):
        found.add("wrong_type")
    if not re.fullmatch(r"-?\d+", row[COL["Quantity"]]):
        found.add("wrong_type")
    elif int(row[COL["Quantity"]]) < 0:
        found.add("negative_quantity")
    if not re.fullmatch(r"\d+(\.\d+)?", row[COL["Discount"]]):
        found.add("wrong_type")
    elif float(row[COL["Discount"]]) > 1:
        found.add("discount_above_one")
    ordered = parse_date(row[COL["Order Date"]], date_format)
    shipped = parse_date(row[COL["Ship Date"]], date_format)
    found |= {value for value in (ordered, shipped) if isinstance(value, str)}
    if isinstance(ordered, date) and isinstance(shipped, date) and shipped < ordered:
        found.add("ship_before_order")
    for column, allowed in ENUMERATIONS.items():
        if row[COL[column.replace("_", " ").title()]] not in allowed:
            found.add("unknown_enum")
    return found


@pytest.fixture(scope="module", params=list(CONFIGS))
def faulty(request, tmp_path_factory):
    options = CONFIGS[request.param]
    report = write_dataset(
        tmp_path_factory.mktemp(request.param), rows=ROWS, files=3, seed=11,
        faults=dict.fromkeys(FAULT_KINDS, RATE), **options,
    )  # fmt: skip
    lines = {path.name: physical_lines(path) for path in report.files}
    entries = [json.loads(line) for line in report.faults_path.read_text().splitlines()]
    return report, lines, entries, options["date_format"]


def test_every_kind_is_injected_near_its_rate_and_counted(faulty):
    report, lines, entries, _ = faulty
    for kind in FAULT_KINDS:
        recorded = sum(entry["kind"] == kind for entry in entries)
        assert report.faults[kind] == recorded
        assert 0.5 * RATE * ROWS <= recorded <= 1.6 * RATE * ROWS, kind
    assert sum(len(file_lines) - 1 for file_lines in lines.values()) == ROWS


def test_each_recorded_fault_is_at_its_line(faulty):
    _, lines, entries, date_format = faulty
    names = list(lines)
    for entry in entries:
        raw = lines[entry["file"]][entry["line"] - 1]
        kind = entry["kind"]
        if kind == "encoding":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            assert problems(csv_fields(raw, "latin-1"), date_format) == set()
            continue
        row = csv_fields(raw)
        assert problems(row, date_format) == (set() if kind == "duplicate" else {kind}), entry
        if kind == "duplicate":
            original = (names.index(entry["original_file"]), entry["original_line"])
            assert original < (names.index(entry["file"]), entry["line"])
            assert lines[entry["original_file"]][entry["original_line"] - 1] == raw
        if row[COL["Row ID"]] != "" and kind != "malformed":
            assert int(row[COL["Row ID"]]) == entry["row_id"]


def test_lines_without_a_recorded_fault_are_clean_and_unique(faulty):
    _, lines, entries, date_format = faulty
    faulted = {(entry["file"], entry["line"]) for entry in entries}
    row_ids = set()
    for name, file_lines in lines.items():
        assert csv_fields(file_lines[0]) == list(CANONICAL_HEADER)
        for number, raw in enumerate(file_lines[1:], start=2):
            if (name, number) in faulted:
                continue
            row = csv_fields(raw)  # decodes as UTF-8, or raises
            assert problems(row, date_format) == set(), (name, number, row)
            assert row[COL["Row ID"]] not in row_ids, "an unrecorded duplicate"
            row_ids.add(row[COL["Row ID"]])


def test_malformed_lines_break_quoting_or_column_count_in_both_ways(faulty):
    _, lines, entries, _ = faulty
    widths = {len(csv_fields(lines[e["file"]][e["line"] - 1])) for e in entries
              if e["kind"] == "malformed"}  # fmt: skip
    assert min(widths) < 24 < max(widths)  # truncated rows and unquoted commas


def test_faults_on_a_sample_superstore_file_use_its_21_columns(tmp_path):
    report = write_dataset(
        tmp_path, rows=600, header="sample-superstore", faults=dict.fromkeys(FAULT_KINDS, 0.05)
    )
    lines = physical_lines(report.files[0])
    entries = [json.loads(line) for line in report.faults_path.read_text().splitlines()]
    assert {e["kind"] for e in entries} == set(FAULT_KINDS)
    for entry in entries:
        if entry["kind"] not in ("malformed", "encoding"):
            assert len(csv_fields(lines[entry["line"] - 1])) == 21
            assert entry["field"] in (None, *csv_fields(lines[0]))
