"""The run metrics record (`runs/<run_id>/metrics.json`) and its bounded summary
(`runs/<run_id>/summary.json`); shapes in docs/contracts.md.

The full record lists every source object, so it grows with the run: the CLI and
people read it. The state machine reads only the summary, whose size does not depend
on the number of objects: Step Functions fails an execution whose state exceeds
256 KiB (`States.DataLimitExceeded`, which no Catch handles), and a 10,000-object
run's full record is megabytes. The summary is written last, so its presence marks a
complete run. Conservation is checked before anything is written: a record that does
not add up is a bug, and the job fails rather than lie.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sales_lake import uris
from sales_lake.lake_layout import RUN_METRICS_FILE as METRICS_FILE
from sales_lake.lake_layout import RUN_SUMMARY_FILE as SUMMARY_FILE
from sales_lake.lake_layout import run_key
from sales_lake.quality_gate import HELD

# `read` is every row parsed; each other count takes a share of it (conservation):
# `blank` rows (every field empty) are skipped, `held` rows belong to objects the
# per-object quality gate kept out (sales_lake.quality_gate).
COUNT_KEYS = (
    "read", "inserted", "updated", "unchanged", "duplicates", "quarantined", "blank", "held",
)  # fmt: skip
ACCOUNTED = COUNT_KEYS[1:]
# The summary names this many rejected files, each string cut to SUMMARY_TEXT_LIMIT
# characters: at most ~10 KiB whatever the run (the state machine's limit is 256 KiB).
SUMMARY_REJECTED_FILES = 10
SUMMARY_TEXT_LIMIT = 300


class ConservationError(AssertionError):
    """read != inserted + updated + unchanged + duplicates + quarantined + blank + held."""


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
    # The per-object gate: policy, threshold, release and the breaching objects
    # (`quality_gate`); filled by the frame and the batch loader.
    quality: dict = field(default_factory=dict)
    # Reason code -> quarantined rows with it (a row may have several), most frequent first.
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    finished_at: str | None = None

    def check_conservation(self) -> None:
        c = self.counts
        accounted = sum(c[k] for k in ACCOUNTED)
        if c["read"] != accounted or min(c.values()) < 0:
            raise ConservationError(
                f"run {self.run_id}: read={c['read']} but {'+'.join(ACCOUNTED)}={accounted} "
                f"({c}); no metrics written"
            )

    def as_dict(self) -> dict:
        c = self.counts
        loaded = c["read"] - c["blank"] - c["held"]  # the rows let in: the ratio's base
        return {
            "run_id": self.run_id,
            "job": self.job,
            "status": self.status,
            "counts": dict(c),
            "quarantine_ratio": round(c["quarantined"] / loaded, 6) if loaded > 0 else 0.0,
            "quarantine_reasons": dict(self.quarantine_reasons),
            "quality": {"breached_files": [], **self.quality},
            "rejected_files": self.rejected_files,
            "sources": self.sources,
            "delta_versions": self.delta_versions,
            "timings_seconds": {k: round(v, 3) for k, v in self.timings_seconds.items()},
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def write(self, lake_uri: str, **extra) -> dict:
        """Check conservation, write the record (with `extra` fields) and its summary."""
        self.check_conservation()
        record = {**self.as_dict(), **extra}
        write_run_record(lake_uri, record)
        return record


def _cut(text: object) -> object:
    if isinstance(text, str) and len(text) > SUMMARY_TEXT_LIMIT:
        return text[: SUMMARY_TEXT_LIMIT - 1] + "…"
    return text


def summary_of(record: dict) -> dict:
    """The bounded part of a full metrics record that the state machine reads."""
    rejected = record.get("rejected_files") or []
    return {
        "run_id": record["run_id"],
        "job": record.get("job"),
        "counts": dict(record["counts"]),
        "quarantine_ratio": record["quarantine_ratio"],
        "rejected_file_count": len(rejected),
        "rejected_files": [
            {key: _cut(entry.get(key)) for key in ("uri", "reason", "detail")}
            for entry in rejected[:SUMMARY_REJECTED_FILES]
        ],
        "quality": _quality_summary(record.get("quality") or {}),
        "delta_versions": dict(record.get("delta_versions") or {}),
    }


def _quality_summary(quality: dict) -> dict:
    """The gate's part of the summary: counts and the first breaching objects, cut."""
    breached = quality.get("breached_files") or []
    return {
        "policy": quality.get("policy"),
        "max_quarantine_ratio": quality.get("max_quarantine_ratio"),
        "released": quality.get("released"),
        "breached_file_count": len(breached),
        "held_file_count": sum(1 for entry in breached if entry.get("action") == HELD),
        "breached_files": [
            {key: _cut(entry.get(key)) for key in ("uri", "action", "ratio", "detail")}
            for entry in breached[:SUMMARY_REJECTED_FILES]
        ],
    }


def write_run_record(lake_uri: str, record: dict) -> None:
    """Write metrics.json, then summary.json (last: its presence marks a complete run)."""
    run_id = record["run_id"]
    full = json.dumps(record, indent=2) + "\n"
    uris.write_text(uris.join(lake_uri, run_key(run_id, METRICS_FILE)), full)
    summary = json.dumps(summary_of(record), indent=2) + "\n"
    uris.write_text(uris.join(lake_uri, run_key(run_id, SUMMARY_FILE)), summary)
