"""Per-file date-format detection and date parsing (pure Arrow transforms).

Exports write `31/07/2012`, `31-07-2012`, `7/31/2012` or `2012-07-31`. Whether
`03/04/2012` is March or April cannot be told from the value, only from the file:
a file is day-first if some value has a first number > 12 and none has a second
number > 12 (and vice versa). Conflicting files follow the majority and the
minority fails to parse (quarantined); files with no evidence quarantine their
ambiguous values instead of guessing. ISO values are always unambiguous.

`detect_format` counts the evidence over a whole file's date columns and `decide`
turns it into the file's format; `parse` then applies that one order to every value.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
# RE2 has no back-references: both separators are captured and compared instead.
DAY_MONTH = r"^\s*(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P<sep2>[/.-])(?P<y>\d{4})" + _TIME
ISO = r"^\s*(?P<y>\d{4})(?P<sep>[/.-])(?P<m>\d{1,2})(?P<sep2>[/.-])(?P<d>\d{1,2})" + _TIME
_DAYS_IN_MONTH = pa.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int32())

DAY_FIRST, MONTH_FIRST, AMBIGUOUS = "dmy", "mdy", "ambiguous"


@dataclass(frozen=True)
class DateFormat:
    """Detected per file: `order` drives parsing, `label` goes into the run metrics."""

    order: str | None  # dmy | mdy | ambiguous | None (ISO only / no dates)
    label: str | None  # e.g. "dd/MM/yyyy", "M/d/yyyy or yyyy-MM-dd" ...


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


@dataclass(frozen=True)
class DateParts:
    """A date column taken apart once (NULL where a pattern does not match); detection,
    parsing and the ambiguity check all read these instead of re-running the regexes."""

    first: pa.Array  # a of a/b/yyyy (int32)
    second: pa.Array  # b of a/b/yyyy
    year: pa.Array  # yyyy of a/b/yyyy
    first_width: pa.Array  # digits of `first` (1 = not zero-padded)
    separator: pa.Array
    iso: dict[str, pa.Array]  # y, m, d of yyyy-mm-dd


def _groups(values: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """Named groups of `pattern`; NULL where it does not match or the separators differ."""
    found = pc.extract_regex(values, pattern)
    same = pc.fill_null(
        pc.equal(pc.struct_field(found, "sep"), pc.struct_field(found, "sep2")), False
    )
    return {f.name: pc.if_else(same, pc.struct_field(found, f.name), None) for f in found.type}


def split(values: pa.Array) -> DateParts:
    dm, iso = _groups(values, DAY_MONTH), _groups(values, ISO)
    number = {name: pc.cast(dm[name], pa.int32()) for name in ("a", "b", "y")}
    return DateParts(
        number["a"], number["b"], number["y"], pc.utf8_length(dm["a"]), dm["sep"],
        {name: pc.cast(iso[name], pa.int32()) for name in ("y", "m", "d")},
    )  # fmt: skip


def concat(parts: list[DateParts]) -> DateParts:
    """One column's parts from its chunks' parts (for detection over a whole file)."""
    if len(parts) == 1:
        return parts[0]

    def joined(get) -> pa.Array:
        return pa.concat_arrays([get(p) for p in parts])

    return DateParts(
        joined(lambda p: p.first), joined(lambda p: p.second), joined(lambda p: p.year),
        joined(lambda p: p.first_width), joined(lambda p: p.separator),
        {k: joined(lambda p, k=k: p.iso[k]) for k in ("y", "m", "d")},
    )  # fmt: skip


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)


def count_evidence(columns: dict[str, DateParts]) -> dict:
    """Votes for day-first / month-first, ISO count, separators and digit width."""
    found: dict = {}
    for name, parts in columns.items():
        a, b = parts.first, parts.second
        small_a, small_b = pc.less_equal(a, 12), pc.less_equal(b, 12)
        found[f"{name}__dmy"] = _count(pc.and_(pc.invert(small_a), small_b))
        found[f"{name}__mdy"] = _count(pc.and_(small_a, pc.invert(small_b)))
        found[f"{name}__amb"] = _count(pc.and_(pc.and_(small_a, small_b), pc.not_equal(a, b)))
        found[f"{name}__iso"] = _count(pc.is_valid(parts.iso["y"]))
        seps = pc.value_counts(pc.drop_null(parts.separator)).to_pylist()
        found[f"{name}__seps"] = [s["values"] for s in sorted(seps, key=lambda s: -s["counts"])]
        # first-seen order with counts: what merge_evidence needs to rebuild __seps
        found[f"{name}__sep_counts"] = [[s["values"], s["counts"]] for s in seps]
        found[f"{name}__width"] = pc.min(parts.first_width).as_py()
    return found


def merge_evidence(parts: list[dict], columns: tuple[str, ...]) -> dict:
    """The evidence of a whole file from that of its consecutive pieces (byte ranges), in
    file order: what `count_evidence` gives on the whole file (votes add up, the digit
    width is the smallest, separators rank by total count, ties by first appearance)."""
    merged: dict = {}
    for name in columns:
        for vote in ("dmy", "mdy", "amb", "iso"):
            merged[f"{name}__{vote}"] = sum(p.get(f"{name}__{vote}") or 0 for p in parts)
        counts: dict[str, int] = {}
        for part in parts:
            for sep, count in part.get(f"{name}__sep_counts") or []:
                counts[sep] = counts.get(sep, 0) + count
        merged[f"{name}__seps"] = sorted(counts, key=lambda sep: -counts[sep])
        merged[f"{name}__sep_counts"] = [[sep, n] for sep, n in counts.items()]
        widths = [p.get(f"{name}__width") for p in parts if p.get(f"{name}__width") is not None]
        merged[f"{name}__width"] = min(widths) if widths else None
    return merged


def detect_format(columns: dict[str, DateParts]) -> DateFormat:
    """The date format of one file from its date columns."""
    return decide(count_evidence(columns), tuple(columns))


def _valid_date(year: pa.Array, month: pa.Array, day: pa.Array) -> pa.Array:
    """True where (year, month, day) is a real calendar date in 1900..2999."""

    def divisible(by: int) -> pa.Array:
        return pc.equal(pc.subtract(year, pc.multiply(pc.divide(year, by), by)), 0)

    leap = pc.and_(divisible(4), pc.or_(pc.invert(divisible(100)), divisible(400)))
    plausible = pc.and_(
        pc.and_(pc.greater_equal(year, 1900), pc.less_equal(year, 2999)),
        pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12)),
    )
    index = pc.if_else(plausible, pc.subtract(month, 1), None)
    february_29 = pc.cast(pc.and_(leap, pc.equal(month, 2)), pa.int32())
    last = pc.add(pc.take(_DAYS_IN_MONTH, index), february_29)
    fits = pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, last))
    return pc.fill_null(pc.and_(plausible, fits), False)


def parse(parts: DateParts, order: str | None) -> pa.Array:
    """DATE (date32) from a column's parts and its file's order; NULL where invalid."""
    a, b = parts.first, parts.second
    if order == DAY_FIRST:
        day, month = a, b
    elif order == MONTH_FIRST:
        day, month = b, a
    else:  # no order known: only values that read the same both ways
        same = pc.if_else(pc.fill_null(pc.equal(a, b), False), a, None)
        day, month = same, same
    is_iso = pc.is_valid(parts.iso["y"])
    year = pc.if_else(is_iso, parts.iso["y"], parts.year)
    month = pc.if_else(is_iso, parts.iso["m"], month)
    day = pc.if_else(is_iso, parts.iso["d"], day)
    ok = _valid_date(year, month, day)
    text = pc.binary_join_element_wise(
        pc.cast(year, pa.string()),
        pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(day, pa.string()), 2, "0"),
        "-",
    )
    stamp = pc.strptime(pc.if_else(ok, text, None), format="%Y-%m-%d", unit="s",
                        error_is_null=True)  # fmt: skip
    return pc.cast(stamp, pa.date32())


def is_ambiguous(parts: DateParts, order: str | None) -> pa.Array:
    """True where a day/month-first value cannot be read: the file gave no order."""
    a, b = parts.first, parts.second
    if order != AMBIGUOUS:
        return pc.fill_null(pa.nulls(len(a), pa.bool_()), False)
    both_small = pc.and_(pc.less_equal(a, 12), pc.less_equal(b, 12))
    return pc.fill_null(pc.and_(both_small, pc.not_equal(a, b)), False)


def with_declared_order(detected: DateFormat, declared: str) -> DateFormat:
    """A declared order (`dmy`/`mdy`, from the job's `date_order` or the object's
    `date_order=` key prefix) settles a file whose values cannot tell; a file that
    tells keeps its own order (its values would not parse the other way)."""
    if declared not in (DAY_FIRST, MONTH_FIRST) or detected.order != AMBIGUOUS:
        return detected
    first = "day" if declared == DAY_FIRST else "month"
    return DateFormat(declared, f"{first}-first (declared date order)")
