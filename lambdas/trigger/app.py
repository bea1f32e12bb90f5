"""Trigger function: SQS batch of S3 object-created events -> pipeline executions.

EventBridge delivers S3 "Object Created" events to an SQS queue; this function
reads a batch (batching window), drops what is not pipeline input (logged and
counted), skips objects the object ledger already holds (a redelivery, even in a
later batch: object_ledger.py), coalesces the rest into one execution per input
kind, claims them in the ledger and starts the state machine under a
deterministic name. Failures are reported per message (SQS partial batch
response), so SQS redelivers exactly the messages whose objects did not start.

Environment: read once per invocation into `trigger_settings.TriggerSettings`
(STATE_MACHINE_ARN, LAKE_BUCKET, OBJECT_LEDGER_TABLE, optional RAW_BUCKET and
LEDGER_CLAIM_LEASE_SECONDS).
"""

from __future__ import annotations

import json
import os

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from object_ledger import (
    DUPLICATE,
    IN_FLIGHT,
    ClaimConflict,
    ObjectLedger,
    execution_arn,
    verdict,
)
from pipeline_objects import (
    ExecutionRequest,
    MalformedMessage,
    S3ObjectRef,
    group_into_executions,
    latest_versions,
    manifest_key,
    objects_in_message,
    s3_uri,
    why_ignored,
)
from trigger_settings import TriggerSettings

SERVICE = "sales-pipeline-trigger"
# Inline object URIs up to this many; above it the objects go to a manifest file,
# which keeps the execution input (max 256 KiB) and Glue arguments small.
MAX_INLINE_OBJECTS = 20

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="SalesPipeline", service=SERVICE)


def _clients():
    return boto3.client("stepfunctions"), boto3.client("s3"), boto3.client("dynamodb")


def execution_input(request: ExecutionRequest, s3_client, lake_bucket: str) -> dict:
    """The state machine input: inline URIs, or a manifest when the list is long."""
    run_id = request.name
    payload = {"run_id": run_id, "kind": request.kind, "object_count": len(request.objects)}
    # source_uris is comma-separated, so a key with a comma always goes to a manifest.
    inline = not any("," in obj.key for obj in request.objects)
    if inline and len(request.objects) <= MAX_INLINE_OBJECTS:
        payload["source_uris"] = ",".join(obj.uri for obj in request.objects)
        return payload
    key = manifest_key(run_id)
    manifest = {
        "run_id": run_id,
        "kind": request.kind,
        "objects": [obj.as_manifest_entry() for obj in request.objects],
    }
    s3_client.put_object(
        Bucket=lake_bucket,
        Key=key,
        Body=json.dumps(manifest, indent=1).encode(),
        ContentType="application/json",
    )
    payload["manifest_uri"] = s3_uri(lake_bucket, key)
    return payload


class _Executions:
    """Does an execution exist? (DescribeExecution, cached for one invocation)."""

    def __init__(self, sfn, state_machine_arn: str) -> None:
        self.sfn, self.state_machine_arn = sfn, state_machine_arn
        self.known: dict[str, bool] = {}

    def exists(self, name: str) -> bool:
        if name not in self.known:
            try:
                self.sfn.describe_execution(
                    executionArn=execution_arn(self.state_machine_arn, name)
                )
                self.known[name] = True
            except self.sfn.exceptions.ExecutionDoesNotExist:
                self.known[name] = False
        return self.known[name]


def unrecorded_objects(
    objects: list[S3ObjectRef], ledger: ObjectLedger, executions: _Executions
) -> tuple[dict[S3ObjectRef, str | None], list[S3ObjectRef]]:
    """(objects to start -> the stale execution name to replace, or None;
    objects claimed by an invocation in flight). Duplicates are logged and dropped."""
    entries = ledger.lookup(obj.identity for obj in objects)
    now = ledger.clock()
    to_start: dict[S3ObjectRef, str | None] = {}
    in_flight: list[S3ObjectRef] = []
    duplicates = 0
    for obj in objects:
        entry = entries.get(obj.identity)
        found = verdict(entry, executions.exists, now=now, lease_seconds=ledger.lease_seconds)
        if found == DUPLICATE:
            logger.info(
                "object already has an execution: duplicate event",
                extra={"object": obj.identity, "execution": entry.execution_name},
            )
            duplicates += 1
        elif found == IN_FLIGHT:
            in_flight.append(obj)
        else:  # new, or a claim whose execution never started (retry)
            to_start[obj] = entry.execution_name if entry else None
            if entry:
                logger.warning(
                    "retrying an object whose execution never started",
                    extra={"object": obj.identity, "claimed_for": entry.execution_name},
                )
    metrics.add_metric(name="DuplicateObjects", unit=MetricUnit.Count, value=duplicates)
    return to_start, in_flight


@tracer.capture_method
def start(request: ExecutionRequest, sfn, s3_client, settings: TriggerSettings) -> str:
    """Start one execution; 'started' or 'duplicate' (an execution with that name exists)."""
    payload = execution_input(request, s3_client, settings.lake_bucket)
    try:
        sfn.start_execution(
            stateMachineArn=settings.state_machine_arn,
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


def _messages_of(objects, by_message: dict[str, list[S3ObjectRef]]) -> set[str]:
    members = set(objects)
    return {mid for mid, objs in by_message.items() if members.intersection(objs)}


def _claim_and_start(
    request: ExecutionRequest, stale: dict, clients, ledger, settings: TriggerSettings
) -> bool:
    """Claim the request's objects, then start it; False when its messages must be retried."""
    sfn, s3_client = clients
    claims = {obj.identity: stale.get(obj) for obj in request.objects}
    try:
        ledger.claim(claims, request.name)
    except ClaimConflict as exc:
        logger.warning(str(exc), extra={"execution": request.name})
        metrics.add_metric(name="ClaimConflicts", unit=MetricUnit.Count, value=1)
        return False
    try:
        start(request, sfn, s3_client, settings)
    except Exception:
        logger.exception("could not start execution", extra={"execution": request.name})
        metrics.add_metric(name="StartFailures", unit=MetricUnit.Count, value=1)
        left = ledger.release(claims, request.name)
        if left:  # retryable after the lease (object_ledger.py)
            logger.error("claims not released", extra={"execution": request.name, "ids": left})
        return False
    return True


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SQSEvent)
def lambda_handler(event: SQSEvent, context: LambdaContext) -> dict:
    settings = TriggerSettings.from_environ(os.environ)
    sfn, s3_client, dynamodb = _clients()
    ledger = ObjectLedger(settings.ledger_table, dynamodb, lease_seconds=settings.lease_seconds)
    by_message, failed = _input_objects(event, settings.raw_bucket)
    candidates = latest_versions(obj for objects in by_message.values() for obj in objects)
    metrics.add_metric(name="InputObjects", unit=MetricUnit.Count, value=len(candidates))
    failed_set = set(failed)
    executions = _Executions(sfn, settings.state_machine_arn)
    to_start, in_flight = unrecorded_objects(candidates, ledger, executions)
    if in_flight:
        logger.info(
            "objects claimed by an invocation in flight: retried later",
            extra={"objects": [o.identity for o in in_flight]},
        )
        failed_set.update(_messages_of(in_flight, by_message))
    for request in group_into_executions(to_start):
        if not _claim_and_start(request, to_start, (sfn, s3_client), ledger, settings):
            failed_set.update(_messages_of(request.objects, by_message))
    # Keep the queue order of failed messages, as SQS reports them.
    failures = [r.message_id for r in event.records if r.message_id in failed_set]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
