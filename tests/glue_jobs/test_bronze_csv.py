"""The executor-side CSV reading (pure Python): encodings, gzip, line numbers, headers."""

from __future__ import annotations

import gzip
import io
import zipfile

import pyarrow as pa
import pytest
from sales_lake.batch.bronze_csv import (
    ISSUE_ENCODING,
    ISSUE_MISSING_COLUMNS,
    ISSUE_NUL,
    ISSUE_UNCLOSED_QUOTE,
    field_counts,
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
    assert parsed.issues.to_pylist() == [None, ISSUE_UNCLOSED_QUOTE]


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
    assert parsed.issues.to_pylist() == [None, ISSUE_ENCODING]
    assert "Mar\\xeda" in str(parsed.raw_records[1])  # shown escaped, never silently mangled


def test_gzip_by_magic_number_and_a_truncated_or_corrupt_gzip_is_rejected_whole():
    data = _bytes([row(i) for i in range(1, 2001)])
    parsed = parse_file(gzip.compress(data))
    assert parsed.summary.compression == "gzip" and parsed.summary.records == 2000
    cut = parse_file(gzip.compress(data)[:-2000])
    assert (cut.summary.outcome, cut.summary.reject_reason) == ("rejected", "corrupt_gzip")
    assert cut.summary.records == 0 and "truncated" in cut.summary.reject_detail
    corrupt = gzip.compress(data)[:20] + bytes(range(256)) * 4
    summary = parse_file(corrupt).summary
    assert (summary.reject_reason, summary.records) == ("corrupt_gzip", 0)
    assert "corrupt" in summary.reject_detail and "fix:" in summary.reject_detail


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
    parsed = parse_file(_bytes([row(1)], header=loose))
    assert parsed.summary.outcome == "ok" and parsed.header.is_canonical


def test_sample_superstore_header_rejects_file_with_one_clear_reason():
    dropped = ("Market", "Shipping Cost", "Order Priority")
    columns = [c for c in CANONICAL_HEADER if c not in dropped]
    parsed = parse_file(_bytes([row(1)[:100], row(2)[:100]], header=",".join(columns)))
    assert parsed.summary.outcome == "rejected"
    assert parsed.issues.to_pylist() == [ISSUE_MISSING_COLUMNS, ISSUE_MISSING_COLUMNS]
    detail = parsed.summary.reject_detail
    assert "required column(s) missing: Market" in detail
    assert "Sample Superstore" in detail and "fix:" in detail


def test_semicolon_separated_header_names_the_separator():
    summary = parse_file(_bytes([], header=";".join(CANONICAL_HEADER))).summary
    assert summary.reject_reason == "header_mismatch"
    assert "';'" in summary.reject_detail and "fix:" in summary.reject_detail


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be", "utf-16-le-nobom"])
def test_utf16_and_utf32_text_is_decoded(codec):
    text = "\r\n".join([HEADER, row(1), row(2)]) + "\r\n"
    if codec == "utf-16-le-nobom":
        data = text.encode("utf-16-le")
    elif codec.endswith("-be"):
        bom = b"\xfe\xff" if codec == "utf-16-be" else b"\x00\x00\xfe\xff"
        data = bom + text.encode(codec)
    else:
        data = text.encode(codec)  # Python writes the little-endian BOM
    parsed = parse_file(data)
    assert parsed.summary.outcome == "ok", parsed.summary
    assert _records(parsed) == [(2, row(1)), (3, row(2))]
    assert "María Juárez" in str(parsed.raw_records[0])


def test_cr_only_and_mixed_line_endings_give_each_line_once():
    mac = parse_file("\r".join([HEADER, row(1), row(2), ""]).encode())
    assert _records(mac) == [(2, row(1)), (3, row(2))]
    mixed = parse_file((HEADER + "\r" + row(1) + "\r\n" + row(2) + "\n" + row(3) + "\r").encode())
    assert _records(mixed) == [(2, row(1)), (3, row(2)), (4, row(3))]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\n1 0 obj", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"PAR1\x15\x04\x15", "a Parquet file"),
        (bytes(range(256)) * 8, "binary data"),
    ],
)
def test_binary_content_named_csv_is_rejected_saying_what_it_is(content, kind):
    summary = parse_file(content).summary
    assert (summary.outcome, summary.reject_reason) == ("rejected", "not_csv")
    assert kind in summary.reject_detail and "export" in summary.reject_detail


def test_an_excel_workbook_even_gzipped_is_named_as_such():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    for data in (buffer.getvalue(), gzip.compress(buffer.getvalue())):
        summary = parse_file(data).summary
        assert summary.reject_reason == "not_csv" and "Excel workbook" in summary.reject_detail


def test_a_field_longer_than_the_csv_module_limit_loads():
    long_name = "x" * 5_000_000
    parsed = parse_file(_bytes([row(1, product_name=long_name), row(2)]))
    assert parsed.summary.records == 2 and len(str(parsed.raw_records[0])) > 5_000_000


def test_padding_rows_are_counted_as_blank_and_not_read():
    padding = "," * 23
    parsed = parse_file(_bytes([row(1), padding, ' ,"", ' + "," * 21, row(2), padding]))
    assert parsed.summary.blank == 3 and parsed.summary.records == 2
    assert [n for n, _ in _records(parsed)] == [2, 5]


def test_a_line_with_nul_bytes_is_flagged_alone():
    parsed = parse_file(_bytes([row(1), row(2, city="Pay\x00sandú"), row(3)]))
    assert parsed.issues.to_pylist() == [None, ISSUE_NUL, None]


def test_field_counts_ignore_commas_inside_quotes():
    records = pa.array(["a,b,c", 'a,"b,c",d', 'a,"x ""y, z""",c', "a,,"])
    assert field_counts(records).to_pylist() == [3, 3, 3, 3]


def test_a_quote_opening_mid_field_before_a_line_break_is_one_malformed_record():
    """Found by fuzzing: the csv module refuses such a record ("new-line character seen
    in unquoted field"); it is quarantined instead of failing the file."""
    from sales_lake.batch.conform import conform

    out = conform(pa.array([row(1), row(2, product_name='x"y\nz"w'), row(3)]))
    assert out.valid.to_pylist() == [True, False, True]
    assert out.reason_codes[1].as_py() == ["malformed_record"]
    assert "cannot be split into fields" in out.reason_detail[1].as_py()


def test_an_undecodable_byte_in_the_header_is_shown_escaped():
    header = HEADER.encode() + b",Not\xe9s"
    parsed = parse_file(header + b"\n" + row(1).encode() + b",x\n")
    assert parsed.summary.rescued_columns == ["Not\\xe9s"]
