"""The run record: the full metrics and the bounded summary the state machine reads."""

from __future__ import annotations

import json

import pytest
from sales_lake.run_metrics import (
    METRICS_FILE,
    SUMMARY_FILE,
    SUMMARY_REJECTED_FILES,
    ConservationError,
    RunMetrics,
)

STATE_PAYLOAD_LIMIT = 256 * 1024  # Step Functions: state input/output, task result


def _run_with(objects: int) -> RunMetrics:
    metrics = RunMetrics(run_id="run-big", started_at="2026-12-02T00:00:00+00:00")
    metrics.counts.update(read=objects * 3, inserted=objects * 2, quarantined=objects)
    long_uri = "s3://raw/landing/sales/" + "x" * 900 + ".csv"
    metrics.sources = [{"uri": f"{long_uri}-{i}", "rows_read": 3} for i in range(objects)]
    metrics.rejected_files = [
        {"uri": f"{long_uri}-{i}", "reason": "header_mismatch", "detail": "d" * 2000}
        for i in range(objects)
    ]
    return metrics


def test_summary_stays_small_whatever_the_number_of_objects(tmp_path):
    record = _run_with(10_000).write(tmp_path.as_uri())
    run_dir = tmp_path / "runs" / "run-big"
    full = (run_dir / METRICS_FILE).read_bytes()
    summary = json.loads((run_dir / SUMMARY_FILE).read_text())

    assert len(full) > STATE_PAYLOAD_LIMIT  # the full record could never enter the state
    assert len(json.dumps(summary).encode()) < 16 * 1024
    assert summary["rejected_file_count"] == 10_000
    assert len(summary["rejected_files"]) == SUMMARY_REJECTED_FILES
    assert summary["counts"] == record["counts"]
    assert summary["quarantine_ratio"] == record["quarantine_ratio"]
    assert summary["rejected_files"][0]["uri"] == record["rejected_files"][0]["uri"][:299] + "…"


def test_extra_fields_go_into_the_full_record_only(tmp_path):
    record = _run_with(1).write(tmp_path.as_uri(), event_outcomes={"applied": 2})
    written = json.loads((tmp_path / "runs" / "run-big" / METRICS_FILE).read_text())
    assert written == record and written["event_outcomes"] == {"applied": 2}
    summary = json.loads((tmp_path / "runs" / "run-big" / SUMMARY_FILE).read_text())
    assert "event_outcomes" not in summary and "sources" not in summary


def test_a_record_that_does_not_add_up_writes_nothing(tmp_path):
    metrics = _run_with(2)
    metrics.counts["inserted"] += 1
    with pytest.raises(ConservationError):
        metrics.write(tmp_path.as_uri())
    assert not (tmp_path / "runs").exists()


def test_key_names_match_the_stack_that_grants_them():
    """The CDK stack grants the state machine runs/*/summary.json: one name, two places."""
    from cdk.storage import RUN_METRICS_FILE, RUN_SUMMARY_FILE

    assert (RUN_METRICS_FILE, RUN_SUMMARY_FILE) == (METRICS_FILE, SUMMARY_FILE)
