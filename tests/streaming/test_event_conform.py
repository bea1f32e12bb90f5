"""Event lines -> typed rows and reasons (pure Arrow, no Spark): what the stream loader
accepts, how it types it, and the reason each kind of bad line gets."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from sales_lake.run_sources import Source
from sales_lake.stream.event_conform import conform_events, split_lines
from sales_lake.stream.event_io import event_batches

from msk_connect.events import make_event, random_order_line

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _event(event_id: str = "ev-1", **line_changes) -> dict:
    line = random_order_line(random.Random(3), 42, "ST-42", date(2026, 11, 26))
    line.update(line_changes)
    return make_event("order_line_created", line, T0, event_id)


def _conform(*lines: str):
    result = conform_events(pa.array(list(lines), pa.string()))
    rows = pa.table(result.columns).to_pylist()
    return rows, result.reason_codes.to_pylist(), result.reason_detail.to_pylist()


def test_split_lines_numbers_non_blank_lines_and_tolerates_crlf_and_bad_bytes():
    numbers, lines = split_lines(b'{"a":1}\r\n\r\n   \n{"b":\xff}\n{"c":3}')
    assert numbers.to_pylist() == [1, 4, 5]
    assert lines.to_pylist() == ['{"a":1}', '{"b":\ufffd}', '{"c":3}']
    assert [len(part) for part in split_lines(b"")] == [0, 0]


def test_a_valid_event_is_typed_exactly():
    event = _event(sales="1234.5678", discount="0.2", postal_code="  ")
    event["event_time"] = "2026-11-26T09:00:00.123456789+01:00"  # nanoseconds, an offset
    event["order_line"]["row_id"] = "42"  # ids may come as JSON strings or numbers
    cancel = make_event("order_line_cancelled", _event()["order_line"], T0, "ev-2")
    rows, codes, details = _conform(json.dumps(event), json.dumps(cancel))
    assert codes == [[], []] and details == ["", ""]
    first = rows[0]
    assert first["row_id"] == 42 and first["quantity"] == event["order_line"]["quantity"]
    assert first["sales"] == Decimal("1234.5678") and first["discount"] == Decimal("0.2000")
    assert first["postal_code"] is None  # blank optional text is NULL
    assert first["event_time"] == datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)
    assert first["order_date"] == date(2026, 11, 26)
    assert [r["is_deleted"] for r in rows] == [False, True]


def test_json_numbers_are_read_as_their_text_not_as_floats():
    sent = "12345678.123456789"  # a float would make this 12345678.12345679
    assert Decimal(float(sent)) != Decimal(sent)
    line = json.dumps(_event(sales="x")).replace('"sales": "x"', f'"sales": {sent}')
    rows, codes, _ = _conform(line)
    assert codes == [[]]
    assert rows[0]["sales"] == Decimal(sent)


@pytest.mark.parametrize(
    ("line", "expected_codes", "detail_part"),
    [
        ("{not json", ["invalid_json"], "not a JSON object"),
        ("[1, 2]", ["invalid_json"], "not a JSON object"),
        (json.dumps({**_event(), "event_id": " "}), ["missing_event_id"], "event_id is missing"),
        (
            json.dumps({**_event(), "event_type": "order_line_deleted"}),
            ["unknown_event_type"],
            "order_line_deleted is not one of",
        ),
        (
            json.dumps({**_event(), "event_time": "2026-02-30T00:00:00Z"}),
            ["bad_event_time"],
            "2026-02-30T00:00:00Z is not ISO-8601",
        ),
        (
            json.dumps({**_event(), "event_time": "2026-11-26T08:00:00"}),
            ["bad_event_time"],
            "with a zone",
        ),
        (json.dumps(_event(sales="12,50")), ["bad_sales"], "order_line.sales 12,50"),
        (json.dumps(_event(discount="1.5")), ["bad_discount"], "rate between 0 and 1"),
        (json.dumps(_event(quantity=0)), ["bad_quantity"], "0 is not a positive integer"),
        (json.dumps(_event(quantity=3_000_000_000)), ["bad_quantity"], "3000000000"),
        (json.dumps(_event(order_date="2026-02-30")), ["bad_order_date"], "YYYY-MM-DD"),
        (json.dumps(_event(market="Mars")), ["bad_market"], "Mars is not one of"),
        (json.dumps(_event(customer_id=None)), ["missing_customer_id"], "customer_id is missing"),
    ],
)
def test_each_bad_line_gets_its_reason(line, expected_codes, detail_part):
    rows, codes, details = _conform(line)
    assert codes == [expected_codes]
    assert detail_part in details[0]


def test_an_event_without_order_line_names_it_and_every_missing_required_field():
    event = _event()
    del event["order_line"]
    _, codes, _ = _conform(json.dumps(event))
    assert codes[0][0] == "missing_order_line"
    assert {"missing_row_id", "missing_order_id", "missing_sales"} <= set(codes[0])


def test_good_and_bad_lines_keep_their_order_and_one_bad_value_does_not_null_the_others():
    good, bad = json.dumps(_event()), json.dumps(_event(sales="lots"))
    rows, codes, _ = _conform(good, bad, good)
    assert codes == [[], ["bad_sales"], []]
    assert rows[1]["sales"] is None and rows[1]["quantity"] == rows[0]["quantity"]


def test_a_gzip_stream_file_reads_as_its_text_and_a_corrupt_one_is_one_quarantined_row():
    """The sink writes `.json.gz` with `s3.compression.type = gzip` (lake_layout accepts
    it): the loader reads the decompressed lines, or says the file is corrupt."""
    source = Source(index=0, uri="s3://raw/topics/t/x/t+0+0000000000.json.gz")
    text = json.dumps(_event("ev-1")) + "\n" + json.dumps(_event("ev-2", quantity=0)) + "\n"
    [plain] = event_batches(source, text.encode())
    [unzipped] = event_batches(source, gzip.compress(text.encode()))
    assert unzipped.equals(plain) and plain.num_rows == 2
    [broken] = event_batches(source, gzip.compress(text.encode())[:-9])  # cut short
    row = broken.to_pylist()
    assert [(r["line_number"], r["reason_codes"], r["event_id"]) for r in row] == [
        (0, ["corrupt_gzip"], None)
    ]
    assert "truncated" in row[0]["reason_detail"] and broken.schema.equals(plain.schema)
