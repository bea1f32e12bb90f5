"""Bronze records -> typed, validated rows (pure Arrow transforms, run in the executors).

Every check adds a machine-readable reason code and a human-readable detail naming
the field, the value and what was expected; a record with any reason goes to
quarantine, the rest to silver. Parsing is tolerant where the meaning is
unambiguous (case of enumerations, thousands separators, currency signs, `20%`),
strict where guessing could corrupt data (dates, field counts, encodings).

Why Arrow and not Spark expressions: one file's records are at hand in the task
that parsed them, its date order is a constant there, and pyarrow's vectorised
kernels (RE2 regexes, decimal casts) type a million records in a few seconds. The
same checks as Spark expressions exceeded the JVM's 64 KB method limit, fell back
to interpreted evaluation and were 4x slower. Reasons are built only for the
failing records, so their cost follows the number of bad rows, not all rows.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from sales_lake import dates
from sales_lake.batch.bronze_csv import (
    ISSUE_ENCODING,
    ISSUE_HEADER,
    ISSUE_MISSING_COLUMNS,
    ISSUE_NUL,
    ISSUE_UNCLOSED_QUOTE,
    field_counts,
)
from sales_lake.batch.header_map import FIELDS, HeaderMap
from sales_lake.reasons import (
    Rule,
    about,
    as_lists,
    filled,
    fixed,
    matches,
    outside,
    override,
    present_but,
    reasons,
    scatter,
    text,
    when,
)
from sales_lake.rules import ENUMERATIONS, RANGES, Bounds
from sales_lake.schema import (
    MONEY_PRECISION,
    MONEY_SCALE,
    RATE_PRECISION,
    RATE_SCALE,
)
from sales_lake.typed_columns import ARROW_FIELDS

DATE_COLUMNS = ("order_date", "ship_date")
REQUIRED_KEYS = ("order_id", "customer_id", "product_id")
REQUIRED_MONEY = ("sales", "profit")
OPTIONAL_MONEY = ("shipping_cost",)
OPTIONAL_ENUMS = ("order_priority",)

_MONEY_TEXT = r"^[-+]?\s*[$€£¥]?\s*[-+]?\s*(?:\d{1,3}(?:,\d{3})+|\d{1,14})(?:\.\d+)?\s*[$€£¥]?$"
_RATE_TEXT = r"^\+?(?:\d{1,6}(?:\.\d+)?|\.\d+)\s*%?$"
_NUMBER = r"^-?(?:\d+(?:\.\d*)?|\.\d+)$"


ISSUE_DETAILS = {
    ISSUE_HEADER: (
        ISSUE_HEADER,
        "the file's header does not match (see run metrics rejected_files for what differs "
        "and how to fix it)",
    ),
    ISSUE_MISSING_COLUMNS: (
        ISSUE_MISSING_COLUMNS,
        "the file's header lacks required columns (see run metrics rejected_files for which "
        "and how to fix it)",
    ),
    ISSUE_NUL: (
        "bad_characters",
        "the line holds NUL bytes (\\x00), which no text field may hold; remove them and "
        "upload the file again",
    ),
    ISSUE_ENCODING: (
        ISSUE_ENCODING,
        "the line holds bytes that are not valid UTF-8 (the rest of the file is UTF-8); "
        "re-export the file as UTF-8",
    ),
    ISSUE_UNCLOSED_QUOTE: (
        "malformed_record",
        "a quoted field is never closed; the line is quarantined alone and reading "
        "continued on the next line",
    ),
}


@dataclass(frozen=True)
class Conformed:
    """One file's records, typed: `columns` (ARROW_FIELDS), and per record its reason
    codes (an empty list when valid) and detail (empty text when valid)."""

    columns: dict[str, pa.Array]
    reason_codes: pa.Array
    reason_detail: pa.Array
    date_format: dates.DateFormat
    rescued_data: pa.Array | None = None  # JSON of unknown columns' values, or NULL

    @property
    def valid(self) -> pa.Array:
        return pc.equal(pc.list_value_length(self.reason_codes), 0)


# ---------------------------------------------------------------- splitting fields


def split_fields(
    records: pa.Array, header: HeaderMap | None = None
) -> tuple[dict[str, pa.Array], pa.Array, pa.Array]:
    """RFC 4180 fields of records that hold as many as the header: (trimmed text or NULL
    per silver field, by the header's positions; number of fields found per record; the
    unknown columns' values as a JSON object per record, NULL where they are all empty).
    Records with another count get NULL fields."""
    header = header or HeaderMap.canonical()
    counts = field_counts(records)
    fits = pc.fill_null(pc.equal(counts, header.width), False)
    candidates = pc.filter(records, fits)
    table = _read_csv(candidates, header.width)
    if table is None:  # the fast reader disagreed on a field count: read record by record
        table, python_counts = _read_one_by_one(candidates, header.width)
        counts = scatter(fits, python_counts, counts)
        fits = pc.fill_null(pc.equal(counts, header.width), False)
    all_fit = pc.all(fits).as_py()

    def placed(column: pa.Array) -> pa.Array:
        column = pc.utf8_trim_whitespace(column)
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        return column if all_fit else scatter(fits, column, pa.nulls(len(records), pa.string()))

    fields = {
        name: placed(table.column(header.positions[name]).combine_chunks())
        if name in header.positions
        else pa.nulls(len(records), pa.string())
        for name in FIELDS
    }
    rescued = {name: placed(table.column(i).combine_chunks()) for i, name in header.rescued.items()}
    return fields, counts, _rescued_json(rescued, len(records))


def _rescued_json(columns: dict[str, pa.Array], size: int) -> pa.Array:
    """{"Unknown column": "value", ...} per record holding any; built in Python for those
    records only (unknown columns are rare and mostly empty)."""
    if not columns:
        return pa.nulls(size, pa.string())
    present = filled(size, pa.bool_(), False)
    for values in columns.values():
        present = pc.or_(present, pc.is_valid(values))
    rows = pc.indices_nonzero(present)
    if not len(rows):
        return pa.nulls(size, pa.string())
    taken = {name: pc.take(values, rows).to_pylist() for name, values in columns.items()}
    texts = [
        json.dumps({n: v[k] for n, v in taken.items() if v[k] is not None}, ensure_ascii=False)
        for k in range(len(rows))
    ]
    return scatter(present, pa.array(texts, pa.string()), pa.nulls(size, pa.string()))


def _read_csv(records: pa.Array, width: int) -> pa.Table | None:
    """Arrow's multi-threaded CSV reader over the records; None if it saw another count."""
    names = [f"c{i}" for i in range(width)]
    if not len(records):
        return pa.table({name: pa.array([], pa.string()) for name in names})
    # One text of all records, joined by Arrow (large_string: no 2 GB offset limit).
    one_list = pa.ListArray.from_arrays(
        pa.array([0, len(records)], pa.int32()), records.cast(pa.large_string())
    )
    data = pc.binary_join(one_list, pa.scalar("\n", pa.large_string()))[0].as_buffer()
    # A block must hold the longest record (a field can be megabytes long).
    longest = pc.max(pc.binary_length(records)).as_py() or 0
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(
                column_names=names, block_size=max(1 << 20, 2 * longest + 1024)
            ),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == len(records) else None


UNSPLITTABLE = -1  # a field count no record has: the csv module could not split it


def _fields(record: str) -> list[str] | None:
    try:
        return next(csv.reader([record], strict=False), [])
    except csv.Error:  # e.g. a line break after a quote that opened mid-field
        return None


def _read_one_by_one(records: pa.Array, width: int) -> tuple[pa.Table, pa.Array]:
    rows = [_fields(r or "") for r in records.to_pylist()]
    counts = pa.array([UNSPLITTABLE if r is None else len(r) for r in rows], pa.int32())
    rows = [r or [] for r in rows]
    fitting = [r for r in rows if len(r) == width]
    table = pa.table({f"c{i}": pa.array([r[i] for r in fitting], pa.string())
                      for i in range(width)})  # fmt: skip
    return table, counts


# ---------------------------------------------------------------- typing


def _integer(value: pa.Array, pattern: str, type_: pa.DataType) -> pa.Array:
    ok = matches(value, pattern)
    return pc.cast(when(ok, pc.replace_substring(value, "+", "")), type_)


@dataclass(frozen=True)
class Exact:
    """A column's exact decimals (NULL where the text is no number or does not fit) and
    where the number has more decimals, or more integer digits, than the type holds."""

    value: pa.Array
    too_precise: pa.Array
    too_large: pa.Array


@dataclass(frozen=True)
class _Digits:
    """A number's text (NULL unless validated digits) and how many significant digits it
    has on each side of the point: the fraction without trailing zeros (`1.2500` has
    2), the integer part without sign and leading zeros (`-007.5` has 1)."""

    text: pa.Array
    decimals: pa.Array
    integer: pa.Array


def _digits(number_text: pa.Array) -> _Digits:
    # Plain string kernels, no regex rewriting: this runs on every money column of
    # every row (bench-silver). Arrow's cast reads `.5`, `-.5`, `12.` and `007` itself.
    text = when(matches(number_text, _NUMBER), number_text)
    dot = pc.find_substring(text, ".")
    has_dot = pc.greater_equal(dot, 0)
    fraction = pc.subtract(pc.subtract(pc.binary_length(pc.utf8_rtrim(text, "0")), dot), 1)
    decimals = pc.if_else(has_dot, fraction, 0)
    body = pc.utf8_ltrim(pc.utf8_ltrim(text, "-"), "0")
    body_dot = pc.find_substring(body, ".")
    integer = pc.if_else(pc.greater_equal(body_dot, 0), body_dot, pc.binary_length(body))
    return _Digits(text, decimals, integer)


def _exact(digits: _Digits, precision: int, scale: int) -> Exact:
    """Exact decimal from validated digits (`-12.50`, `.5`): never rounded. Trailing zeros
    of the fraction do not count as decimals (`1.2500000000000` is 1.25)."""
    too_precise = pc.fill_null(pc.greater(digits.decimals, scale), False)
    too_large = pc.fill_null(pc.greater(digits.integer, precision - scale), False)
    fits = pc.invert(pc.or_(too_precise, too_large))
    value = pc.cast(when(fits, digits.text), pa.decimal128(precision, scale))
    return Exact(value, too_precise, too_large)


def _money(value: pa.Array) -> Exact:
    digits = pc.replace_substring_regex(value, r"[\s$€£¥,+]", "")
    number = _digits(when(matches(value, _MONEY_TEXT), digits))
    return _exact(number, MONEY_PRECISION, MONEY_SCALE)


def _rate(value: pa.Array) -> tuple[Exact, pa.Array]:
    """(the rate, exact, and whether the text was a number in its range, rules.toml's
    [ranges] discount, within [0, 1] by its type). `12.5%` is 0.125:
    a percent gives up two of the scale's decimals to the division by 100."""
    digits = pc.replace_substring_regex(value, r"[\s%+]", "")
    number = _digits(when(matches(value, _RATE_TEXT), digits))
    is_percent = pc.fill_null(pc.ends_with(value, "%"), False)
    plain = _exact(number, RATE_PRECISION, RATE_SCALE)
    percent = _exact(number, RATE_PRECISION + 2, RATE_SCALE - 2)  # up to 100.00000000%
    hundredths = pc.multiply(percent.value, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2)))
    rate_type = pa.decimal128(18, RATE_SCALE)  # holds any product above before the range check
    rate = pc.if_else(is_percent, pc.cast(hundredths, rate_type), pc.cast(plain.value, rate_type))
    in_range = pc.invert(pc.fill_null(outside(rate, _bounds("discount")), True))
    too_precise = pc.if_else(is_percent, percent.too_precise, plain.too_precise)
    value = pc.cast(when(in_range, rate), pa.decimal128(RATE_PRECISION, RATE_SCALE))
    return Exact(value, too_precise, filled(len(value), pa.bool_(), False)), in_range


