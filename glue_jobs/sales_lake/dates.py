"""Per-file date-format detection and date parsing (pure DataFrame transforms).

Exports write `31/07/2012`, `31-07-2012`, `7/31/2012` or `2012-07-31`. Whether
`03/04/2012` is March or April cannot be told from the value, only from the file:
a file is day-first if some value has a first number > 12 and none has a second
number > 12 (and vice versa). Conflicting files follow the majority and the
minority fails to parse (quarantined); files with no evidence quarantine their
ambiguous values instead of guessing. ISO values are always unambiguous.

The evidence is counted by the reader (`bronze_csv.date_evidence`), where the whole
file is at hand; `decide` turns it into the file's format and `parse_date` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
DAY_MONTH = r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})" + _TIME + r"\s*$"
ISO = r"^\s*(\d{4})([/.-])(\d{1,2})\2(\d{1,2})" + _TIME + r"\s*$"

DAY_FIRST, MONTH_FIRST, AMBIGUOUS = "dmy", "mdy", "ambiguous"


@dataclass(frozen=True)
class DateFormat:
    """Detected per file: `order` drives parsing, `label` goes into the run metrics."""

    order: str | None  # dmy | mdy | ambiguous | None (ISO only / no dates)
    label: str | None  # e.g. "dd/MM/yyyy", "M/d/yyyy or yyyy-MM-dd" ...


def _parts(value: Column) -> tuple[Column, Column, Column]:
    first = F.regexp_extract(value, DAY_MONTH, 1)
    sep = F.regexp_extract(value, DAY_MONTH, 2)
    second = F.regexp_extract(value, DAY_MONTH, 3)
    return first, sep, second


def decide(evidence: dict, columns: tuple[str, ...]) -> DateFormat:
    """Turn one evidence row into the file's date format (pure Python)."""
    dmy = sum(evidence.get(f"{c}__dmy") or 0 for c in columns)
    mdy = sum(evidence.get(f"{c}__mdy") or 0 for c in columns)
    amb = sum(evidence.get(f"{c}__amb") or 0 for c in columns)
    iso = sum(evidence.get(f"{c}__iso") or 0 for c in columns)
    seps = [s for c in columns for s in (evidence.get(f"{c}__seps") or [])]  # most used first
    widths = [evidence.get(f"{c}__width") for c in columns]
    width = min((w for w in widths if w), default=2)  # any 1-digit value: not zero-padded
    sep = seps[0] if seps else "/"
    if dmy or mdy:
        order = DAY_FIRST if dmy >= mdy else MONTH_FIRST
        day, month = ("dd", "MM") if width == 2 else ("d", "M")
        parts = (day, month) if order == DAY_FIRST else (month, day)
        label = f"{parts[0]}{sep}{parts[1]}{sep}yyyy"
    elif amb:
        order, label = AMBIGUOUS, f"ambiguous (day-first or month-first, separator {sep!r})"
    else:
        order, label = None, None
    if iso:
        label = "yyyy-MM-dd" if label is None else f"{label} + yyyy-MM-dd"
    return DateFormat(order, label)


def _safe_make_date(year: Column, month: Column, day: Column) -> Column:
    """make_date that yields NULL for impossible dates under ANSI mode too."""
    plausible = year.between(1900, 2999) & month.between(1, 12) & day.between(1, 31)
    month_start = F.make_date(year, month, F.lit(1))
    fits_month = day <= F.dayofmonth(F.last_day(month_start))
    return F.when(plausible, F.when(fits_month, F.make_date(year, month, day)))


def parse_date(value: Column, order: Column) -> Column:
    """DATE from a text value and its file's order (dmy/mdy/ambiguous); NULL if invalid."""
    iso_y = F.regexp_extract(value, ISO, 1).cast("int")
    iso_m = F.regexp_extract(value, ISO, 3).cast("int")
    iso_d = F.regexp_extract(value, ISO, 4).cast("int")
    first, _, second = _parts(value)
    a, b = first.cast("int"), second.cast("int")
    year = F.regexp_extract(value, DAY_MONTH, 4).cast("int")
    day = F.when(order == DAY_FIRST, a).when(order == MONTH_FIRST, b).when(a == b, a)
    month = F.when(order == DAY_FIRST, b).when(order == MONTH_FIRST, a).when(a == b, a)
    return F.when(value.rlike(ISO), _safe_make_date(iso_y, iso_m, iso_d)).when(
        value.rlike(DAY_MONTH), _safe_make_date(year, month, day)
    )


def is_ambiguous(value: Column, order: Column) -> Column:
    """True when the value is day/month-first but the file gave no way to tell which."""
    first, _, second = _parts(value)
    return (
        (order == AMBIGUOUS)
        & value.rlike(DAY_MONTH)
        & (first.cast("int") <= 12)
        & (second.cast("int") <= 12)
        & (first.cast("int") != second.cast("int"))
    )
