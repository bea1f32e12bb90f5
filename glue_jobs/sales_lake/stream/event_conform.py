"""Stream event lines -> typed, validated rows (pure Python/Arrow, run in the executors).

A stream file holds one JSON event per line (msk_connect/events.py). Each line is
decoded with the standard `json` module, numbers kept as their text so nothing passes
through a float, and every field is then checked and typed with Arrow kernels, as
the CSV loader does (`conform`). A line that is not a JSON object gets one reason,
`invalid_json`; any other failing line gets a code and a readable detail per rule.

Why not Spark's from_json and Spark expressions: the ~70 rules outgrow the JVM's
64 KB method limit and run interpreted, and the parsed struct had to be cached
twice; here a file's lines are typed in the task that read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from sales_lake import dates
from sales_lake.reasons import (
    Rule,
    as_lists,
    filled,
    fixed,
    matches,
    outside,
    override,
    reasons,
    text,
    when,
)
from sales_lake.rules import ENUMERATIONS, RANGES, Bounds
from sales_lake.schema import (
    BUSINESS_COLUMNS,
    MONEY,
    MONEY_PRECISION,
    MONEY_SCALE,
    RATE,
    RATE_SCALE,
)
from sales_lake.typed_columns import ARROW_FIELDS

EVENT_TYPES = ("order_line_created", "order_line_updated", "order_line_cancelled")
CANCELLED = "order_line_cancelled"
EVENT_FIELDS = ("event_id", "event_type", "event_time")
EVENT_TIME = pa.timestamp("us", tz="UTC")

_ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
# Exactly what the silver type holds, or the event is quarantined (never rounded).
_DECIMAL = {
    MONEY: rf"^-?\d{{1,{MONEY_PRECISION - MONEY_SCALE}}}(\.\d{{1,{MONEY_SCALE}}})?$",
    RATE: rf"^[01](\.\d{{1,{RATE_SCALE}}})?$",
}
_INTEGER = r"^-?\d{1,18}$"
_INT_MAX = {"INT": 2**31 - 1, "BIGINT": 2**63 - 1}
_ARROW_TYPE = {field.name: field.type for field in ARROW_FIELDS}


@dataclass(frozen=True)
class ConformedEvents:
    """One file's event lines, typed: `columns` (ARROW_FIELDS, then event_id, event_time,
    is_deleted) and per line its reason codes (empty list when valid) and detail."""

    columns: dict[str, pa.Array]
    reason_codes: pa.Array
    reason_detail: pa.Array

    @property
    def valid(self) -> pa.Array:
        return pc.equal(pc.list_value_length(self.reason_codes), 0)


# ---------------------------------------------------------------- lines and JSON


def split_lines(content: bytes) -> tuple[pa.Array, pa.Array]:
    """(line number from 1, text) of every non-blank line; CRLF tolerated, bytes that
    are not UTF-8 become U+FFFD (the line then fails as JSON or as a value)."""
    whole = pa.array([content.decode("utf-8", errors="replace")], pa.large_string())
    lines = pc.list_flatten(pc.split_pattern(whole, "\n")).cast(pa.string())
    lines = pc.utf8_rtrim(lines, characters="\r")
    kept = pc.not_equal(pc.utf8_trim_whitespace(lines), "")
    numbers = pc.add(pa.array(range(len(lines)), pa.int64()), 1)
    return pc.filter(numbers, kept), pc.filter(lines, kept)


def _as_text(value) -> str | None:
    """A JSON value as the text the rules check: objects, arrays and booleans keep
    their JSON spelling (no rule accepts them, and the detail shows what came)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _column(values: list) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # some value is not text: spell it
        return pa.array([_as_text(v) for v in values], pa.string())


def parse_events(lines: list[str]) -> tuple[dict[str, pa.Array], pa.Array, pa.Array]:
    """Every field of every line as text: (fields, not a JSON object?, has an order_line
    object?). Numbers stay text (`parse_int=str`), so `12.10` is never `12.1`."""
    events: list[dict] = []
    not_json: list[bool] = []
    for line in lines:
        try:
            event = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
        except (ValueError, RecursionError):
            event = None
        is_object = isinstance(event, dict)
        not_json.append(not is_object)
        events.append(event if is_object else {})
    order_lines = [e.get("order_line") for e in events]
    has_order_line = [isinstance(o, dict) for o in order_lines]
    lines_or_empty = [o if ok else {} for o, ok in zip(order_lines, has_order_line, strict=True)]
    fields = {name: _column([e.get(name) for e in events]) for name in EVENT_FIELDS}
    for name, _type, _nullable in BUSINESS_COLUMNS:
        fields[name] = _column([o.get(name) for o in lines_or_empty])
    return fields, pa.array(not_json, pa.bool_()), pa.array(has_order_line, pa.bool_())


# ---------------------------------------------------------------- typing


def _blank(value: pa.Array) -> pa.Array:
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(value), ""), True)