def _enum(value: pa.Array, allowed: frozenset[str]) -> pa.Array:
    canonical = sorted(allowed)
    position = pc.index_in(pc.utf8_lower(value), value_set=pa.array([v.lower() for v in canonical]))
    return pc.take(pa.array(canonical, pa.string()), position)


# ---------------------------------------------------------------- rules


def _bounds(column: str) -> Bounds:
    """rules.toml's range of a number column (unbounded when the file leaves it out)."""
    return RANGES.get(column, Bounds())


def _not_within(column: str, kind: str) -> str:
    return f" is not {_bounds(column).describe(kind)}"


def _value_rules(raw: dict[str, pa.Array], typed: dict[str, pa.Array],
                 date_parts: dict[str, dates.DateParts], fmt: dates.DateFormat,
                 discount_in_range: pa.Array, exact: dict[str, Exact]) -> list[Rule]:  # fmt: skip
    missing = {name: pc.is_null(raw[name]) for name in FIELDS}
    # a number that does not fit exactly has its own reason (`_exactness_rules`)
    inexact = {name: pc.or_(n.too_precise, n.too_large) for name, n in exact.items()}
    rules = [
        Rule("missing_row_id", missing["row_id"], fixed("row_id is empty; every line needs one")),
        Rule(
            "bad_row_id",
            present_but(raw["row_id"], outside(typed["row_id"], _bounds("row_id"))),
            about("row_id ", raw["row_id"], _not_within("row_id", "integer")),
        ),
        *[
            Rule(f"missing_{k}", missing[k], fixed(f"{k} is empty; it is a required key"))
            for k in REQUIRED_KEYS
        ],
    ]
    for name in DATE_COLUMNS:
        ambiguous = dates.is_ambiguous(date_parts[name], fmt.order)
        rules += [
            Rule(f"missing_{name}", missing[name], fixed(f"{name} is empty")),
            Rule(
                f"ambiguous_{name}",
                ambiguous,
                about(
                    f"{name} ",
                    raw[name],
                    " could be day-first or month-first and no value in the file tells "
                    "which; re-export with ISO dates (yyyy-MM-dd)",
                ),
            ),
            Rule(
                f"bad_{name}",
                pc.and_(present_but(raw[name], pc.is_null(typed[name])), pc.invert(ambiguous)),
                about(
                    f"{name} ",
                    raw[name],
                    f" is not a valid date in this file's format ({fmt.label or 'none'})",
                ),
            ),
        ]
    ship, ordered = typed["ship_date"], typed["order_date"]
    rules.append(
        Rule(
            "ship_before_order",
            pc.fill_null(pc.less(ship, ordered), False),
            lambda rows: text(
                "ship_date ",
                pc.cast(pc.take(ship, rows), pa.string()),
                " is before order_date ",
                pc.cast(pc.take(ordered, rows), pa.string()),
            ),  # fmt: skip
        )
    )
    for name, allowed in ENUMERATIONS.items():
        if name not in OPTIONAL_ENUMS:
            rules.append(Rule(f"missing_{name}", missing[name], fixed(f"{name} is empty")))
        rules.append(
            Rule(
                f"unknown_{name}",
                present_but(raw[name], pc.is_null(typed[name])),
                about(f"{name} ", raw[name], " is not one of: " + ", ".join(sorted(allowed))),
            )
        )
    for name in REQUIRED_MONEY + OPTIONAL_MONEY:
        if name in REQUIRED_MONEY:
            rules.append(Rule(f"missing_{name}", missing[name], fixed(f"{name} is empty")))
        rules.append(
            Rule(
                f"bad_{name}",
                pc.and_(present_but(raw[name], pc.is_null(typed[name])), pc.invert(inexact[name])),
                about(f"{name} ", raw[name], " is not an amount"),
            )
        )
    rules += [
        Rule("missing_quantity", missing["quantity"], fixed("quantity is empty")),
        Rule(
            "bad_quantity",
            present_but(raw["quantity"], outside(typed["quantity"], _bounds("quantity"))),
            about("quantity ", raw["quantity"], _not_within("quantity", "integer")),
        ),
        Rule("missing_discount", missing["discount"], fixed("discount is empty")),
        Rule(
            "bad_discount",
            pc.and_(
                pc.and_(pc.is_valid(raw["discount"]), pc.invert(discount_in_range)),
                pc.invert(inexact["discount"]),
            ),
            about("discount ", raw["discount"], _not_within("discount", "number")),
        ),
    ]
    return rules


