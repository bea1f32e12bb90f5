"""A file's header -> where each silver column is in its records, by the header policy.

Exports come with the 24 Global Superstore columns reordered, renamed in snake_case or
upper case, with extra columns a tool added, or without the optional ones. Mapping by
name is unambiguous once case, spaces, `_` and `-` are ignored, so the default policy
(`rescue`) maps by name and keeps unknown columns per row as JSON (`rescued_data`);
`by_name` maps by name but rejects unknown columns; `strict` wants the 24 columns in
their order (the behaviour before header policies existed).
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field

from sales_lake.schema import BUSINESS_COLUMNS, CANONICAL_HEADER, snake_case

# A field can be as long as the file (issue: a 5 MB text field); the csv module's
# default limit (131,072 characters) would raise on it.
csv.field_size_limit(sys.maxsize)

FIELDS: tuple[str, ...] = tuple(snake_case(h) for h in CANONICAL_HEADER)
# A file without one of these is rejected: silver/sales needs them (NOT NULL columns).
REQUIRED: tuple[str, ...] = tuple(name for name, _, nullable in BUSINESS_COLUMNS if not nullable)
_DISPLAY = dict(zip(FIELDS, CANONICAL_HEADER, strict=True))
_SEPARATORS = (";", "\t", "|")

REASON_HEADER = "header_mismatch"
REASON_MISSING = "missing_columns"


def name_key(name: str) -> str:
    """`Row ID`, `row_id`, `ROW-ID`, ` "Row  Id" ` -> `rowid`."""
    return re.sub(r"[^0-9a-z]", "", name.replace("\ufeff", "").casefold())


_BY_KEY = {name_key(h): f for h, f in zip(CANONICAL_HEADER, FIELDS, strict=True)}


@dataclass(frozen=True)
class HeaderMap:
    """Column positions of one file: `positions[field]` (absent: the optional column is
    not in the file), the file's column count, and unknown columns by position."""

    width: int
    positions: dict[str, int]
    rescued: dict[int, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def canonical(cls) -> HeaderMap:
        return cls(len(FIELDS), {f: i for i, f in enumerate(FIELDS)})

    @property
    def is_canonical(self) -> bool:
        return (
            self.width == len(FIELDS)
            and not self.rescued
            and all(self.positions.get(f) == i for i, f in enumerate(FIELDS))
        )


@dataclass(frozen=True)
class HeaderRejection:
    reason: str  # header_mismatch | missing_columns
    detail: str  # the problem and the fix, one line
    width: int = 0  # fields in the header line (its records are quarantined against it)


def _fix(policy: str) -> str:
    if policy == "strict":
        return ("re-export the file with the 24 Global Superstore columns, comma-separated, "
                "in order: " + ", ".join(CANONICAL_HEADER))  # fmt: skip
    return ("re-export the file comma-separated with a header naming the columns "
            "(any order): " + ", ".join(CANONICAL_HEADER))  # fmt: skip


def map_header(header_text: str, policy: str = "rescue") -> HeaderMap | HeaderRejection:
    try:
        names = next(csv.reader([header_text]), [])
    except csv.Error as error:
        return HeaderRejection(REASON_HEADER, f"the header cannot be read ({error}); fix: "
                               + _fix(policy))  # fmt: skip
    found = _map(names, header_text, policy)
    if isinstance(found, HeaderRejection):
        return HeaderRejection(found.reason, found.detail, len(names))
    return found


def _map(names: list[str], header_text: str, policy: str) -> HeaderMap | HeaderRejection:
    keys = [name_key(n) for n in names]
    fix = _fix(policy)
    if len(names) <= 1 and any(d in header_text for d in _SEPARATORS):
        sep = next(d for d in _SEPARATORS if d in header_text)
        return HeaderRejection(
            REASON_HEADER, f"header is not comma-separated (found {sep!r} as separator); fix: {fix}"
        )
    known = [k for k in keys if k in _BY_KEY]
    if not known:
        start = header_text.strip()[:40]
        return HeaderRejection(
            REASON_HEADER,
            f"the first line is not a header of sales columns (it starts with {start!r}); "
            f"fix: {fix}",
        )
    if policy == "strict":
        return _strict(names, keys, fix)
    positions: dict[str, int] = {}
    rescued: dict[int, str] = {}
    for i, (name, key) in enumerate(zip(names, keys, strict=True)):
        target = _BY_KEY.get(key)
        if target is None:
            rescued[i] = name.strip() or f"column_{i + 1}"
        elif target in positions:
            first = names[positions[target]].strip()
            return HeaderRejection(
                REASON_HEADER,
                f"columns {positions[target] + 1} ({first!r}) and {i + 1} ({name.strip()!r}) "
                f"are both {_DISPLAY[target]!r}; fix: keep one of them and re-export",
            )
        else:
            positions[target] = i
    missing = [_DISPLAY[f] for f in REQUIRED if f not in positions]
    if missing:
        return HeaderRejection(
            REASON_MISSING,
            f"required column(s) missing: {', '.join(missing)}"
            + _sample_superstore_hint(positions)
            + "; fix: re-export the file with them (header names in any order)",
        )
    notes = []
    absent = [_DISPLAY[f] for f in FIELDS if f not in positions]
    if absent:
        notes.append(f"optional column(s) absent, loaded as empty: {', '.join(absent)}")
    unnamed_only = all(not names[i].strip() for i in rescued)
    if rescued and policy == "by_name" and not unnamed_only:
        unknown = ", ".join(repr(rescued[i]) for i in sorted(rescued))
        return HeaderRejection(
            REASON_HEADER,
            f"unknown column(s) {unknown} (header policy by_name); fix: remove them, or set "
            "the header policy to rescue to keep their values in rescued_data",
        )
    if rescued:
        notes.append(
            "unknown column(s) kept per row in rescued_data: "
            + ", ".join(repr(rescued[i]) for i in sorted(rescued))
        )
    return HeaderMap(len(names), positions, rescued, tuple(notes))


def _sample_superstore_hint(positions: dict[str, int]) -> str:
    if len(positions) == 21 and not {"market", "shipping_cost", "order_priority"} & set(positions):
        return " (this looks like the 21-column 'Sample Superstore' export, which has no Market)"
    return ""


def _strict(names: list[str], keys: list[str], fix: str) -> HeaderMap | HeaderRejection:
    want = [name_key(h) for h in CANONICAL_HEADER]
    if keys == want:
        return HeaderMap.canonical()
    missing = [h for h, k in zip(CANONICAL_HEADER, want, strict=True) if k not in keys]
    unexpected = [n.strip() for n, k in zip(names, keys, strict=True) if k not in want]
    if not missing and not unexpected:
        return HeaderRejection(
            REASON_HEADER,
            "header has the right columns in a different order (header policy strict); "
            f"fix: {fix}, or set the header policy to by_name",
        )
    parts = [f"header has {len(names)} columns, expected {len(CANONICAL_HEADER)}"]
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if unexpected:
        parts.append("unexpected: " + ", ".join(unexpected))
    return HeaderRejection(REASON_HEADER, "; ".join(parts) + f"; fix: {fix}")
