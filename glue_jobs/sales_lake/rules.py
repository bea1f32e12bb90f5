"""The silver job's rules as data: allowed values, value ranges and the gate's default.

They live in `rules.toml` beside this module, shipped inside the job's library, so a user
adds a market (or narrows a range) by editing that file, not the loaders. This module
reads and checks it once per process; the CSV loader (`batch.conform`), the event loader
(`stream.event_conform`) and the job's defaults (`load_options`) take their rules from
here, and so do the tests. A broken file stops the job with one line naming the file,
the key and the fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources

from sales_lake.schema import BUSINESS_COLUMNS

RULES_FILE = "rules.toml"
# The number columns whose range the loaders check (their types bound them further).
RANGED_COLUMNS = ("row_id", "quantity", "discount")
_STRING_COLUMNS = tuple(name for name, type_, _ in BUSINESS_COLUMNS if type_ == "STRING")


class RulesError(ValueError):
    """rules.toml cannot be used; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Bounds:
    """Inclusive bounds of a number column; None = unbounded on that side."""

    min: Decimal | None = None
    max: Decimal | None = None

    def describe(self, kind: str) -> str:
        """'a positive integer', 'a number between 0 and 1', 'an integer from 5', ..."""
        article = "an" if kind[0] in "aeiou" else "a"
        if kind == "integer" and self.min == 1 and self.max is None:
            return "a positive integer"
        if self.min is not None and self.max is not None:
            return f"{article} {kind} between {self.min} and {self.max}"
        if self.min is not None:
            return f"{article} {kind} from {self.min}"
        if self.max is not None:
            return f"{article} {kind} up to {self.max}"
        return f"{article} {kind}"


@dataclass(frozen=True)
class Rules:
    enumerations: dict[str, frozenset[str]]
    ranges: dict[str, Bounds]
    max_quarantine_ratio: float


def _fail(key: str, problem: str) -> RulesError:
    return RulesError(f"sales_lake/{RULES_FILE}: {key} {problem}")


def _enumerations(table: dict) -> dict[str, frozenset[str]]:
    enumerations = {}
    for column, values in table.items():
        if column not in _STRING_COLUMNS:
            raise _fail(f"[enumerations] {column}", f"is not a text column: use one of "
                        f"{', '.join(_STRING_COLUMNS)}")  # fmt: skip
        if not values or not all(isinstance(v, str) and v.strip() == v and v for v in values):
            raise _fail(f"[enumerations] {column}", 'must list non-empty values, e.g. ["US"]')
        if len({v.lower() for v in values}) != len(values):
            raise _fail(f"[enumerations] {column}", "lists a value twice (letter case aside)")
        enumerations[column] = frozenset(values)
    return enumerations


def _bound(column: str, side: str, value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        problem = f'is {value!r}: write a number, e.g. "1"'
        raise _fail(f"[ranges] {column}.{side}", problem) from None


def _ranges(table: dict) -> dict[str, Bounds]:
    ranges = {}
    for column, bounds in table.items():
        if column not in RANGED_COLUMNS:
            ranged = ", ".join(RANGED_COLUMNS)
            raise _fail(f"[ranges] {column}", f"has no range check: use {ranged}")
        if not isinstance(bounds, dict) or set(bounds) - {"min", "max"}:
            raise _fail(f"[ranges] {column}", 'must be { min = "...", max = "..." }')
        low, high = (_bound(column, side, bounds.get(side)) for side in ("min", "max"))
        if low is not None and high is not None and low > high:
            raise _fail(f"[ranges] {column}", f"has min {low} above max {high}")
        ranges[column] = Bounds(low, high)
    return ranges


def parse(text: str) -> Rules:
    """The rules of a rules.toml text (checked)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail("", f"is not valid TOML ({error})") from None
    ratio = data.get("quality_gate", {}).get("max_quarantine_ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
        raise _fail("[quality_gate] max_quarantine_ratio", "must be a number from 0 to 1")
    return Rules(
        enumerations=_enumerations(data.get("enumerations", {})),
        ranges=_ranges(data.get("ranges", {})),
        max_quarantine_ratio=float(ratio),
    )


def rules_text() -> str:
    """rules.toml as shipped (read from the package, also inside Glue's library zip)."""
    return resources.files("sales_lake").joinpath(RULES_FILE).read_text(encoding="utf-8")


RULES = parse(rules_text())
ENUMERATIONS = RULES.enumerations
RANGES = RULES.ranges
