"""How the state machine learns that a silver run ended: the task token, not polling.

RunGlueJob waits on a task token (`glue:startJobRun.waitForTaskToken`). The job
completes it as its last act (sales_lake.task_token); Glue's "Job State Change" event
reaches the glue_run_ended function (lambdas/), which completes it from the run's
final state; HeartbeatSeconds is the net under both. The failure branches of each
state are in test_failure_branches.py (there the job never reports: the event does).
"""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from sales_lake import task_token

from local_twin.provision import GLUE_JOB_NAME
from tests.step_functions.test_failure_branches import assert_failure_notice


@pytest.fixture(scope="module")
def twin(scenario_twin):
    scenario = scenario_twin(on_quality_breach="continue")
    with scenario.twin:
        yield scenario


def _run_of(record: dict) -> dict:
    runs = boto3.client("glue").get_job_runs(JobName=GLUE_JOB_NAME)["JobRuns"]
    return next(r for r in runs if r["Arguments"]["--run_id"] == record["run_id"])


def _function_log(twin) -> list[dict]:
    path = twin.workspace.logs / "glue-run-ended.log"
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def _outcomes(twin, job_run_id: str) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [e["outcome"] for e in _function_log(twin) if e.get("job_run_id") == job_run_id]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_a_job_that_reports_itself_completes_the_token_and_the_event_finds_it_done(twin):
    record = twin.run(report_token=True)
    assert record["status"] == "SUCCEEDED"
    assert record["path"][record["path"].index("RunGlueJob") + 1] == "CheckGlueRunState"
    run = _run_of(record)
    assert run["JobRunState"] == "SUCCEEDED"
    assert _outcomes(twin, run["Id"]) == ["already_completed"]


def test_a_successful_run_the_job_did_not_report_is_completed_by_its_event(twin):
    record = twin.run()
    assert record["status"] == "SUCCEEDED" and "ReadRunMetrics" in record["path"]
    assert _outcomes(twin, _run_of(record)["Id"]) == ["completed"]


def test_a_job_that_reports_its_own_failure_is_notified_with_its_message(twin):
    record = twin.run(report_token=True, glue_error="cannot parse x.csv")
    notice = assert_failure_notice(record, "Glue job (bronze to silver) failed: Glue.JobRunFailed")
    assert "RuntimeError: cannot parse x.csv" in notice["details"]
    assert _outcomes(twin, _run_of(record)["Id"]) == ["already_completed"]


def test_a_late_or_repeated_completion_changes_nothing(twin):
    record = twin.run()
    run = _run_of(record)
    history = boto3.client("stepfunctions").get_execution_history(
        executionArn=record["arn"], maxResults=1000
    )["events"]
    token = run["Arguments"]["--task_token"]
    sfn = boto3.client("stepfunctions")
    for call in (
        lambda: sfn.send_task_failure(taskToken=token, error="Glue.JobRunFailed", cause="late"),
        lambda: sfn.send_task_success(taskToken=token, output="{}"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        # TaskTimedOut while the execution runs; a finished one's token may be InvalidToken.
        assert refused.value.response["Error"]["Code"] in task_token.ALREADY_COMPLETED
    # The same run's end announced again (EventBridge delivers at least once).
    events = boto3.client("events")
    detail = {"jobName": GLUE_JOB_NAME, "state": "FAILED", "jobRunId": run["Id"], "message": "x"}
    events.put_events(
        Entries=[
            {"Source": "aws.glue", "DetailType": "Glue Job State Change",
             "Detail": json.dumps(detail)}
        ]
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while _outcomes(twin, run["Id"]).count("already_completed") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "already_completed" in _outcomes(twin, run["Id"])
    after = sfn.describe_execution(executionArn=record["arn"])
    assert after["status"] == "SUCCEEDED"
    again = sfn.get_execution_history(executionArn=record["arn"], maxResults=1000)["events"]
    assert len(again) == len(history)


def test_a_job_that_goes_silent_fails_on_its_heartbeat_and_is_notified(twin):
    """No report, no event (the run hangs): HeartbeatSeconds (600 s, 6 s in the twin)."""
    gate = threading.Event()
    try:
        twin.use(glue_gate=gate)
        [record] = twin.twin.executions.wait([twin.start()], dropped_at=None)
    finally:
        gate.set()
    notice = assert_failure_notice(
        record, "Glue job (bronze to silver) failed: States.HeartbeatTimeout"
    )
    assert notice["run_id"] == record["run_id"]
    assert twin.scenario.dbt_calls == []
