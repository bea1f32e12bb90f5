"""What the twin prints after a run: one line per problem, bounded, never a JSON dump."""

from __future__ import annotations

import json

from local_twin.summary import LISTED, execution_lines, readable

GLUE_RUN = {
    "Id": "jr_1",
    "JobName": "sales-to-silver",
    "JobRunState": "FAILED",
    "ErrorMessage": "OptionError: --header_policy is 'loose':\nuse one of strict, by_name, rescue",
    "Arguments": {"--run_id": "r"},
}


def test_a_glue_job_run_cause_is_told_as_its_state_and_message():
    line = readable(json.dumps(GLUE_RUN))
    assert line == (
        "Glue job run jr_1 ended FAILED: OptionError: --header_policy is 'loose': "
        "use one of strict, by_name, rescue"
    )


def test_a_failed_execution_prints_no_json():
    notice = {"what_failed": "Glue job failed: States.TaskFailed", "details": json.dumps(GLUE_RUN)}
    record = {"status": "FAILED", "name": "batch-x", "notifications": [notice]}
    text = "\n".join(execution_lines([record]))
    assert "{" not in text and "Glue job run jr_1 ended FAILED" in text


def test_rejected_and_held_files_are_listed_up_to_a_bound():
    rejected = [
        {"uri": f"u{i}", "reason": "not_csv", "detail": f"u{i}: not CSV"} for i in range(25)
    ]
    held = [{"uri": "h", "action": "held", "detail": "h: 9 of 10 rows failed a rule"}]
    metrics = {"rejected_files": rejected, "quality": {"breached_files": held}}
    record = {"status": "FAILED", "name": "n", "notifications": [], "metrics": metrics}
    lines = execution_lines([record])
    assert sum("rejected (not_csv)" in line for line in lines) == LISTED
    assert any(f"and {25 - LISTED:,} more" in line for line in lines)
    assert any("held: h: 9 of 10 rows failed a rule" in line for line in lines)