def _exactness_rules(raw: dict[str, pa.Array], exact: dict[str, Exact]) -> list[Rule]:
    """A number that the silver type cannot hold exactly is quarantined, never rounded."""
    never_rounds = "silver keeps values exactly and never rounds: round it in the source"
    rules = []
    for name, numbers in exact.items():
        if name == "discount":
            limit = f"{RATE_SCALE} decimals as a rate ({RATE_SCALE - 2} as a percent)"
        else:
            limit = f"{MONEY_SCALE} decimals"
        digits = MONEY_PRECISION - MONEY_SCALE
        rules += [
            Rule(
                f"too_precise_{name}",
                numbers.too_precise,
                about(f"{name} ", raw[name], f" has more than {limit}; {never_rounds}"),
            ),
            Rule(
                f"too_large_{name}",
                numbers.too_large,
                about(
                    f"{name} ",
                    raw[name],
                    f" has more than {digits} digits before the "
                    "decimal point, more than silver holds; check the value in the source",
                ),
            ),  # fmt: skip
        ]
    return rules


@dataclass(frozen=True)
class _Split:
    """Phase 1 of a chunk: its fields as text and its date columns taken apart."""

    raw: dict[str, pa.Array]
    counts: pa.Array
    issues: pa.Array
    date_parts: dict[str, dates.DateParts]
    width: int  # fields a record of this file has (its header's)
    rescued: pa.Array  # JSON of the unknown columns' values, or NULL


