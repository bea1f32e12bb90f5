"""Headers by name: the three policies, known spellings, rescued and missing columns."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sales_lake.batch.conform import conform
from sales_lake.batch.header_map import FIELDS, HeaderMap, HeaderRejection, map_header
from sales_lake.schema import CANONICAL_HEADER

from tests.glue_jobs.csv_fixtures import HEADER, row

SNAKE = ",".join(h.replace(" ", "_").replace("-", "_") for h in CANONICAL_HEADER)


def _reordered(line: str, order: list[int]) -> str:
    import csv

    fields = next(csv.reader([line]))
    return ",".join(f'"{fields[i]}"' if "," in fields[i] else fields[i] for i in order)


@pytest.mark.parametrize("policy", ["strict", "by_name", "rescue"])
def test_the_canonical_header_maps_in_every_policy(policy):
    mapped = map_header(HEADER, policy)
    assert isinstance(mapped, HeaderMap) and mapped.is_canonical


@pytest.mark.parametrize(
    "header", [SNAKE, SNAKE.upper(), HEADER.lower(), HEADER.replace("Sub-Category", "Sub Category")]
)
def test_known_spellings_map_by_name(header):
    mapped = map_header(header, "by_name")
    assert isinstance(mapped, HeaderMap) and mapped.positions == {
        f: i for i, f in enumerate(FIELDS)
    }


def test_reordered_columns_map_by_name_and_type_the_same_values():
    order = list(reversed(range(24)))
    header = _reordered(HEADER, order)
    mapped = map_header(header, "rescue")
    assert isinstance(mapped, HeaderMap) and not mapped.is_canonical
    in_order = conform(pa.array([row(1)]))
    reordered = conform(pa.array([_reordered(row(1), order)]), header=mapped)
    assert reordered.columns == in_order.columns and reordered.valid.to_pylist() == [True]
    strict = map_header(header, "strict")
    assert isinstance(strict, HeaderRejection) and "different order" in strict.detail


def test_unknown_columns_are_rescued_as_json_or_rejected_by_name():
    header = HEADER + ",Sales Rep,Notes"
    mapped = map_header(header, "rescue")
    assert mapped.rescued == {24: "Sales Rep", 25: "Notes"}
    out = conform(pa.array([row(1) + ',Ana,"a, b"', row(2) + ",,"]), header=mapped)
    assert out.rescued_data.to_pylist() == ['{"Sales Rep": "Ana", "Notes": "a, b"}', None]
    assert out.valid.to_pylist() == [True, True]
    by_name = map_header(header, "by_name")
    assert isinstance(by_name, HeaderRejection) and "'Sales Rep'" in by_name.detail


def test_missing_required_columns_reject_naming_them_and_optional_ones_load_empty():
    without = [h for h in CANONICAL_HEADER if h not in ("Row ID", "Sales", "City")]
    rejected = map_header(",".join(without), "rescue")
    assert isinstance(rejected, HeaderRejection) and rejected.reason == "missing_columns"
    assert "Row ID, Sales" in rejected.detail and "City" not in rejected.detail
    optional = [h for h in CANONICAL_HEADER if h not in ("City", "Postal Code")]
    mapped = map_header(",".join(optional), "rescue")
    assert isinstance(mapped, HeaderMap) and mapped.width == 22
    assert any("City, Postal Code" in note for note in mapped.notes)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (HEADER + ",Row_ID", "both 'Row ID'"),
        ("<!DOCTYPE html><html><body>", "not a header"),
        ('{"Row ID": 1, "Order ID": "x"}', "not a header"),
        ("\t".join(CANONICAL_HEADER), "not comma-separated"),
    ],
)
def test_unusable_headers_say_why_and_how_to_fix(header, words):
    rejected = map_header(header, "rescue")
    assert isinstance(rejected, HeaderRejection) and rejected.reason == "header_mismatch"
    assert words in rejected.detail and "fix:" in rejected.detail and "\n" not in rejected.detail