def event_times(value: pa.Array) -> pa.Array:
    """ISO-8601 instants with a zone -> UTC microseconds; NULL where not one."""
    shaped = pc.replace_substring_regex(  # Arrow parses up to microseconds
        when(matches(value, _ISO_INSTANT), value), r"(\.\d{6})\d+", r"\1"
    )
    try:
        return pc.cast(shaped, EVENT_TIME)
    except pa.ArrowInvalid:  # an impossible instant (e.g. 30 February): one by one
        return pa.array([_one_time(v) for v in shaped.to_pylist()], EVENT_TIME)


def _one_time(value: str | None):
    try:
        return None if value is None else pa.scalar(value).cast(EVENT_TIME).as_py()
    except pa.ArrowInvalid:
        return None


def _within(name: str, number: pa.Array) -> pa.Array:
    """The number where it lies in rules.toml's range for the column, else NULL."""
    return when(pc.invert(pc.fill_null(outside(number, RANGES.get(name, Bounds())), True)), number)


def _typed(name: str, type_: str, value: pa.Array, blank: pa.Array) -> pa.Array:
    """The column's silver value; NULL where blank or not valid for its type."""
    present = pc.invert(blank)
    if type_ == "DATE":
        iso = when(pc.and_(present, matches(value, _ISO_DATE)), value)
        return dates.parse(dates.split(iso), None)
    if type_ in _DECIMAL:
        number = pc.cast(when(pc.and_(present, matches(value, _DECIMAL[type_])), value),
                         _ARROW_TYPE[name])  # fmt: skip
        return _within(name, number)
    if type_ in _INT_MAX:
        number = pc.cast(when(pc.and_(present, matches(value, _INTEGER)), value), pa.int64())
        fits = pc.less_equal(pc.abs(number), _INT_MAX[type_])  # the type; then rules.toml's range
        return _within(name, pc.cast(when(fits, number), _ARROW_TYPE[name]))
    if name in ENUMERATIONS:
        return when(pc.and_(present, pc.is_in(value, pa.array(sorted(ENUMERATIONS[name])))), value)
    return when(present, value)


_EXPECTED = {
    "DATE": " is not a YYYY-MM-DD date",
    MONEY: f' is not a {MONEY} amount (send money as a string, e.g. "12.34"; at most '
    f"{MONEY_SCALE} decimals: silver never rounds)",
}


def _expected(name: str, type_: str) -> str | None:
    """What a bad value of the column should have been, for its reason detail."""
    bounds = RANGES.get(name, Bounds())
    if type_ == RATE:
        return f' is not {bounds.describe("rate")} with at most {RATE_SCALE} decimals (e.g. "0.15")'
    if type_ in _INT_MAX:
        return f" is not {bounds.describe('integer')}"
    if name in ENUMERATIONS:
        return f" is not one of {', '.join(sorted(ENUMERATIONS[name]))}"
    return _EXPECTED.get(type_)


def _shown(prefix: str, value: pa.Array, suffix: str):
    """Detail showing the value as sent (`null` when absent)."""
    return lambda rows: text(prefix, pc.fill_null(pc.take(value, rows), "null"), suffix)


def _event_rules(fields: dict[str, pa.Array], event_time: pa.Array,
                 has_order_line: pa.Array) -> list[Rule]:  # fmt: skip
    event_type = fields["event_type"]
    return [
        Rule("missing_event_id", _blank(fields["event_id"]), fixed("event_id is missing or blank")),
        Rule(
            "unknown_event_type",
            pc.invert(pc.is_in(event_type, pa.array(EVENT_TYPES))),
            _shown("event_type ", event_type, f" is not one of {', '.join(EVENT_TYPES)}"),
        ),
        Rule(
            "bad_event_time",
            pc.is_null(event_time),
            _shown(
                "event_time ",
                fields["event_time"],
                " is not ISO-8601 with a zone (e.g. 2026-11-26T07:41:15.123Z)",
            ),
        ),
        Rule(
            "missing_order_line", pc.invert(has_order_line), fixed("order_line object is missing")
        ),
    ]


def conform_events(lines: pa.Array) -> ConformedEvents:
    """Type and validate one file's event lines."""
    fields, not_json, has_order_line = parse_events(lines.to_pylist())
    event_time = event_times(fields["event_time"])
    rules = _event_rules(fields, event_time, has_order_line)
    columns: dict[str, pa.Array] = {}
    for name, type_, nullable in BUSINESS_COLUMNS:
        value = fields[name]
        blank = _blank(value)
        columns[name] = _typed(name, type_, value, blank)
        if not nullable:
            rules.append(Rule(f"missing_{name}", blank, fixed(f"order_line.{name} is missing")))
        expected = _expected(name, type_)
        if expected is None:
            continue
        bad = pc.and_(pc.invert(blank), pc.is_null(columns[name]))
        rules.append(Rule(f"bad_{name}", bad, _shown(f"order_line.{name} ", value, expected)))
    codes, details = reasons(rules, len(lines))
    codes, details = override(
        codes,
        details,
        not_json,
        "invalid_json",
        filled(
            len(lines), pa.string(), "line is not a JSON object: each line must be one event object"
        ),
    )
    columns["event_id"] = fields["event_id"]
    columns["event_time"] = event_time
    columns["is_deleted"] = pc.fill_null(pc.equal(fields["event_type"], CANCELLED), False)
    return ConformedEvents(columns, as_lists(codes), details)