def _split(records: pa.Array, issues: pa.Array | None, header: HeaderMap | None) -> _Split:
    size = len(records)
    issues = pa.nulls(size, pa.string()) if issues is None else issues.cast(pa.string())
    header = header or HeaderMap.canonical()
    raw, counts, rescued = split_fields(records, header)
    parts = {name: dates.split(raw[name]) for name in DATE_COLUMNS}
    return _Split(raw, counts, issues, parts, header.width, rescued)


def _evidence(chunks: list[_Split]) -> dict:
    return dates.count_evidence(
        {name: dates.concat([c.date_parts[name] for c in chunks]) for name in DATE_COLUMNS}
    )


def _detect(chunks: list[_Split], date_order: str = "auto") -> dates.DateFormat:
    """The file's date format, from the date columns of all its chunks; a declared
    order (`date_order`) settles a file whose dates cannot tell."""
    return decide_date_format([_evidence(chunks)], date_order)


def decide_date_format(evidence: list[dict], date_order: str = "auto") -> dates.DateFormat:
    """The file's date format from the evidence of its pieces, in file order."""
    merged = evidence[0] if len(evidence) == 1 else dates.merge_evidence(evidence, DATE_COLUMNS)
    return dates.with_declared_order(dates.decide(merged, DATE_COLUMNS), date_order)


