"""How rows become text: date formats, header variants, CSV quoting.

Quoting follows RFC 4180 (quote a field holding a comma, quote or line break; double
inner quotes), which is what Excel and pandas write and what Spark's CSV reader expects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

from sales_lake.schema import CANONICAL_HEADER

DATE_FORMATS: dict[str, Callable[[date], str]] = {
    "iso": lambda d: d.isoformat(),  # 2012-07-31
    "dmy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",  # 31/07/2012
    "dmy-dash": lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",  # 31-07-2012
    "mdy": lambda d: f"{d.month}/{d.day}/{d.year}",  # 7/31/2012
}


def date_text(day: int, month: int, year: int, date_format: str) -> str:
    """Any day/month/year as text in a format, even an impossible one like 31/02/2012."""
    if date_format == "iso":
        return f"{year}-{month:02d}-{day:02d}"
    if date_format == "dmy":
        return f"{day:02d}/{month:02d}/{year}"
    if date_format == "dmy-dash":
        return f"{day:02d}-{month:02d}-{year}"
    return f"{month}/{day}/{year}"


def date_formatter(date_format: str) -> Callable[[date], str]:
    if date_format not in DATE_FORMATS:
        raise ValueError(
            f"unknown date_format {date_format!r}: use one of {', '.join(DATE_FORMATS)}"
        )
    return lru_cache(maxsize=16_384)(DATE_FORMATS[date_format])


# The 21-column "Sample Superstore" export: no Market, Shipping Cost or Order Priority,
# and Country comes before City. A file with this header must be rejected as a whole.
SAMPLE_SUPERSTORE_HEADER: tuple[str, ...] = (
    "Row ID", "Order ID", "Order Date", "Ship Date", "Ship Mode", "Customer ID",
    "Customer Name", "Segment", "Country", "City", "State", "Postal Code", "Region",
    "Product ID", "Category", "Sub-Category", "Product Name", "Sales", "Quantity",
    "Discount", "Profit",
)  # fmt: skip

HEADERS: dict[str, tuple[str, ...]] = {
    "global": CANONICAL_HEADER,
    "sample-superstore": SAMPLE_SUPERSTORE_HEADER,
}
FIELD_INDEX: dict[str, int] = {name: i for i, name in enumerate(CANONICAL_HEADER)}
# Only free-text fields can hold a comma or a quote; numbers, dates and ids never do.
TEXT_FIELDS = ("Customer Name", "City", "State", "Country", "Product Name")


def header_columns(header: str) -> tuple[str, ...]:
    if header not in HEADERS:
        raise ValueError(f"unknown header {header!r}: use one of {', '.join(HEADERS)}")
    return HEADERS[header]


def quote(field: str) -> str:
    if "," in field or '"' in field or "\n" in field or "\r" in field:
        return '"' + field.replace('"', '""') + '"'
    return field


class LineRenderer:
    """Projects canonical fields onto a header and renders one CSV line (no line ending)."""

    def __init__(self, columns: tuple[str, ...]):
        self.columns = columns
        self.indexes = tuple(FIELD_INDEX[name] for name in columns)
        self.quoted_positions = frozenset(
            position for position, name in enumerate(columns) if name in TEXT_FIELDS
        )

    def project(self, fields: list[str]) -> list[str]:
        return [fields[i] for i in self.indexes]

    def render(self, fields: list[str]) -> str:
        values = self.project(fields)
        for position in self.quoted_positions:
            values[position] = quote(values[position])
        return ",".join(values)

    def render_all_quoted(self, fields: list[str]) -> str:
        """Slow path for faulted rows whose values may hold anything."""
        return ",".join(quote(value) for value in self.project(fields))

    def header_line(self) -> str:
        return ",".join(quote(name) for name in self.columns)


def canonical_fields(line, format_date: Callable[[date], str]) -> list[str]:
    """The 24 canonical values of an OrderLine as text, in CANONICAL_HEADER order."""
    values = list(line)
    values[0] = str(line.row_id)
    values[2] = format_date(line.order_date)
    values[3] = format_date(line.ship_date)
    values[19] = str(line.quantity)
    return values
