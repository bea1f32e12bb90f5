"""Fault injection: what real exports get wrong, at given rates, one fault per row at most.

Each injection says which field it touched, so the sidecar `faults.jsonl` lets a test
(or a person) find the exact physical line and check the pipeline quarantined it.
Every fault stays on its own physical line: no fault opens a quote it does not close,
because that would swallow the following lines and blur line numbers.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import timedelta

from sales_data_generator.formatting import FIELD_INDEX, LineRenderer, date_text, quote

FAULT_KINDS: tuple[str, ...] = (
    "malformed", "wrong_type", "bad_date", "impossible_date", "ship_before_order",
    "negative_quantity", "discount_above_one", "duplicate", "missing_key", "unknown_enum",
    "encoding",
)  # fmt: skip

WRONG_TYPE_VALUES = ("abc", "N/A", "#VALUE!", "twelve", "?")
WRONG_TYPE_FIELDS = ("Sales", "Quantity", "Discount", "Profit", "Shipping Cost")
BAD_DATE_VALUES = ("not-a-date", "TBD", "12//2012", "#REF!", "31.07.2012x")
DISCOUNTS_ABOVE_ONE = ("1.2", "1.5", "15", "20")  # "15": a percentage typed as a fraction
KEY_FIELDS = ("Row ID", "Order ID", "Customer ID", "Product ID")
UNKNOWN_ENUM_VALUES = {
    "Segment": ("Gold", "Enterprise", "SMB"),
    "Ship Mode": ("Drone", "Express Overnight"),
    "Order Priority": ("Urgent", "Very High"),
    "Market": ("Antarctica", "Oceania"),
}
ENCODING_FIELDS = ("Customer Name", "City", "State", "Country", "Product Name")
_IMPOSSIBLE_DAY_MONTHS = ((31, 2), (30, 2), (31, 4), (31, 6), (31, 9), (31, 11))


def validate_rates(faults: dict[str, float] | None, encoding: str) -> dict[str, float]:
    """Known kinds, rates in 0..1 summing to at most 1, in FAULT_KINDS order."""
    faults = dict(faults or {})
    unknown = sorted(set(faults) - set(FAULT_KINDS))
    if unknown:
        raise ValueError(
            f"unknown fault kind(s) {', '.join(unknown)}: use any of {', '.join(FAULT_KINDS)}"
        )
    for kind, rate in faults.items():
        if not 0 <= float(rate) <= 1:
            raise ValueError(f"fault rate {kind}={rate} is outside 0..1: pass a share of rows")
    if sum(faults.values()) > 1:
        raise ValueError(
            f"fault rates sum to {sum(faults.values()):.3f} > 1: at most one fault per row"
        )
    if faults.get("encoding") and not encoding.startswith("utf-8"):
        raise ValueError(
            f"the encoding fault puts Latin-1 bytes into a UTF-8 file, but encoding={encoding!r}:"
            " use encoding='utf-8' or 'utf-8-sig', or drop the encoding fault"
        )
    return {kind: float(faults[kind]) for kind in FAULT_KINDS if faults.get(kind)}


class FaultPicker:
    """One uniform draw per row decides its fault (or none), so rates add up exactly."""

    def __init__(self, rates: dict[str, float], rng: random.Random):
        self._rng = rng
        self._bounds: list[tuple[float, str]] = []
        total = 0.0
        for kind, rate in rates.items():
            total += rate
            self._bounds.append((total, kind))
        self._total = total

    def draw(self) -> str | None:
        if not self._bounds:
            return None
        u = self._rng.random()
        if u >= self._total:
            return None
        for bound, kind in self._bounds:
            if u < bound:
                return kind
        return None


@dataclass(frozen=True)
class Injection:
    kind: str
    field: str | None
    detail: str


def _present(candidates, columns) -> list[str]:
    return [name for name in candidates if name in columns]


def inject_field_fault(
    kind: str, fields: list[str], line, columns: tuple[str, ...], date_format: str,
    format_date, rng: random.Random,
) -> Injection:  # fmt: skip
    """Change one value of `fields` (canonical order) in place for a value-level fault."""
    if kind == "wrong_type":
        field = rng.choice(_present(WRONG_TYPE_FIELDS, columns))
        value = rng.choice(WRONG_TYPE_VALUES)
    elif kind == "bad_date":
        field = rng.choice(("Order Date", "Ship Date"))
        value = rng.choice(BAD_DATE_VALUES)
    elif kind == "impossible_date":
        field = rng.choice(("Order Date", "Ship Date"))
        year = (line.order_date if field == "Order Date" else line.ship_date).year
        day, month = rng.choice(_IMPOSSIBLE_DAY_MONTHS)
        if not calendar.isleap(year) and rng.random() < 0.3:
            day, month = 29, 2
        value = date_text(day, month, year, date_format)
    elif kind == "ship_before_order":
        field = "Ship Date"
        value = format_date(line.order_date - timedelta(days=rng.randint(1, 5)))
    elif kind == "negative_quantity":
        field, value = "Quantity", f"-{line.quantity}"
    elif kind == "discount_above_one":
        field, value = "Discount", rng.choice(DISCOUNTS_ABOVE_ONE)
    elif kind == "missing_key":
        field, value = rng.choice(_present(KEY_FIELDS, columns)), ""
    elif kind == "unknown_enum":
        field = rng.choice(_present(tuple(UNKNOWN_ENUM_VALUES), columns))
        value = rng.choice(UNKNOWN_ENUM_VALUES[field])
    else:
        raise ValueError(f"{kind!r} is not a value-level fault")
    before = fields[FIELD_INDEX[field]]
    fields[FIELD_INDEX[field]] = value
    return Injection(kind, field, f"{field}: {before!r} -> {value!r}")


def malformed_line(
    fields: list[str], renderer: LineRenderer, rng: random.Random
) -> tuple[str, Injection]:
    """A line with the wrong number of columns: an unquoted comma, or a truncated row."""
    values = renderer.project(fields)
    name_position = renderer.columns.index("Product Name")
    name = values[name_position]
    if "," in name and '"' not in name and rng.random() < 0.5:
        text = ",".join(
            value if position == name_position else quote(value)
            for position, value in enumerate(values)
        )
        columns = len(values) + name.count(",")
        detail = f"Product Name {name!r} not quoted: {columns} columns instead of {len(values)}"
        return text, Injection("malformed", "Product Name", detail)
    keep = rng.randint(3, len(values) - 2)
    text = ",".join(quote(value) for value in values[:keep])
    detail = f"row cut after {keep} of {len(values)} columns"
    return text, Injection("malformed", None, detail)


def latin1_line(fields: list[str], renderer: LineRenderer) -> tuple[bytes, Injection] | None:
    """The line in UTF-8 except one field in Latin-1 (None if no field has such a character)."""
    values = renderer.project(fields)
    for position, name in enumerate(renderer.columns):
        if name in ENCODING_FIELDS and any("\x80" <= ch <= "\xff" for ch in values[position]):
            parts = [quote(value).encode("utf-8") for value in values]
            parts[position] = quote(values[position]).encode("latin-1")
            detail = f"{name} {values[position]!r} written as Latin-1 bytes in a UTF-8 file"
            return b",".join(parts), Injection("encoding", name, detail)
    return None
