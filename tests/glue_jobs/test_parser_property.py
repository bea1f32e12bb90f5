"""Property-based tests of the executor-side parser (`bronze_objects.parsed_batches`).

The parser is meant never to raise: whatever the bytes of an object, it yields that
object's record rows and then exactly one `file` row whose summary accounts for them.
`parsed_batches` has a net under it (any exception becomes an `unreadable` file,
tests/glue_jobs/test_object_isolation.py); these properties check that the parser
itself never needs the net, that the summary's counts match the rows, that a valid file
round-trips exactly and that line endings do not change what is read.

Inputs are CSV-like bytes built from a valid header and rows, then mutated (bytes, quotes,
delimiters, NULs, line endings, BOMs, truncation, encodings, gzip), plus arbitrary bytes.
Runs are derandomized (the same examples every time) and kept small enough for the unit
lane: no Spark here.
"""

from __future__ import annotations

import codecs
import gzip
import json
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sales_lake.batch import bronze_objects, bronze_reader
from sales_lake.load_options import HEADER_POLICIES, LoadOptions
from sales_lake.run_sources import Source
from sales_lake.schema import BUSINESS_COLUMNS, CANONICAL_HEADER

from tests.glue_jobs.csv_fixtures import HEADER, row

SOURCE = Source(index=5, uri="s3://raw/landing/sales/property.csv")
# What `bronze_reader.unreadable` writes when the net caught an exception of the parser
# (a wide-encoding file that does not decode is also `unreadable`, but says otherwise).
NET_DETAIL = "the file could not be read ("
OUTCOMES = {"ok", "empty", "header_only", "rejected"}
REQUIRED = [name for name, _, nullable in BUSINESS_COLUMNS if not nullable]
TYPED = [name for name, _, _ in BUSINESS_COLUMNS]
ENDINGS = ("\n", "\r\n", "\r")


def _settings(examples: int) -> settings:
    return settings(
        derandomize=True,
        database=None,
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def read(content: bytes, policy: str = "rescue") -> tuple[list[dict], dict]:
    """(record rows, file summary) of one object; asserts the shape every object has:
    record rows, then one `file` row, all of this source."""
    options = LoadOptions(header_policy=policy)
    batches = list(bronze_objects.parsed_batches(SOURCE, content, options))
    rows = pa.Table.from_batches(batches, schema=bronze_reader.ARROW_SCHEMA).to_pylist()
    kinds = [r["row_kind"] for r in rows]
    assert kinds == ["record"] * (len(rows) - 1) + ["file"], kinds
    assert {r["source_index"] for r in rows} == {SOURCE.index}
    summary = json.loads(rows[-1]["file_summary"])
    detail = summary.get("reject_detail") or ""
    assert not detail.startswith(NET_DETAIL), f"the parser raised: {detail}"
    return rows[:-1], summary


# ---------------------------------------------------------------- strategies

_TOKENS = st.sampled_from(
    ['"', '""', ",", ",,", "\r", "\n", "\r\n", "\n\r", "\x00", "\ufeff", ";", "\t", "|",
     " ", "é", "€", "\u2028", "\x0c", "\x85", ",\"\n", '"a,b"'],
)  # fmt: skip
_BOMS = st.sampled_from(
    [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
     codecs.BOM_UTF32_BE, b"\x1f\x8b", b"PK\x03\x04"],
)  # fmt: skip
_ENCODINGS = st.sampled_from(
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1"]
)
_HEADERS = st.sampled_from(
    [
        HEADER,
        HEADER.upper(),
        ",".join(h.lower().replace(" ", "_").replace("-", "_") for h in CANONICAL_HEADER),
        HEADER + ",Extra Column",
        ",".join(reversed(CANONICAL_HEADER)),
        ",".join(CANONICAL_HEADER[:-3]),  # the optional trailing columns missing
        ",".join(CANONICAL_HEADER[1:]),  # Row ID missing
        HEADER.replace(",", ";"),
        HEADER + "," + CANONICAL_HEADER[0],  # a duplicate column
        '"Row ID,' + HEADER[7:],  # an unclosed quote in the header
    ]
)


@st.composite
def csv_texts(draw) -> str:
    """Header + valid rows, text-mutated: inserted tokens and text, deletions, a huge
    field, duplicated lines, mixed line endings."""
    header = draw(st.one_of(st.just(HEADER), _HEADERS))  # half of the files: canonical
    ids = draw(st.lists(st.integers(1, 10**6), max_size=6))
    lines = [header, *(row(i) for i in ids)]
    if header.endswith(",Extra Column"):
        lines[1:] = [line + "," + draw(st.sampled_from(["", "x", '"y,z"'])) for line in lines[1:]]
    if draw(st.booleans()) and len(lines) > 1:
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", ",,,,", " "])))
    endings = draw(st.lists(st.sampled_from(ENDINGS), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, endings, strict=True))
    if draw(st.booleans()):
        text = text[: len(text) - len(endings[-1])]  # no final newline
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["token", "text", "delete", "huge", "duplicate"]))
        if op == "token":
            text = text[:at] + draw(_TOKENS) + text[at:]
        elif op == "text":
            text = text[:at] + draw(st.text(max_size=6)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "huge":
            text = (
                text[:at] + draw(st.sampled_from("x\"',")) * draw(st.integers(1, 5000)) + text[at:]
            )
        else:
            text = text[:at] + text[at : at + draw(st.integers(1, 400))] + text[at:]
    return text


@st.composite
def csv_bytes(draw) -> bytes:
    """`csv_texts` encoded, then byte-mutated (random bytes, BOMs, truncation), possibly
    gzipped (and the gzip stream possibly damaged)."""
    encoding = draw(_ENCODINGS)
    data = draw(csv_texts()).encode(encoding, errors="replace")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["bytes", "bom", "truncate", "flip"]))
        if op == "bytes":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif op == "bom":
            at = draw(st.sampled_from([0, at]))
            data = data[:at] + draw(_BOMS) + data[at:]
        elif op == "truncate":
            data = data[:at]
        elif data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if draw(st.integers(0, 4)) == 0:
        data = gzip.compress(data, mtime=0)
        damage = draw(st.sampled_from(["none", "truncate", "flip"]))
        if damage == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif damage == "flip":
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1 :]
    return data