def date_evidence(
    records: pa.Array, issues: pa.Array | None, rows: int, header: HeaderMap | None = None
) -> dict:
    """The date evidence of one piece of a file (a byte range), for decide_date_format."""
    if not len(records):
        return {}
    chunks = [
        _split(records.slice(start, rows), None if issues is None else issues.slice(start, rows),
               header)
        for start in range(0, len(records), rows)
    ]  # fmt: skip
    return _evidence(chunks)


def _type(chunk: _Split, fmt: dates.DateFormat) -> Conformed:
    """Phase 2 of a chunk: typed values and reasons, the file's date format given."""
    raw, size = chunk.raw, len(chunk.counts)
    typed: dict[str, pa.Array] = dict(raw)
    typed["row_id"] = _integer(raw["row_id"], r"^\d{1,18}$", pa.int64())
    for name in DATE_COLUMNS:
        typed[name] = dates.parse(chunk.date_parts[name], fmt.order)
    typed["quantity"] = _integer(raw["quantity"], r"^\+?\d{1,9}$", pa.int32())
    exact = {name: _money(raw[name]) for name in REQUIRED_MONEY + OPTIONAL_MONEY}
    exact["discount"], discount_in_range = _rate(raw["discount"])
    typed.update({name: numbers.value for name, numbers in exact.items()})
    for name, allowed in ENUMERATIONS.items():
        typed[name] = _enum(raw[name], allowed)

    rules = _value_rules(raw, typed, chunk.date_parts, fmt, discount_in_range, exact)
    rules += _exactness_rules(raw, exact)
    codes, details = reasons(rules, size)
    codes, details = override(
        codes,
        details,
        pc.not_equal(chunk.counts, chunk.width),
        "malformed_record",
        text(
            f"expected {chunk.width} comma-separated fields (as in the header), found ",
            pc.cast(chunk.counts, pa.string()),
            "; check for a missing/extra comma or an unquoted comma in a text field",
        ),
    )
    codes, details = override(
        codes,
        details,
        pc.equal(chunk.counts, UNSPLITTABLE),
        "malformed_record",
        filled(
            size,
            pa.string(),
            "the record cannot be split into fields (a quote opens inside "
            "an unquoted field and a line break follows); quote the whole field, doubling "
            "the quotes inside it",
        ),  # fmt: skip
    )
    for issue, (code, detail) in ISSUE_DETAILS.items():
        codes, details = override(
            codes, details, pc.equal(chunk.issues, issue), code, filled(size, pa.string(), detail)
        )
    columns = {f.name: typed[f.name].cast(f.type) for f in ARROW_FIELDS}
    return Conformed(columns, as_lists(codes), details, fmt, chunk.rescued)


