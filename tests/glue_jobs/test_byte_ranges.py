"""A file read as byte ranges gives exactly what the whole file gives.

Each case runs the three passes of batch/byte_ranges.py in this process (the Spark job
runs the same functions in tasks: test_range_reader.py) and compares, record for record,
the typed rows and the file summary with `parse_file` + `record_batches` on the whole
bytes. `MAX_RECORD_LINES` is lowered to 3 in most cases so that cuts fall every few lines,
right next to quoted newlines, stray quotes, CRLFs, blank rows and bad bytes; one case
keeps the real 100.
"""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pytest
from sales_lake.batch import bronze_csv
from sales_lake.batch.bronze_csv import parse_file
from sales_lake.batch.bronze_reader import BATCH_ROWS, record_batches
from sales_lake.batch.byte_ranges import (
    decide_file,
    merge_summaries,
    plan_ranges,
    range_parsed,
    safe_cut,
    scan_range,
    splittable_head,
)
from sales_lake.batch.conform import date_evidence, decide_date_format

from tests.glue_jobs.csv_fixtures import HEADER, row


def whole(data: bytes, policy: str = "rescue", date_order: str = "auto"):
    batches = list(record_batches(0, parse_file(data, policy), date_order))
    return _records(batches), json.loads(batches[-1].column("file_summary")[0].as_py())


def in_ranges(data: bytes, split: int, policy: str = "rescue", date_order: str = "auto"):
    """The three passes over `data` in byte ranges; also the ranges."""
    ranges = plan_ranges(lambda start, n: data[start : start + n], len(data), split)
    pieces = [data[a:b] for a, b in ranges]
    decision = decide_file(ranges, [scan_range(p, k == 0) for k, p in enumerate(pieces)], policy)
    assert decision is not None
    parts = [range_parsed(p, decision, k) for k, p in enumerate(pieces)]
    evidence = [date_evidence(p.raw_records, p.issues, BATCH_ROWS, p.header) for p in parts]
    fmt = decide_date_format([e for e in evidence if e] or [{}], date_order)
    batches = [b for p in parts for b in record_batches(0, p, date_order, fmt)]
    summaries = [json.loads(b.column("file_summary")[0].as_py()) for b in batches
                 if b.column("row_kind")[0].as_py() == "file"]  # fmt: skip
    return _records(batches), merge_summaries(summaries), ranges


def _records(batches: list[pa.RecordBatch]) -> list[dict]:
    table = pa.Table.from_batches(batches)
    return [
        r for r in table.drop_columns(["file_summary"]).to_pylist() if r["row_kind"] == "record"
    ]


def _lines(lines: list[str], newline: str = "\n", header: str = HEADER) -> str:
    return newline.join([header, *lines]) + newline


