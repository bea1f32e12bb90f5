"""Validation rules as Arrow arrays, and the reason columns quarantine shows.

Shared by the CSV loader (`conform`) and the event loader (`event_conform`): a rule
is a failing mask plus a function that writes the detail for the failing rows only,
so building readable reasons costs in proportion to the bad records, not all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Rule:
    code: str
    failed: pa.Array  # boolean, no NULLs
    detail: Callable[[pa.Array], pa.Array]  # indices of failing rows -> their details


def filled(size: int, type_: pa.DataType, value) -> pa.Array:
    return pc.fill_null(pa.nulls(size, type_), pa.scalar(value, type_))


def when(mask: pa.Array, value: pa.Array) -> pa.Array:
    """`value` where `mask` holds, NULL elsewhere (a NULL mask counts as false)."""
    return pc.if_else(pc.fill_null(mask, False), value, pa.scalar(None, value.type))


def matches(value: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(value, pattern), False)


def scatter(mask: pa.Array, values: pa.Array, fallback: pa.Array) -> pa.Array:
    """`values` (one per True of `mask`) back into place; `fallback` elsewhere."""
    return pc.replace_with_mask(fallback, mask, values.cast(fallback.type))


def text(*parts: str | pa.Array) -> pa.Array:
    """Concatenate literals and values (NULL values read as empty text)."""
    return pc.binary_join_element_wise(*parts, "", null_handling="replace", null_replacement="")


def fixed(message: str) -> Callable[[pa.Array], pa.Array]:
    return lambda rows: pa.array([message] * len(rows), pa.string())


def about(prefix: str, value: pa.Array, suffix: str) -> Callable[[pa.Array], pa.Array]:
    """Detail naming the offending value in quotes: prefix 'value' suffix."""
    return lambda rows: text(prefix, "'", pc.take(value, rows), "'", suffix)


def outside(value: pa.Array, bounds) -> pa.Array:
    """Whether each value lies outside `bounds` (a rules.Bounds); NULL where the value is."""
    checks = [
        compare(value, pa.scalar(limit).cast(value.type))
        for compare, limit in ((pc.less, bounds.min), (pc.greater, bounds.max))
        if limit is not None
    ]
    if not checks:
        return when(pc.is_valid(value), filled(len(value), pa.bool_(), False))
    return checks[0] if len(checks) == 1 else pc.or_(*checks)


def present_but(raw: pa.Array, bad: pa.Array) -> pa.Array:
    """The value is there but fails (`bad` NULL counts as failing)."""
    return pc.and_(pc.is_valid(raw), pc.fill_null(bad, True))


def reasons(rules: list[Rule], size: int) -> tuple[pa.Array, pa.Array]:
    """Per record: the codes of its failed rules ("," joined) and their details ("; ")."""
    failed_any = filled(size, pa.bool_(), False)
    for rule in rules:
        failed_any = pc.or_(failed_any, rule.failed)
    rows = pc.indices_nonzero(failed_any)
    codes, details = filled(size, pa.string(), ""), filled(size, pa.string(), "")
    if not len(rows):
        return codes, details
    code_parts, detail_parts = [], []
    for rule in rules:
        failed = pc.take(rule.failed, rows)
        code_parts.append(when(failed, filled(len(rows), pa.string(), rule.code)))
        detail_parts.append(when(failed, rule.detail(rows)))
    joined = pc.binary_join_element_wise(*code_parts, ",", null_handling="skip")
    details_text = pc.binary_join_element_wise(*detail_parts, "; ", null_handling="skip")
    return scatter(failed_any, joined, codes), scatter(failed_any, details_text, details)


def override(codes: pa.Array, details: pa.Array, mask: pa.Array,
             code: str, detail: pa.Array) -> tuple[pa.Array, pa.Array]:  # fmt: skip
    """Where `mask`, one reason replaces the value checks (they are meaningless there)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return codes, details
    return pc.if_else(mask, code, codes), pc.if_else(mask, detail, details)


def as_lists(joined: pa.Array) -> pa.Array:
    """ "a,b" -> ["a", "b"] and "" -> [] (codes never contain commas)."""
    failing = pc.not_equal(joined, "")
    parts = pc.split_pattern(pc.filter(joined, failing), ",")
    lengths = pc.replace_with_mask(
        filled(len(joined), pa.int32(), 0), failing, pc.list_value_length(parts)
    )
    offsets = pa.concat_arrays(
        [pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())]
    )
    return pa.ListArray.from_arrays(offsets, pc.list_flatten(parts))


def most_frequent_first(counts: dict[str, int]) -> dict[str, int]:
    """Reason code -> rows, most frequent first (ties by code): how records show them."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
