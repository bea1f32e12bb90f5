"""The executor-side CSV reading (pure Python): encodings, gzip, line numbers, headers."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pytest
from sales_lake.batch.bronze_csv import (
    ISSUE_ENCODING,
    ISSUE_HEADER,
    ISSUE_UNCLOSED_QUOTE,
    field_counts,
    header_problem,
    parse_file,
)
from sales_lake.schema import CANONICAL_HEADER

from tests.glue_jobs.csv_fixtures import HEADER, row


def _bytes(lines: list[str], *, header: str = HEADER, newline: str = "\n", enc="utf-8") -> bytes:
    return (newline.join([header, *lines]) + newline).encode(enc)


def _records(parsed) -> list[tuple[int, str]]:
    numbers = [int(n) for n in parsed.line_numbers]
    raws = [str(r) for r in parsed.raw_records]
    return list(zip(numbers, raws, strict=True))


def test_plain_utf8_file_keeps_physical_line_numbers_and_raw_text():
    parsed = parse_file(_bytes([row(1), "", row(2)]))
    assert parsed.summary.outcome == "ok" and parsed.summary.encoding == "utf-8"
    assert _records(parsed) == [(2, row(1)), (4, row(2))]  # blank line 3 skipped, not renumbered
    assert parsed.summary.records == 2


def test_bom_and_crlf_are_removed_from_header_and_records():
    data = b"\xef\xbb\xbf" + _bytes([row(1)], newline="\r\n")
    parsed = parse_file(data)
    assert parsed.summary.encoding == "utf-8-sig"
    assert parsed.summary.reject_detail is None
    assert _records(parsed) == [(2, row(1))]


def test_quoted_newline_makes_one_record_starting_on_its_first_line():
    multi = row(2, product_name='"Binder, ""Heavy""\nDuty"')
    parsed = parse_file(_bytes([row(1), multi, row(3)]))
    assert _records(parsed) == [(2, row(1)), (3, multi), (5, row(3))]
    counts = field_counts(pa.array([str(r) for r in parsed.raw_records])).to_pylist()
    assert counts == [24, 24, 24]


def test_stray_quote_does_not_swallow_following_lines():
    stray = row(2, product_name='5" screen')  # unbalanced quote inside an unquoted field
    parsed = parse_file(_bytes([row(1), stray, row(3), row(4)]))
    assert [n for n, _ in _records(parsed)] == [2, 3, 4, 5]
    assert _records(parsed)[1] == (3, stray)


def test_unclosed_quote_at_end_of_truncated_file_is_flagged():
    truncated = row(2)[:40] + ',"Samsung Gal'
    parsed = parse_file(_bytes([row(1), truncated])[:-1])
    assert _records(parsed)[-1] == (3, truncated)
    assert parsed.issues == [None, ISSUE_UNCLOSED_QUOTE]


def test_latin1_file_is_detected_and_decoded_without_mangling():
    parsed = parse_file(_bytes([row(1)], enc="latin-1"))
    assert parsed.summary.encoding == "latin-1"
    assert "María Juárez" in str(parsed.raw_records[0])


def test_utf8_file_with_one_latin1_line_quarantines_only_that_line():
    good = row(1).encode("utf-8")
    bad = row(2).encode("latin-1")
    data = HEADER.encode() + b"\n" + good + b"\n" + bad + b"\n"
    parsed = parse_file(data)
    assert parsed.summary.encoding == "utf-8"
    assert parsed.issues == [None, ISSUE_ENCODING]
    assert "Mar\\xeda" in parsed.raw_records[1]  # shown escaped, never silently mangled


def test_gzip_by_magic_number_and_truncated_gzip_keeps_what_decompressed():
    data = _bytes([row(i) for i in range(1, 2001)])
    parsed = parse_file(gzip.compress(data))
    assert parsed.summary.compression == "gzip" and parsed.summary.records == 2000
    cut = parse_file(gzip.compress(data)[:-2000])
    assert 0 < cut.summary.records < 2000
    assert any("truncated" in note for note in cut.summary.notes)


@pytest.mark.parametrize(
    ("data", "outcome"),
    [(b"", "empty"), (b"\n\n", "empty"), (HEADER.encode() + b"\r\n", "header_only")],
)
def test_empty_and_header_only_files_have_a_clear_outcome(data, outcome):
    parsed = parse_file(data)
    assert parsed.summary.outcome == outcome
    assert parsed.summary.records == 0 and parsed.summary.notes


def test_header_is_tolerant_of_case_spaces_and_quotes():
    loose = ",".join(f' "{name.upper()}" ' for name in CANONICAL_HEADER)
    assert header_problem(loose) is None


def test_sample_superstore_header_rejects_file_with_one_clear_reason():
    dropped = ("Market", "Shipping Cost", "Order Priority")
    columns = [c for c in CANONICAL_HEADER if c not in dropped]
    parsed = parse_file(_bytes([row(1)[:100], row(2)[:100]], header=",".join(columns)))
    assert parsed.summary.outcome == "rejected"
    assert parsed.issues == [ISSUE_HEADER, ISSUE_HEADER]
    detail = parsed.summary.reject_detail
    assert "21 columns, expected 24" in detail
    assert "missing: Market, Shipping Cost, Order Priority" in detail
    assert "Sample Superstore" in detail and "fix:" in detail


def test_semicolon_separated_header_names_the_separator():
    detail = header_problem(";".join(CANONICAL_HEADER))
    assert "';'" in detail and "fix:" in detail


def test_field_counts_ignore_commas_inside_quotes():
    records = pa.array(["a,b,c", 'a,"b,c",d', 'a,"x ""y, z""",c', "a,,"])
    assert field_counts(records).to_pylist() == [3, 3, 3, 3]
