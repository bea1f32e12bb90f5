"""The trigger's object ledger (moto DynamoDB + Step Functions): an object redelivered in a
later batch starts nothing; a rewritten key (new version) does; a claim whose execution
never started is released or retried, never lost; a claim in flight is left alone."""

from __future__ import annotations

import importlib
import json
import time

import boto3
import pytest

from local_twin.lambda_runtime import LambdaContext
from tests.lambdas.trigger_events import (
    LEDGER_TABLE,
    RAW,
    encoded,
    eventbridge_body,
    sqs_batch,
    stream_key,
    trigger_aws,
)


def stream_event(offset: int, version: str = "v1") -> str:
    return eventbridge_body(
        encoded(stream_key(offset)), size=700, version=version, etag=f"etag-{version}"
    )


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("LEDGER_CLAIM_LEASE_SECONDS", "120")
    with trigger_aws(monkeypatch) as (sfn, arn):
        yield sfn, arn


def invoke(trigger, *bodies: str, prefix: str = "m") -> list[str]:
    response = trigger.lambda_handler(sqs_batch(*bodies, prefix=prefix), LambdaContext("t"))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def started_objects(sfn, arn: str) -> list[set[str]]:
    """The object URIs of each execution, oldest first."""
    listed = sorted(
        sfn.list_executions(stateMachineArn=arn)["executions"], key=lambda e: e["startDate"]
    )
    inputs = [
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed
    ]
    return [set(payload["source_uris"].split(",")) for payload in inputs]


def uri(offset: int) -> str:
    return f"s3://{RAW}/{stream_key(offset)}"


def ledger_item(object_id: str) -> dict | None:
    return (
        boto3.client("dynamodb")
        .get_item(TableName=LEDGER_TABLE, Key={"object_id": {"S": object_id}}, ConsistentRead=True)
        .get("Item")
    )


def identity(offset: int, version: str = "v1") -> str:
    return f"{RAW}/{stream_key(offset)}@{version}"


def test_object_redelivered_in_a_later_batch_starts_no_second_execution(trigger, aws):
    sfn, arn = aws
    assert invoke(trigger, stream_event(0), stream_event(100), prefix="w1-") == []
    # Later window: the first object again (at-least-once delivery) next to a new one.
    assert invoke(trigger, stream_event(0), stream_event(200), prefix="w2-") == []
    # And alone, later still.
    assert invoke(trigger, stream_event(0), prefix="w3-") == []
    assert started_objects(sfn, arn) == [{uri(0), uri(100)}, {uri(200)}]
    item = ledger_item(identity(0))
    assert item["expires_at"]["N"] > item["claimed_at"]["N"]  # the TTL attribute is set
    first = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert item["execution_name"]["S"] in {e["name"] for e in first}


def test_rewritten_key_with_a_new_version_is_processed_again(trigger, aws):
    sfn, arn = aws
    assert invoke(trigger, stream_event(0, "v1"), prefix="w1-") == []
    # A restarted connector task rewrites the same key: same events, new S3 version.
    assert invoke(trigger, stream_event(0, "v2"), prefix="w2-") == []
    assert invoke(trigger, stream_event(0, "v2"), prefix="w3-") == []  # its redelivery
    assert started_objects(sfn, arn) == [{uri(0)}, {uri(0)}]
    assert ledger_item(identity(0, "v1")) and ledger_item(identity(0, "v2"))


def test_failed_start_releases_the_claims_and_the_retry_starts_it(trigger, aws, monkeypatch):
    sfn, arn = aws
    monkeypatch.setenv("STATE_MACHINE_ARN", arn + "-missing")  # StartExecution fails
    bodies = [stream_event(0), stream_event(100)]
    assert invoke(trigger, *bodies) == ["m0", "m1"]
    assert ledger_item(identity(0)) is None and ledger_item(identity(100)) is None
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)  # SQS redelivers the failed messages
    assert invoke(trigger, *bodies, prefix="again-") == []
    assert started_objects(sfn, arn) == [{uri(0), uri(100)}]


def _claim_without_execution(object_id: str, age_seconds: float) -> None:
    """What a function that died between its claim and StartExecution leaves behind."""
    claimed_at = int(time.time() - age_seconds)
    boto3.client("dynamodb").put_item(
        TableName=LEDGER_TABLE,
        Item={
            "object_id": {"S": object_id},
            "execution_name": {"S": "stream-never-started-0123456789abcdef"},
            "claimed_at": {"N": str(claimed_at)},
            "expires_at": {"N": str(claimed_at + 86_400)},
        },
    )


def test_claim_whose_execution_never_started_is_retried_after_the_lease(trigger, aws):
    sfn, arn = aws
    _claim_without_execution(identity(0), age_seconds=600)  # lease is 120 s
    assert invoke(trigger, stream_event(0)) == []
    assert started_objects(sfn, arn) == [{uri(0)}]
    [execution] = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert ledger_item(identity(0))["execution_name"]["S"] == execution["name"]


def test_fresh_claim_of_an_invocation_in_flight_is_retried_later_not_started(trigger, aws):
    sfn, arn = aws
    _claim_without_execution(identity(0), age_seconds=5)
    # The in-flight object's message fails (SQS brings it back); the other one starts.
    assert invoke(trigger, stream_event(0), stream_event(100)) == ["m0"]
    assert started_objects(sfn, arn) == [{uri(100)}]
    assert ledger_item(identity(0))["execution_name"]["S"].startswith("stream-never-started")


def test_claim_is_all_or_nothing(trigger, aws):
    ledger = importlib.import_module(trigger.ObjectLedger.__module__)  # lambdas/trigger/
    table = ledger.ObjectLedger(LEDGER_TABLE, boto3.client("dynamodb"))
    _claim_without_execution("b", age_seconds=0)  # claimed meanwhile by someone else
    with pytest.raises(ledger.ClaimConflict, match="b was claimed"):
        table.claim({"a": None, "b": None, "c": None}, "mine")
    assert ledger_item("a") is None and ledger_item("c") is None  # released again
    assert ledger_item("b")["execution_name"]["S"] != "mine"
