"""A burst of stream files through the real trigger function (moto S3 + Step Functions):
a bounded number of executions, every object version in exactly one manifest, a
rewritten key processed again under its new version, a redelivered batch a no-op."""

from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest

from local_twin.lambda_runtime import LambdaContext, load_handler_module
from tests.lambdas.trigger_events import (
    encoded,
    eventbridge_body,
    sqs_batch,
    stream_key,
    trigger_aws,
)


def _event(key: str, version: str) -> str:
    # S3 URL-encodes keys in events: the sink's '+' separators arrive as %2B.
    return eventbridge_body(encoded(key), size=700, version=version, etag=f"etag-{version}")


@pytest.fixture
def storm(monkeypatch):
    with trigger_aws(monkeypatch) as (sfn, arn):
        trigger = load_handler_module("trigger")

        # 600 files from 4 partitions arrive in three SQS batches (batching windows).
        files = [(stream_key(o * 100, partition=p), "v1") for o in range(150) for p in range(4)]
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
