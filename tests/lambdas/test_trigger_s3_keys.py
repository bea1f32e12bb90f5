"""Keys with `#`, `?`, `%`, `+` and spaces, from the S3 event to the URI the job splits.

S3 URL-encodes a key in its event; the trigger decodes it once and writes the object
as `s3://bucket/key`, which the job splits back with `uris.split_s3`. Inline and
through a manifest, each key must come back exactly.
"""

from __future__ import annotations

import json

import boto3
from sales_lake import uris

from local_twin.lambda_runtime import LambdaContext
from tests.lambdas.trigger_events import (
    AWKWARD_KEYS,
    RAW,
    encoded,
    eventbridge_body,
    sqs_batch,
    trigger_aws,
)


def _execution_input(trigger, monkeypatch, max_inline: int) -> dict:
    monkeypatch.setattr(trigger, "MAX_INLINE_OBJECTS", max_inline)
    with trigger_aws(monkeypatch) as (sfn, arn):
        bodies = [eventbridge_body(encoded(key)) for key in AWKWARD_KEYS]
        response = trigger.lambda_handler(sqs_batch(*bodies), LambdaContext("trigger"))
        assert response["batchItemFailures"] == []
        [listed] = sfn.list_executions(stateMachineArn=arn)["executions"]
        payload = json.loads(sfn.describe_execution(executionArn=listed["executionArn"])["input"])
        if "manifest_uri" in payload:
            bucket, key = uris.split_s3(payload["manifest_uri"])
            body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            payload["manifest"] = json.loads(body)
    return payload


def test_inline_source_uris_split_back_to_the_exact_keys(trigger, monkeypatch):
    # As S3 sends them: every awkward character escaped, a space as '+'.
    assert [encoded(key).rsplit("/", 1)[1] for key in AWKWARD_KEYS] == [
        "orders+%231.csv", "q%3Fx%3D1.csv", "100%25.csv", "a%2Bb.csv", "with+space.csv",
    ]  # fmt: skip
    payload = _execution_input(trigger, monkeypatch, max_inline=20)
    listed = payload["source_uris"].split(",")
    assert sorted(uris.split_s3(uri) for uri in listed) == sorted((RAW, k) for k in AWKWARD_KEYS)
    assert sorted(listed) == sorted(uris.s3_uri(RAW, key) for key in AWKWARD_KEYS)


def test_manifest_objects_name_the_exact_keys(trigger, monkeypatch):
    payload = _execution_input(trigger, monkeypatch, max_inline=0)
    objects = payload["manifest"]["objects"]
    rebuilt = sorted(uris.split_s3(uris.s3_uri(o["bucket"], o["key"])) for o in objects)
    assert rebuilt == sorted((RAW, key) for key in AWKWARD_KEYS)
    assert payload["object_count"] == len(AWKWARD_KEYS)
