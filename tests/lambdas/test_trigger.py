"""The trigger function on real-shaped SQS batches, against moto's S3 and Step Functions."""

from __future__ import annotations

import json

import boto3
import pytest

from local_twin.lambda_runtime import LambdaContext
from tests.lambdas.trigger_events import (
    LAKE,
    RAW,
    encoded,
    eventbridge_body,
    sqs_batch,
    trigger_aws,
)


@pytest.fixture
def aws(monkeypatch):
    with trigger_aws(monkeypatch) as (sfn, arn):
        yield sfn, boto3.client("s3"), arn


def s3_notification_body(key: str, size: int = 120) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": RAW},
                        "object": {"key": key, "size": size, "eTag": "f" * 32, "versionId": "v9"},
                    },
                }
            ]
        }
    )


def invoke(trigger, event: dict) -> list[str]:
    response = trigger.lambda_handler(event, LambdaContext("trigger"))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def executions(sfn, arn: str) -> list[dict]:
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


def test_url_encoded_key_is_decoded_and_one_execution_starts(trigger, aws):
    sfn, _, arn = aws
    failures = invoke(trigger, sqs_batch(eventbridge_body("landing/sales/orders+2012%282%29.csv")))
    [execution] = executions(sfn, arn)
    payload = json.loads(execution["input"])
    assert failures == []
    assert payload["source_uris"] == f"s3://{RAW}/landing/sales/orders 2012(2).csv"
    assert payload["kind"] == "batch"
    assert payload["run_id"] == execution["name"]


def test_s3_notification_format_is_accepted(trigger, aws):
    sfn, _, arn = aws
    assert invoke(trigger, sqs_batch(s3_notification_body("landing/sales/a+b.csv.gz"))) == []
    [execution] = executions(sfn, arn)
    assert json.loads(execution["input"])["source_uris"].endswith("landing/sales/a b.csv.gz")


def test_one_execution_per_kind_and_duplicates_collapse(trigger, aws):
    sfn, _, arn = aws
    stream_key = encoded("topics/sales/partition=0/sales+0+0000000042.json")
    batch = sqs_batch(
        eventbridge_body("landing/sales/a.csv"),
        eventbridge_body("landing/sales/a.csv"),  # the same object notified twice
        eventbridge_body("landing/sales/b.csv"),
        eventbridge_body(stream_key),
    )
    assert invoke(trigger, batch) == []
    by_kind = {json.loads(e["input"])["kind"]: json.loads(e["input"]) for e in executions(sfn, arn)}
    assert set(by_kind) == {"batch", "stream"}
    assert by_kind["batch"]["source_uris"].split(",") == [
        f"s3://{RAW}/landing/sales/a.csv",
        f"s3://{RAW}/landing/sales/b.csv",
    ]
    assert by_kind["stream"]["object_count"] == 1


def test_redelivered_batch_starts_nothing_new_and_does_not_fail(trigger, aws):
    sfn, _, arn = aws
    batch = sqs_batch(eventbridge_body("landing/sales/a.csv"))
    assert invoke(trigger, batch) == []
    assert invoke(trigger, batch) == []  # ExecutionAlreadyExists is the de-duplication
    assert len(executions(sfn, arn)) == 1


def test_new_version_of_same_key_is_a_new_execution(trigger, aws):
    sfn, _, arn = aws
    invoke(trigger, sqs_batch(eventbridge_body("landing/sales/a.csv", version="v1")))
    invoke(trigger, sqs_batch(eventbridge_body("landing/sales/a.csv", version="v2")))
    assert len(executions(sfn, arn)) == 2


@pytest.mark.parametrize(
    ("key", "size", "bucket"),
    [
        ("landing/sales/", 0, RAW),  # folder marker
        ("landing/sales/empty.csv", 0, RAW),  # zero bytes
        ("landing/sales/notes.txt", 10, RAW),  # unknown suffix
        ("exports/orders.csv", 10, RAW),  # unknown prefix
        ("landing/sales/orders.csv", 10, "someone-elses-bucket"),
    ],
)
def test_non_input_objects_are_ignored_without_failure(trigger, aws, key, size, bucket):
    sfn, _, arn = aws
    assert invoke(trigger, sqs_batch(eventbridge_body(key, size=size, bucket=bucket))) == []
    assert executions(sfn, arn) == []


def test_malformed_message_fails_alone(trigger, aws):
    sfn, _, arn = aws
    batch = sqs_batch(eventbridge_body("landing/sales/a.csv"), "not json", '{"hello": 1}')
    assert invoke(trigger, batch) == ["m1", "m2"]
    assert len(executions(sfn, arn)) == 1


def test_long_lists_go_to_a_manifest(trigger, aws):
    sfn, s3, arn = aws
    keys = [f"landing/sales/part-{i:03d}.csv" for i in range(25)]
    assert invoke(trigger, sqs_batch(*(eventbridge_body(k) for k in keys))) == []
    [execution] = executions(sfn, arn)
    payload = json.loads(execution["input"])
    assert "source_uris" not in payload
    bucket, key = payload["manifest_uri"].removeprefix("s3://").split("/", 1)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert (bucket, key) == (LAKE, f"manifests/{payload['run_id']}.json")
    assert manifest["run_id"] == payload["run_id"] and manifest["kind"] == "batch"
    assert sorted(o["key"] for o in manifest["objects"]) == keys
    assert {o["version_id"] for o in manifest["objects"]} == {"v1"}


def test_failed_start_reports_only_the_messages_of_that_execution(trigger, aws, monkeypatch):
    sfn, _, arn = aws
    monkeypatch.setenv("LAKE_BUCKET", "missing-bucket")  # manifests cannot be written
    big = [eventbridge_body(f"landing/sales/p{i}.csv") for i in range(21)]  # needs a manifest
    stream = eventbridge_body(encoded("topics/sales/partition=0/sales+0+0000000000.json"))
    failures = invoke(trigger, sqs_batch(*big, stream))
    assert failures == [f"m{i}" for i in range(21)]
    [execution] = executions(sfn, arn)
    assert json.loads(execution["input"])["kind"] == "stream"


def test_keys_with_commas_use_a_manifest(trigger, aws):
    sfn, _, arn = aws
    invoke(trigger, sqs_batch(eventbridge_body("landing/sales/orders%2C+2012.csv")))
    [execution] = executions(sfn, arn)
    assert "manifest_uri" in json.loads(execution["input"])