ANY_BYTES = st.one_of(csv_bytes(), st.binary(max_size=300), csv_texts().map(str.encode))
POLICIES = st.sampled_from(HEADER_POLICIES)


# ---------------------------------------------------------------- a. never raises


@_settings(80)
@given(content=ANY_BYTES, policy=POLICIES)
def test_the_parser_never_raises_and_ends_every_object_with_one_file_row(content, policy):
    records, summary = read(content, policy)  # asserts the shape and that no net was needed
    assert summary["outcome"] in OUTCOMES


# ---------------------------------------------------------------- b. accounting


@_settings(80)
@given(content=csv_bytes(), policy=POLICIES)
def test_the_file_summary_accounts_for_every_record_row(content, policy):
    records, summary = read(content, policy)
    rejected = [r for r in records if r["reason_codes"]]
    # `records` counts record rows (blank rows excluded, and yielded as no row at all);
    # `rejected` is the subset with a reason code (quarantined).
    assert len(records) == summary["records"]
    assert len(rejected) == summary["rejected"] <= summary["records"]
    assert summary["blank"] >= 0
    assert summary["rescued_rows"] == sum(r["rescued_data"] is not None for r in records)
    for r in records:
        # a reason and its detail go together; only a rejected record carries its raw text
        assert bool(r["reason_codes"]) == bool(r["reason_detail"]) == (r["raw_record"] is not None)
        if not r["reason_codes"]:  # a valid record has every NOT NULL column of silver
            assert all(r[name] is not None for name in REQUIRED), r
    numbers = [r["line_number"] for r in records]
    assert numbers == sorted(set(numbers)), "each record starts on its own, later line"
    # the header and every record or blank row start on distinct physical lines
    assert all(2 <= n <= summary["physical_lines"] for n in numbers)
    assert summary["records"] + summary["blank"] < max(summary["physical_lines"], 1)
    match summary["outcome"]:
        case "ok":
            assert summary["records"] > 0 and summary["reject_reason"] is None
        case "empty":
            assert summary["records"] == summary["blank"] == 0
        case "header_only":
            assert summary["records"] == 0 and summary["reject_reason"] is None
        case "rejected":
            # A wrong header rejects the file but still yields its records, each with the
            # file's reason (quarantine shows them); an unreadable object yields none.
            assert summary["reject_reason"] and summary["reject_detail"]
            assert summary["rejected"] == summary["records"]
            assert all(r["reason_codes"] == [summary["reject_reason"]] for r in records)
            if summary["reject_reason"] not in ("header_mismatch", "missing_columns"):
                assert summary["records"] == 0


# ---------------------------------------------------------------- c. valid files round-trip

_NAME_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufeff"
)
_NAMES = (
    st.tuples(
        st.text(_NAME_CHARS, min_size=1, max_size=12),
        st.sampled_from(["", "\n", ", ", '""', '"x"', ",\n"]),
        st.text(_NAME_CHARS, max_size=12),
    )
    .map("".join)
    .filter(lambda name: name.strip() == name and name)
)
_MONEY = st.integers(0, 10).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-99999999.9999999999"),
        max_value=Decimal("99999999.9999999999"),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )
)
_RATE = st.integers(0, 10).flatmap(
    lambda places: st.decimals(min_value=0, max_value=1, places=places, allow_nan=False)
)