MULTI = row(3, product_name='"Binder, ""Heavy""\nDuty"')
STRAY = row(5, product_name='5" screen')
CASES = {
    "plain": _lines([row(i) for i in range(1, 40)]).encode(),
    "crlf_blank_rows": _lines(
        [row(1), "", ",,,,", *[row(i) for i in range(2, 30)]], "\r\n"
    ).encode(),
    "lone_cr": _lines([row(i) for i in range(1, 30)], "\r").encode(),
    "mixed_endings": "".join(row(i) + ("\r\n", "\n", "\r")[i % 3] for i in range(1, 30))
    .join([HEADER + "\n", ""])
    .encode(),
    "quoted_newlines": _lines(
        [
            row(1),
            row(2),
            MULTI,
            row(4),
            STRAY,
            row(6),
            MULTI.replace("\n", "\r\n"),
            *[row(i) for i in range(7, 25)],
            MULTI,
        ]
    ).encode(),  # fmt: skip
    "stray_quotes": _lines(
        [row(i, product_name='5" screen') if i % 4 == 0 else row(i) for i in range(1, 30)]
    ).encode(),  # fmt: skip
    "unclosed_at_end": (_lines([row(i) for i in range(1, 20)]) + row(20)[:40] + ',"Gal').encode(),
    "latin1": _lines([row(i, customer_name="Zoë Ångström") for i in range(1, 25)]).encode(
        "latin-1"
    ),
    "cp1252": _lines([row(i, product_name="Pens \u2013 blue") for i in range(1, 25)]).encode(
        "cp1252"
    ),
    "bom_and_bad_bytes": b"\xef\xbb\xbf"
    + _lines([row(i) for i in range(1, 25)]).encode()[:900]
    + b"\xff\xfe"
    + _lines([row(i) for i in range(30, 40)]).encode()[len(HEADER) + 1 :],
    "utf8_with_one_bad_line": _lines([row(1, customer_name="Zoë")] + [row(i) for i in range(2, 25)])
    .encode()
    .replace(row(7).encode(), row(7).encode()[:30] + b"\xe9" + row(7).encode()[31:]),
    "nul_and_blank_lines_first": b"\n  \n"
    + _lines([row(i) for i in range(1, 20)] + [row(20) + "\x00"]).encode(),
    "month_first": _lines(
        [row(i, order_date="07/31/2012", ship_date="08/02/2012") for i in range(1, 25)]
    ).encode(),  # fmt: skip
    "ambiguous_dates": _lines(
        [row(i, order_date="03/04/2012", ship_date="05/06/2012") for i in range(1, 25)]
    ).encode(),  # fmt: skip
    "header_only_then_blank": _lines(["", ""]).encode() + b"\r\n" * 300,
    "bad_header": _lines(
        [row(i) for i in range(1, 20)], header=HEADER.replace("Row ID,", "")
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_cut_gives_the_whole_files_records_and_summary(name, monkeypatch):
    monkeypatch.setattr(bronze_csv, "MAX_RECORD_LINES", 3)
    data = CASES[name]
    expected = whole(data)
    cut_somewhere = False
    for split in range(64, len(data), max(61, len(data) // 6)):  # ~6 ways to cut
        records, summary, ranges = in_ranges(data, split)
        cut_somewhere |= len(ranges) > 2
        assert records == expected[0], (name, split, ranges)
        assert summary == expected[1], (name, split, ranges)
    assert cut_somewhere, "no case made more than two ranges: the test would prove little"


@pytest.mark.parametrize("date_order", ["dmy", "mdy"])
def test_a_declared_order_settles_ambiguous_dates_in_ranges_too(date_order, monkeypatch):
    monkeypatch.setattr(bronze_csv, "MAX_RECORD_LINES", 3)
    data = CASES["ambiguous_dates"]
    records, summary, ranges = in_ranges(data, 300, date_order=date_order)
    assert len(ranges) > 3
    assert (records, summary) == whole(data, date_order=date_order)


def test_with_the_real_record_limit_a_big_file_is_cut_where_no_record_can_span():
    lines = [MULTI if i % 400 == 0 else row(i) for i in range(1, 1200)]
    data = _lines(lines, "\r\n").encode()
    records, summary, ranges = in_ranges(data, 40_000)
    assert len(ranges) == math.ceil(len(data) / 40_000)  # every cut found a safe line start
    assert (records, summary) == whole(data)


def test_a_cut_needs_a_run_of_even_lines_and_a_whole_line_end():
    window = b'tail\n"odd\na\nb\nc\r\nd\n'
    assert safe_cut(window, 1000, at_line_start=False) is None  # 4 even lines after the odd
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bronze_csv, "MAX_RECORD_LINES", 3)
        after_c = 1000 + window.index(b"c\r\n") + 3
        assert safe_cut(window, 1000, at_line_start=False) == after_c
        assert safe_cut(window, 1000, at_line_start=False, earliest=after_c + 1) == after_c + 2
        assert safe_cut(b"a\nb\nc\r", 0, at_line_start=True) is None  # CR or CRLF? unknown


def test_only_plain_text_is_split():
    assert splittable_head(HEADER.encode())
    assert not splittable_head(b"\x1f\x8b\x08" + b"\x00" * 20)  # gzip: one stream
    assert not splittable_head("Row ID,Order ID\n".encode("utf-16")), "UTF-16: two-byte units"
    assert not splittable_head("Row ID,Order ID\n".encode("utf-16-le")), "even without a BOM"
    assert not splittable_head(b"PK\x03\x04" + b"\x00" * 40)  # a workbook
