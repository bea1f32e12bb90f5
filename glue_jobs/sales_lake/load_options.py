"""How a silver run treats what it reads: the job's optional arguments, in one place.

One owner for their names, choices and defaults. The job parses them
(`sales_lake.silver_run`), CDK passes them as the Glue job's default arguments from
context, the twin from its settings, and the state machine adds the release of a
held object (`accept_quality_breach`) when a user reruns an execution with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sales_lake.rules import RULES

HEADER_POLICIES = ("strict", "by_name", "rescue")
DATE_ORDERS = ("auto", "dmy", "mdy")
QUALITY_POLICIES = ("stop", "continue")

# What the state machine passes when the execution input releases nothing (Glue
# arguments are best not empty).
NO_RELEASE = ("none", "null", "false")
# job argument name -> (default, allowed values or None for free text)
ARGUMENTS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "header_policy": ("rescue", HEADER_POLICIES),
    "date_order": ("auto", DATE_ORDERS),
    "quality_policy": ("stop", QUALITY_POLICIES),
    "max_quarantine_ratio": (str(RULES.max_quarantine_ratio), None),  # rules.toml
    "accept_quality_breach": ("", None),
    "split_bytes": (str(128 * 1024 * 1024), None),
}
MIN_SPLIT_BYTES = 1024


class OptionError(ValueError):
    """An option has a value the job cannot use; the message names it and the choices."""


@dataclass(frozen=True)
class LoadOptions:
    """`header_policy`: strict (the 24 columns in order), by_name (any order, known
    spellings), rescue (by_name, and unknown columns kept per row as JSON).
    `date_order`: the order of ambiguous dates when a file does not tell (auto: detect,
    quarantine what stays ambiguous). `quality_policy`/`max_quarantine_ratio`: the
    per-object gate. `accept_quality_breach`: who released held objects and when, or
    None. `split_bytes`: an uncompressed object larger than this is read as byte ranges
    of about this size by separate tasks (batch/byte_ranges.py); it bounds a task's
    memory."""

    header_policy: str = "rescue"
    date_order: str = "auto"
    quality_policy: str = "stop"
    max_quarantine_ratio: float = RULES.max_quarantine_ratio
    accept_quality_breach: dict | None = None
    split_bytes: int = 128 * 1024 * 1024

    @classmethod
    def from_args(cls, args: dict[str, str]) -> LoadOptions:
        values = {}
        for name, (default, choices) in ARGUMENTS.items():
            value = str(args.get(name) or default).strip()
            if choices is not None:
                value = value.lower()
                if value not in choices:
                    raise OptionError(f"--{name} is {value!r}: use one of {', '.join(choices)}")
            values[name] = value
        try:
            ratio = float(values["max_quarantine_ratio"])
        except ValueError:
            ratio = -1.0
        if not 0 <= ratio <= 1:
            raise OptionError(
                f"--max_quarantine_ratio is {values['max_quarantine_ratio']!r}: "
                "use a number from 0 to 1, e.g. 0.05"
            )
        split = values["split_bytes"].replace("_", "")
        if not split.isdigit() or int(split) < MIN_SPLIT_BYTES:
            raise OptionError(
                f"--split_bytes is {values['split_bytes']!r}: use a whole number of bytes, "
                f"at least {MIN_SPLIT_BYTES} (default {ARGUMENTS['split_bytes'][0]}, 128 MiB)"
            )
        accepted = values["accept_quality_breach"]
        release = None
        if accepted and accepted.lower() not in NO_RELEASE:
            try:
                release = json.loads(accepted)
            except json.JSONDecodeError:
                release = {"by": accepted}
            if not isinstance(release, dict):
                release = {"by": str(release)}
        return cls(
            header_policy=values["header_policy"],
            date_order=values["date_order"],
            quality_policy=values["quality_policy"],
            max_quarantine_ratio=ratio,
            accept_quality_breach=release,
            split_bytes=int(split),
        )
