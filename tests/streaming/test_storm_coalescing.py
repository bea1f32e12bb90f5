"""A burst of stream files through the real trigger function (moto S3 + Step Functions):
a bounded number of executions, every object version in exactly one manifest, a
rewritten key processed again under its new version, a redelivered batch a no-op."""

from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest
from moto import mock_aws

from local_twin.lambda_runtime import LambdaContext, load_handler_module
from tests.lambdas.trigger_events import (
    create_object_ledger,
    encoded,
    eventbridge_body,
    sqs_batch,
)

RAW, LAKE = "raw-bucket", "lake-bucket"
TOPIC = "sales-order-lines"
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def _stream_key(partition: int, offset: int) -> str:
    return (
        f"topics/{TOPIC}/year=2026/month=11/day=26/hour=08/{TOPIC}+{partition}+{offset:010d}.json"
    )


def _event(key: str, version: str) -> str:
    # S3 URL-encodes keys in events: the sink's '+' separators arrive as %2B.
    return eventbridge_body(encoded(key), size=700, version=version, etag=f"etag-{version}")


@pytest.fixture
def storm(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=LAKE)
        sfn = boto3.client("stepfunctions")
        arn = sfn.create_state_machine(
            name="pipeline", definition=PASS_MACHINE, roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        monkeypatch.setenv("LAKE_BUCKET", LAKE)
        monkeypatch.setenv("RAW_BUCKET", RAW)
        create_object_ledger(monkeypatch)
        trigger = load_handler_module("trigger")

        # 600 files from 4 partitions arrive in three SQS batches (batching windows).
        files = [(_stream_key(p, o * 100), "v1") for o in range(150) for p in range(4)]
        windows = [files[:250], files[250:500], files[500:]]
        # The connector rewrites 5 keys (restarted task): same key, new S3 version.
        rewritten = [(key, "v2") for key, _ in files[10:15]]
        windows[2] = windows[2] + rewritten
        # A record is delivered twice inside one window (SQS at-least-once).
        windows[1] = windows[1] + windows[1][:7]
        bodies = [[_event(k, v) for k, v in window] for window in windows]
        responses = [
            trigger.lambda_handler(sqs_batch(*b, prefix=f"w{i}-"), LambdaContext("trigger"))
            for i, b in enumerate(bodies)
        ]
        # The poller redelivers the whole second batch (e.g. after a Lambda timeout).
        again = sqs_batch(*bodies[1], prefix="again-")
        responses.append(trigger.lambda_handler(again, LambdaContext("t")))

        s3 = boto3.client("s3")
        started = []
        for listed in sfn.list_executions(stateMachineArn=arn)["executions"]:
            payload = json.loads(
                sfn.describe_execution(executionArn=listed["executionArn"])["input"]
            )
            bucket, key = payload["manifest_uri"][len("s3://") :].split("/", 1)
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            started.append((payload, manifest))
        yield {"files": files, "rewritten": rewritten, "started": started, "responses": responses}


def test_burst_becomes_one_stream_execution_per_batch_with_a_manifest(storm):
    assert len(storm["started"]) == 3  # 3 windows; the redelivered batch starts nothing
    for payload, manifest in storm["started"]:
        assert payload["kind"] == manifest["kind"] == "stream"
        assert payload["object_count"] == len(manifest["objects"]) > 20
        assert manifest["run_id"] == payload["run_id"]
    assert all(r["batchItemFailures"] == [] for r in storm["responses"])


def test_no_object_version_is_lost_or_listed_twice(storm):
    listed = Counter(
        (o["key"], o["version_id"]) for _, manifest in storm["started"] for o in manifest["objects"]
    )
    assert set(listed) == set(storm["files"]) | set(storm["rewritten"])
    assert max(listed.values()) == 1
    # the rewritten keys are processed again, under their new version
    assert all(listed[(key, "v2")] == 1 for key, _ in storm["rewritten"])