def conform(
    records: pa.Array,
    issues: pa.Array | None = None,
    header: HeaderMap | None = None,
    date_order: str = "auto",
) -> Conformed:
    """Type and validate one file's records (its date order is detected from them).

    `issues` holds the reader's verdict per record (header mismatch, bad encoding,
    unclosed quote) or NULL; a verdict, like a wrong field count, replaces the value
    checks with one reason.
    """
    chunk = _split(records, issues, header)
    return _type(chunk, _detect([chunk], date_order))


def conform_in_chunks(
    records: pa.Array,
    issues: pa.Array | None,
    rows: int,
    workers: int,
    header: HeaderMap | None = None,
    date_order: str = "auto",
    fmt: dates.DateFormat | None = None,
) -> tuple[dates.DateFormat, Iterator[tuple[int, Conformed]]]:
    """`conform` over slices of `rows` records on `workers` threads: the file's date
    format, and (offset, result) per slice in order, each ready as soon as it is done.

    pyarrow's kernels release the GIL, so a big file uses every core of the worker
    instead of one; the results stream out while later slices are still typed.
    """
    starts = range(0, len(records), rows)
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        chunks = list(
            pool.map(
                lambda start: _split(
                    records.slice(start, rows),
                    None if issues is None else issues.slice(start, rows),
                    header,
                ),
                starts,
            )
        )
        if fmt is None:  # else decided over the whole file (a byte range of it is typed)
            fmt = _detect(chunks, date_order)
        futures = [pool.submit(_type, chunk, fmt) for chunk in chunks]
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise

    def results() -> Iterator[tuple[int, Conformed]]:
        try:
            for start, future in zip(starts, futures, strict=True):
                yield start, future.result()
        finally:
            pool.shutdown(cancel_futures=True)

    return fmt, results()
