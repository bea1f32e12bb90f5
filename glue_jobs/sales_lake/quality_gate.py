"""The per-object quality gate, decided inside the job before anything is committed.

Why here and not in the state machine: a gate that looks at the run's record after
the MERGE can only refuse to refresh gold, while the bad rows already sit in silver
and the next run's refresh carries them into gold anyway. Deciding per source object,
before the commit, lets `stop` keep a breaching object's rows out of silver entirely
(the object is *held*), while the good objects of the same run load.

An object breaches when its quarantined share of non-blank records exceeds
`max_quarantine_ratio`. What happens to it: `continue` loads it (valid rows to silver,
bad rows to quarantine); `stop` holds it (none of its rows are written); `stop` with a
release (`accept_quality_breach`, given when a user reruns the execution deliberately)
loads it and records who released it and when. Pure: the loader supplies the objects'
summaries and applies the verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sales_lake.load_options import LoadOptions

HELD = "held"
RELEASED = "released"
LOADED = "loaded"  # breached under `continue`


@dataclass(frozen=True)
class Breach:
    """One object over the threshold, and what the gate did with it."""

    index: int
    records: int  # non-blank records read
    quarantined: int  # of those, rows that failed a rule
    action: str  # HELD | RELEASED | LOADED

    @property
    def ratio(self) -> float:
        return self.quarantined / self.records if self.records else 0.0


def breaches(summaries: dict[int, dict], options: LoadOptions) -> list[Breach]:
    """The objects over the threshold, by source index, with the gate's action.
    Rejected files are not breaches: they are reported as rejected files, and their
    rows (if any were split) go to quarantine only."""
    if options.quality_policy == "continue":
        action = LOADED
    else:
        action = RELEASED if options.accept_quality_breach else HELD
    found = []
    for index in sorted(summaries):
        summary = summaries[index]
        if summary.get("outcome") == "rejected":
            continue  # reported as a rejected file; none of its rows reach silver/sales
        records, quarantined = summary.get("records", 0), summary.get("rejected", 0)
        if records and quarantined / records > options.max_quarantine_ratio:
            found.append(Breach(index, records, quarantined, action))
    return found


def held_sources(found: list[Breach]) -> set[int]:
    """Source indexes none of whose rows may be written."""
    return {b.index for b in found if b.action == HELD}