def _csv_quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _money_text(value: Decimal, grouped: bool) -> str:
    if not grouped:
        return format(value, "f")
    return _csv_quoted(format(value, ",f"))  # `1,234.5`: needs quoting in CSV


@st.composite
def valid_rows(draw) -> list[tuple[dict, str]]:
    """(expected typed values, CSV line) per row; a product name may hold commas, quotes
    and a line break (quoted, as exporters write them)."""
    rows = []
    ids = draw(st.lists(st.integers(1, 10**18 - 1), min_size=1, max_size=8))
    for row_id in ids:
        ordered = date(2000, 1, 1) + timedelta(days=draw(st.integers(0, 11_000)))
        expected = {
            "row_id": row_id,
            "order_date": ordered,
            "ship_date": ordered + timedelta(days=draw(st.integers(0, 60))),
            "product_name": draw(_NAMES),
            "sales": draw(_MONEY),
            "profit": draw(_MONEY),
            "shipping_cost": draw(st.none() | _MONEY),
            "discount": draw(_RATE),
            "quantity": draw(st.integers(1, 999_999_999)),
        }
        grouped = draw(st.booleans())
        discount = format(expected["discount"], "f")
        if draw(st.booleans()) and expected["discount"].as_tuple().exponent >= -8:
            discount = format(expected["discount"] * 100, "f") + "%"
        shipping = expected["shipping_cost"]
        line = row(
            row_id,
            order_date=expected["order_date"].isoformat(),
            ship_date=expected["ship_date"].isoformat(),
            product_name=_csv_quoted(expected["product_name"]),
            sales=_money_text(expected["sales"], grouped),
            profit=_money_text(expected["profit"], grouped),
            shipping_cost="" if shipping is None else _money_text(shipping, grouped),
            discount=discount,
            quantity=str(expected["quantity"]),
        )
        rows.append((expected, line))
    return rows


def _encoded(lines: list[str], endings: list[str], final_newline: bool = True) -> bytes:
    """Lines joined by their endings; a line break inside a quoted field is written as the
    ending of the line it is on (how an export with that convention writes it)."""
    parts = [line.replace("\n", end) + end for line, end in zip(lines, endings, strict=True)]
    text = "".join(parts)
    if not final_newline:
        text = text[: len(text) - len(endings[-1])]
    return text.encode("utf-8")


@_settings(40)
@given(rows=valid_rows(), ending=st.sampled_from(ENDINGS))
def test_a_valid_file_round_trips_exactly(rows, ending):
    lines = [HEADER, *(line for _, line in rows)]
    records, summary = read(_encoded(lines, [ending] * len(lines)))
    assert summary["outcome"] == "ok" and summary["rejected"] == 0
    assert summary["records"] == len(rows) and summary["blank"] == 0
    assert [r["reason_codes"] for r in records] == [[]] * len(rows)
    assert [r["row_id"] for r in records] == [expected["row_id"] for expected, _ in rows]
    for record, (expected, _) in zip(records, rows, strict=True):
        for name, value in expected.items():
            got = record[name]
            assert got == value, (name, got, value)  # decimals: the same number, unrounded


# ---------------------------------------------------------------- d. line endings


@_settings(20)
@given(
    rows=valid_rows(),
    bad=st.lists(st.sampled_from(["sales=oops", "quantity=-1", "discount=2"]), max_size=2),
    mixed=st.lists(st.sampled_from(ENDINGS), min_size=12, max_size=12),
    final_newline=st.booleans(),
)
def test_line_endings_do_not_change_what_is_read(rows, bad, mixed, final_newline):
    lines = [HEADER, *(line for _, line in rows)]
    lines += [row(90 + i, **dict([b.split("=")])) for i, b in enumerate(bad)]
    seen = []
    for endings in ([e] * len(lines) for e in ENDINGS):
        seen.append(read(_encoded(lines, endings, final_newline)))
    seen.append(read(_encoded(lines, mixed[: len(lines)], final_newline)))
    first_records, first_summary = seen[0]
    assert len(first_records) == len(lines) - 1
    for records, summary in seen[1:]:
        assert records == first_records
        assert summary == first_summary
    typed = [{name: r[name] for name in TYPED} for r in first_records[: len(rows)]]
    assert typed == [{**t, **e} for t, (e, _) in zip(typed, rows, strict=True)]
    assert [bool(r["reason_codes"]) for r in first_records[len(rows) :]] == [True] * len(bad)
