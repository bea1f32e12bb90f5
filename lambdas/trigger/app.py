"""Trigger function: SQS batch of S3 object-created events -> pipeline executions.

EventBridge delivers S3 "Object Created" events to an SQS queue; this function
reads a batch (batching window), drops what is not pipeline input (logged and
counted), coalesces the rest into one execution per input kind and starts the
state machine under a deterministic name, so redelivered events start nothing
new. Failures are reported per message (SQS partial batch response).

Environment: STATE_MACHINE_ARN, LAKE_BUCKET, RAW_BUCKET (the bucket whose
objects are input; events from other buckets are ignored).
"""

from __future__ import annotations

import json
import os

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from pipeline_objects import (
    ExecutionRequest,
    MalformedMessage,
    S3ObjectRef,
    group_into_executions,
    objects_in_message,
    why_ignored,
)

SERVICE = "sales-pipeline-trigger"
# Inline object URIs up to this many; above it the objects go to a manifest file,
# which keeps the execution input (max 256 KiB) and Glue arguments small.
MAX_INLINE_OBJECTS = 20

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="SalesPipeline", service=SERVICE)


def _clients():
    return boto3.client("stepfunctions"), boto3.client("s3")


def execution_input(request: ExecutionRequest, s3_client, lake_bucket: str) -> dict:
    """The state machine input: inline URIs, or a manifest when the list is long."""
    run_id = request.name
    payload = {"run_id": run_id, "kind": request.kind, "object_count": len(request.objects)}
    # source_uris is comma-separated, so a key with a comma always goes to a manifest.
    inline = not any("," in obj.key for obj in request.objects)
    if inline and len(request.objects) <= MAX_INLINE_OBJECTS:
        payload["source_uris"] = ",".join(obj.uri for obj in request.objects)
        return payload
    manifest_key = f"manifests/{run_id}.json"
    manifest = {
        "run_id": run_id,
        "kind": request.kind,
        "objects": [obj.as_manifest_entry() for obj in request.objects],
    }
    s3_client.put_object(
        Bucket=lake_bucket,
        Key=manifest_key,
        Body=json.dumps(manifest, indent=1).encode(),
        ContentType="application/json",
    )
    payload["manifest_uri"] = f"s3://{lake_bucket}/{manifest_key}"
    return payload


@tracer.capture_method
def start(request: ExecutionRequest, sfn, s3_client) -> str:
    """Start one execution; 'started' or 'duplicate' (an execution with that name exists)."""
    payload = execution_input(request, s3_client, os.environ["LAKE_BUCKET"])
    try:
        sfn.start_execution(
            stateMachineArn=os.environ["STATE_MACHINE_ARN"],
            name=request.name,
            input=json.dumps(payload),
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("execution exists: duplicate event", extra={"execution": request.name})
        metrics.add_metric(name="DuplicateExecutions", unit=MetricUnit.Count, value=1)
        return "duplicate"
    logger.info(
        "execution started",
        extra={"execution": request.name, "kind": request.kind, "objects": len(request.objects)},
    )
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    return "started"


def _input_objects(event: SQSEvent, raw_bucket: str | None):
    """(message id -> its input objects, ids of malformed messages)."""
    by_message: dict[str, list[S3ObjectRef]] = {}
    malformed: list[str] = []
    for record in event.records:
        try:
            objects = objects_in_message(record.body)
        except MalformedMessage as exc:
            logger.error(
                "malformed message", extra={"message_id": record.message_id, "error": str(exc)}
            )
            malformed.append(record.message_id)
            continue
        kept = []
        for obj in objects:
            reason = "other_bucket" if raw_bucket and obj.bucket != raw_bucket else why_ignored(obj)
            if reason:
                logger.info("ignored object", extra={"uri": obj.uri, "reason": reason})
                metrics.add_metric(name="IgnoredObjects", unit=MetricUnit.Count, value=1)
            else:
                kept.append(obj)
        by_message[record.message_id] = kept
    return by_message, malformed


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SQSEvent)
def lambda_handler(event: SQSEvent, context: LambdaContext) -> dict:
    sfn, s3_client = _clients()
    by_message, failed = _input_objects(event, os.environ.get("RAW_BUCKET"))
    all_objects = [obj for objects in by_message.values() for obj in objects]
    metrics.add_metric(name="InputObjects", unit=MetricUnit.Count, value=len(set(all_objects)))
    failed_set = set(failed)
    for request in group_into_executions(all_objects):
        try:
            start(request, sfn, s3_client)
        except Exception:
            logger.exception("could not start execution", extra={"execution": request.name})
            metrics.add_metric(name="StartFailures", unit=MetricUnit.Count, value=1)
            members = set(request.objects)
            failed_set.update(
                message_id
                for message_id, objects in by_message.items()
                if members.intersection(objects)
            )
    # Keep the queue order of failed messages, as SQS reports them.
    failures = [r.message_id for r in event.records if r.message_id in failed_set]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
