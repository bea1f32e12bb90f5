"""Real-shaped trigger inputs shared by the Lambda and streaming tests: S3 'Object
Created' events as EventBridge delivers them, wrapped in an SQS batch; the AWS the
trigger talks to (lake bucket, state machine, object ledger) in moto."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote_plus

RAW, LAKE = "raw-bucket", "lake-bucket"
LEDGER_TABLE = "object-ledger"
TOPIC = "sales-order-lines"
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
# Batch keys that a URI parser would mangle: a fragment, a query, an escape, a '+'
# that an event spells %2B and a space that it spells '+'.
AWKWARD_KEYS = (
    "landing/sales/orders #1.csv",
    "landing/sales/q?x=1.csv",
    "landing/sales/100%.csv",
    "landing/sales/a+b.csv",
    "landing/sales/with space.csv",
)


def stream_key(offset: int, partition: int = 0) -> str:
    """A key as the MSK Connect S3 sink writes it (time-based partitioner)."""
    return (
        f"topics/{TOPIC}/year=2026/month=11/day=26/hour=08/{TOPIC}+{partition}+{offset:010d}.json"
    )


def encoded(key: str) -> str:
    """How S3 writes a key into an event: URL-encoded, '+' for a space."""
    return quote_plus(key, safe="/")


def eventbridge_body(
    key: str, size: int = 120, version: str = "v1", bucket: str = RAW, etag: str = "e" * 32
) -> str:
    """An S3 'Object Created' event as EventBridge delivers it to SQS (pass the key encoded)."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-11-26T08:00:00Z",
            "region": "us-east-1",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {"key": key, "size": size, "etag": etag, "version-id": version},
                "reason": "PutObject",
            },
        }
    )


def sqs_batch(*bodies: str, prefix: str = "m") -> dict:
    """An SQS event source batch; message ids are `<prefix><index>`."""
    return {
        "Records": [
            {
                "messageId": f"{prefix}{i}",
                "receiptHandle": f"h-{prefix}{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:buffer",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def create_object_ledger(monkeypatch, name: str = LEDGER_TABLE) -> str:
    """The trigger's object ledger in moto (schema as cdk/ingestion.py), named in the env."""
    import boto3

    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "object_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "object_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("OBJECT_LEDGER_TABLE", name)
    return name


@contextmanager
def trigger_aws(monkeypatch) -> Iterator[tuple[object, str]]:
    """moto with what the trigger needs, named in its environment: (sfn client, machine arn)."""
    import boto3
    from moto import mock_aws

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
        yield sfn, arn
