"""The run metrics record (`runs/<run_id>/metrics.json`, shape in docs/contracts.md).

The state machine's data-quality gate and the CLI read it; it is written last, so
its presence marks a complete run. Conservation is checked before it is written:
a record that does not add up is a bug, and the job fails rather than lie.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

COUNT_KEYS = ("read", "inserted", "updated", "unchanged", "duplicates", "quarantined")


class ConservationError(AssertionError):
    """read != inserted + updated + unchanged + duplicates + quarantined."""


@dataclass
class RunMetrics:
    run_id: str
    started_at: str
    job: str = "batch_to_silver"
    status: str = "SUCCEEDED"
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    rejected_files: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    delta_versions: dict[str, int] = field(default_factory=dict)
    timings_seconds: dict[str, float] = field(
        default_factory=lambda: {"read": 0.0, "transform": 0.0, "merge": 0.0, "total": 0.0}
    )
    finished_at: str | None = None

    def check_conservation(self) -> None:
        c = self.counts
        accounted = sum(c[k] for k in COUNT_KEYS if k != "read")
        if c["read"] != accounted or min(c.values()) < 0:
            raise ConservationError(
                f"run {self.run_id}: read={c['read']} but inserted+updated+unchanged+duplicates"
                f"+quarantined={accounted} ({c}); no metrics written"
            )

    def as_dict(self) -> dict:
        read = self.counts["read"]
        return {
            "run_id": self.run_id,
            "job": self.job,
            "status": self.status,
            "counts": dict(self.counts),
            "quarantine_ratio": round(self.counts["quarantined"] / read, 6) if read else 0.0,
            "rejected_files": self.rejected_files,
            "sources": self.sources,
            "delta_versions": self.delta_versions,
            "timings_seconds": {k: round(v, 3) for k, v in self.timings_seconds.items()},
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def to_json(self) -> str:
        self.check_conservation()
        return json.dumps(self.as_dict(), indent=2, sort_keys=False) + "\n"
