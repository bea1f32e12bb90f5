"""Every failure branch of the pipeline ASL, reached on the strict twin.

Each test drives the state machine into one branch with injected Glue and dbt
runners (tests/step_functions/test_pipeline_paths.py), then checks what a user
sees: the execution's status and error, the states it went through and the SNS
notice. Where the twin enforces a rule of AWS (States.DataLimitExceeded, ECS
`.sync`, Glue admission), the test shows the pipeline as provisioned copes with it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import boto3
import pytest

from local_twin import provision
from local_twin.aws_hooks import PAYLOAD_LIMIT_BYTES, payload_bytes
from local_twin.provision import GLUE_JOB_NAME
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET

NO_CAPACITY = [{"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/sales-dbt",
                "reason": "RESOURCE:FARGATE", "detail": "no Fargate capacity"}]  # fmt: skip


@pytest.fixture(scope="module")
def twin(scenario_twin):
    harness = scenario_twin()
    with harness.twin:
        yield harness


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def task_errors(twin, execution_arn: str) -> list[str]:
    """Errors of failed task attempts, but the best-effort lock release of a failure path."""
    released = "DynamoDB.ConditionalCheckFailedException"
    return [error for error in twin.history_errors(execution_arn) if error != released]


def assert_failure_notice(record: dict, stage: str) -> dict:
    """Failed with SalesPipelineFailed, one FAILED notice naming the stage, no gold refresh."""
    assert record["status"] == "FAILED" and record["error"] == "SalesPipelineFailed"
    assert record["path"][-3:] == ["BuildFailureNotice", "PublishFailureNotice", "PipelineFailed"]
    [notice] = record["notifications"]
    assert notice["outcome"] == "FAILED" and stage in notice["what_failed"]
    assert notice["run_id"] == record["run_id"] and record["name"] in notice["how_to_rerun"]
    return notice


# --- Glue ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "ERROR", "STOPPED"])
def test_glue_run_ending_abnormally_fails_the_task_and_is_notified(twin, state):
    """The injected job never touches its task token (it "dies"): Glue's state-change
    event, through the glue_run_ended function, fails the waiting task."""
    scenario = (
        {"glue_error": "cannot parse x.csv"} if state == "FAILED" else {"glue_end_state": state}
    )
    record = twin.run(**scenario)
    error = f"Glue.JobRun{state.title()}"
    notice = assert_failure_notice(record, f"Glue job (bronze to silver) failed: {error}")
    assert task_errors(twin, record["arn"]) == [error]  # not retried
    assert "CheckGlueRunState" not in record["path"]
    assert f"ended {state}: " in notice["details"]  # cause = the run's state and message
    if state == "FAILED":
        assert "RuntimeError: cannot parse x.csv" in notice["details"]
    assert twin.scenario.dbt_calls == [] and "lock_owner" not in twin.lock_item()


def test_glue_run_that_never_starts_is_notified_without_retries(twin):
    boto3.client("glue").delete_job(JobName=GLUE_JOB_NAME)
    try:
        record = twin.run()
    finally:
        provision.create_silver_job()
    notice = assert_failure_notice(record, "Glue job (bronze to silver) failed: Glue.Entity")
    assert task_errors(twin, record["arn"]) == ["Glue.EntityNotFoundException"]
    assert twin.scenario.glue_calls == [] and twin.scenario.dbt_calls == []
    assert notice["objects"] == f"s3://{RAW_BUCKET}/landing/sales/orders.csv"


def test_a_burst_of_executions_takes_turns_on_the_one_silver_job(twin):
    """Queuing off + the long ConcurrentRunsExceeded retry: all reach the end, one at a time."""
    twin.use(glue_gate=threading.Event(), glue_seconds=0.2)
    arns = [twin.start(f"landing/sales/burst-{i}.csv") for i in range(6)]

    def refused() -> int:
        return sum("Glue.ConcurrentRunsExceededException" in twin.history_errors(a) for a in arns)

    wait_for(lambda: refused() == 5)  # every execution but the slot holder was refused
    twin.scenario.glue_gate.set()
    records = twin.twin.executions.wait(arns, dropped_at=None)
    assert [r["status"] for r in records] == ["SUCCEEDED"] * 6
    assert all("GlueJobFailed" not in r["path"] for r in records)
    assert len(twin.scenario.glue_calls) == 6 and twin.scenario.max_parallel_glue == 1
    assert twin.scenario.max_parallel_dbt == 1
    runs = boto3.client("glue").get_job_runs(JobName=GLUE_JOB_NAME)["JobRuns"]
    assert "WAITING" not in {run["JobRunState"] for run in runs}  # refused, never queued


# --- run summary, input, notices -----------------------------------------------------


def test_missing_run_summary_is_notified(twin):
    record = twin.run(write_summary=False)
    assert_failure_notice(record, "reading the run summary")
    assert "ReadRunMetricsFailed" in record["path"]
    assert task_errors(twin, record["arn"]) == ["S3.NoSuchKeyException"]
    assert twin.scenario.dbt_calls == []


def test_invalid_input_is_notified_without_running_anything(twin):
    twin.use()
    name = f"invalid-{uuid.uuid4().hex[:8]}"
    [record] = twin.twin.executions.wait(
        [twin.twin.executions.start(name, {"run_id": name, "kind": "batch"})], dropped_at=None
    )
    notice = assert_failure_notice(record, "input validation failed: InvalidInput")
    assert "InputInvalid" in record["path"] and "RunGlueJob" not in record["path"]
    assert notice["objects"].startswith("none")
    assert twin.scenario.glue_calls == []


def test_a_notice_that_cannot_be_published_still_fails_the_execution(twin):
    sns = boto3.client("sns")
    [topic] = sns.list_topics()["Topics"]
    sns.delete_topic(TopicArn=topic["TopicArn"])
    rejected = [
        {
            "uri": "s3://sales-raw/landing/sales/x.csv",
            "reason": "header_mismatch",
            "detail": "21 columns",
        }
    ]
    try:
        breach = twin.run(rejected_files=rejected)
        failure = twin.run(glue_error="boom")
    finally:
        provision.create_notifications(boto3.client("sqs"))
    for record in (breach, failure):
        assert record["status"] == "FAILED" and record["error"] == "SalesPipelineFailed"
        assert record["notifications"] == [] and record["path"][-1] == "PipelineFailed"
        assert task_errors(twin, record["arn"])[-4:] == ["SNS.NotFoundException"] * 4  # 3 retries
    assert "PublishQualityNoticeFailed" in breach["path"]
    assert breach["cause"] == (
        "publishing the data-quality notification failed: SNS.NotFoundException"
    )


# --- gold refresh (dbt on ECS) --------------------------------------------------------


def test_dbt_task_without_capacity_is_retried_then_notified(twin):
    twin.twin.runtimes.ecs_failures = lambda: NO_CAPACITY
    try:
        record = twin.run()
    finally:
        twin.twin.runtimes.ecs_failures = None
    notice = assert_failure_notice(record, "gold refresh (dbt) failed: DbtTaskNotPlaced")
    assert task_errors(twin, record["arn"]) == ["AmazonECS.Unknown"] * 5  # 4 retries
    assert "DbtTaskNotPlaced" in record["path"]
    assert "ECS could not start the dbt task" in notice["details"]
    assert "RESOURCE:FARGATE" in notice["details"]
    assert twin.scenario.dbt_calls == []
    item = twin.lock_item()
    assert "lock_owner" not in item and item["dirty"] == {"BOOL": True}  # next run refreshes


def test_dbt_task_placed_once_capacity_is_back(twin):
    answers = iter([NO_CAPACITY, NO_CAPACITY])
    twin.twin.runtimes.ecs_failures = lambda: next(answers, [])
    try:
        record = twin.run()
    finally:
        twin.twin.runtimes.ecs_failures = None
    assert record["status"] == "SUCCEEDED"
    assert task_errors(twin, record["arn"]) == ["AmazonECS.Unknown"] * 2
    assert record["path"].count("RunDbt") == 1 and len(twin.scenario.dbt_calls) == 1


def test_lock_of_an_expired_holder_is_taken_over(twin):
    """Closed executions are kept 90 days: DescribeExecution then says ExecutionDoesNotExist."""
    machine = twin.twin.resources.state_machine_arn
    expired = machine.replace(":stateMachine:", ":execution:") + ":gone"
    twin.set_lock_owner(expired)
    record = twin.run()
    assert record["status"] == "SUCCEEDED"
    assert task_errors(twin, record["arn"]) == ["Sfn.ExecutionDoesNotExistException"]  # no retry
    path = record["path"]
    assert path.index("DescribeGoldLockHolder") < path.index("TakeOverGoldLock")
    assert "RunDbt" in path and "GoldRefreshFailed" not in path
    item = twin.lock_item()
    assert item["taken_over_from"]["S"] == expired and "lock_owner" not in item


# --- Step Functions' payload limit ----------------------------------------------------


def test_an_oversized_state_fails_the_execution_without_a_notice(twin):
    """What reading the whole metrics.json did: no Catch, not even States.ALL, handles it."""
    record = twin.run(summary_is_full_record=True, sources=5000)
    assert record["status"] == "FAILED" and record["error"] == "States.DataLimitExceeded"
    assert record["path"][-1] == "ReadRunMetrics"  # neither retried nor caught
    assert task_errors(twin, record["arn"]) == ["States.DataLimitExceeded"]
    assert record["notifications"] == [] and twin.scenario.dbt_calls == []


def test_ten_thousand_objects_stay_within_the_payload_limit(twin):
    """A manifest execution of 10,000 objects: the record is megabytes, the state a few KiB."""
    rejected = [
        {
            "uri": f"s3://{RAW_BUCKET}/landing/sales/{'x' * 400}-{i}.csv",
            "reason": "header_mismatch",
            "detail": '"quoted" detail ' * 40,
        }
        for i in range(3000)
    ]
    twin.use(sources=10_000, rejected_files=rejected, quarantine_ratio=0.3)
    [record] = twin.twin.executions.wait([twin.start_manifest(10_000)], dropped_at=None)
    full = twin.workspace.object_path(LAKE_BUCKET, f"runs/{record['run_id']}/metrics.json")
    assert full.stat().st_size > 3_000_000
    assert record["status"] == "FAILED" and record["error"] == "DataQualityBreach"
    [notice] = record["notifications"]
    assert notice["rejected_file_count"] == 3000 and len(notice["rejected_files"]) == 10
    assert all(len(entry["detail"]) <= 300 for entry in notice["rejected_files"])
    assert notice["objects"] == json.loads(record["input"])["manifest_uri"]
    assert payload_bytes(notice) < 32 * 1024
    assert largest_state(record["arn"]) < PAYLOAD_LIMIT_BYTES // 4


def test_notices_stay_bounded_with_the_longest_inputs(twin):
    """Up to 20 URIs (then a manifest), keys up to 1,024 bytes, 10 rejected files in the notice."""
    uris = ",".join(f"s3://{RAW_BUCKET}/landing/sales/{'k' * 1000}-{i:02d}.csv" for i in range(20))
    rejected = [{"uri": "u" * 2000, "reason": "r" * 2000, "detail": '"' * 2000}] * 50
    twin.use(rejected_files=rejected)
    name = f"long-{uuid.uuid4().hex[:8]}"
    arn = twin.twin.executions.start(name, {"run_id": name, "kind": "batch", "source_uris": uris})
    [breach] = twin.twin.executions.wait([arn], dropped_at=None)
    twin.use(glue_error="e" * 20_000)
    arn = twin.twin.executions.start(
        f"{name}-2", {"run_id": name, "kind": "batch", "source_uris": uris}
    )
    [failure] = twin.twin.executions.wait([arn], dropped_at=None)
    for record in (breach, failure):
        [notice] = record["notifications"]
        assert notice["objects"] == uris
        assert payload_bytes(notice) < 128 * 1024  # an SNS message may hold 256 KiB
        assert largest_state(record["arn"]) < PAYLOAD_LIMIT_BYTES


def largest_state(execution_arn: str) -> int:
    """Bytes of the largest state input or output in the execution's history."""
    events = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )["events"]
    sizes = [
        len(details.get(key, "").encode())
        for event in events
        for name, details in event.items()
        if name.endswith("EventDetails") and isinstance(details, dict)
        for key in ("input", "output")
    ]
    return max(sizes)
