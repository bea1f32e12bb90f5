"""Ingestion box: S3 events -> EventBridge rule -> SQS buffer -> trigger Lambda.

The queue absorbs event storms (a bulk upload or a sink flush can create thousands
of objects in minutes); the event source mapping hands the Lambda up to a window's
worth of events at once, so it starts one coalesced execution per batch, named
deterministically from the objects. The object ledger (DynamoDB) remembers which
object versions already have an execution, so an event redelivered in a later
batch starts nothing (lambdas/trigger/object_ledger.py has the failure order).
Failed records return to the queue on their own (ReportBatchItemFailures) and end
in the dead-letter queue after retries.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.artifacts import require
from cdk.config import PipelineConfig
from cdk.locked_versions import locked_version
from cdk.storage import BATCH_LANDING_PREFIX, MANIFESTS_PREFIX, STREAM_TOPICS_PREFIX, Storage

TRIGGER_FUNCTION_DIR = Path("lambdas") / "trigger"
TRIGGER_HANDLER = "app.lambda_handler"
TRIGGER_TIMEOUT_SECONDS = 60
BATCHING_WINDOW_SECONDS = 60
BATCH_SIZE = 1000
MAX_RECEIVE_COUNT = 5
# The ledger schema (lambdas/trigger/object_ledger.py) and the claim lease: longer
# than the function can run, so a claim older than this has no live claimant.
LEDGER_KEY_ATTRIBUTE = "object_id"
LEDGER_TTL_ATTRIBUTE = "expires_at"
LEDGER_CLAIM_LEASE_SECONDS = 2 * TRIGGER_TIMEOUT_SECONDS

TRIGGER_RUNTIME = lambda_.Runtime.PYTHON_3_11
TRIGGER_ARCHITECTURE = lambda_.Architecture.X86_64

# The AWS-managed Powertools layer of exactly the release uv.lock pins (the one the
# trigger's tests run with). Powertools publishes each release's layer ARN as a public
# SSM parameter per architecture and runtime ("Powertools for AWS Lambda (Python)",
# Installation > Lambda Layer > Using SSM Parameter Store), in the regions of the `aws`
# partition only: China and GovCloud get the layer under other accounts, without the
# parameter. Hence cdk.json targets the `aws` partition only.
POWERTOOLS_PACKAGE = "aws-lambda-powertools"
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"
POWERTOOLS_PARTITIONS = ("aws",)

# Object key prefixes the pipeline reacts to (docs/contracts.md, "Buckets and keys").
# Prefixes only: EventBridge's wildcard matching is case-sensitive, and a field takes
# alternatives (OR) but no prefix AND case-insensitive suffix, so `*.csv` would drop
# `SALES.CSV`, which the trigger accepts. The trigger filters the suffix itself
# (pipeline_objects.INPUT_KINDS) and counts the rest as IgnoredObjects.
WATCHED_KEY_PREFIXES = (BATCH_LANDING_PREFIX, STREAM_TOPICS_PREFIX)


def powertools_layer_parameter(project_root: Path) -> str:
    """Name of the public SSM parameter holding the layer ARN for the trigger's platform."""
    return POWERTOOLS_LAYER_PARAMETER.format(
        architecture=TRIGGER_ARCHITECTURE.name,
        runtime=TRIGGER_RUNTIME.name,
        version=locked_version(project_root, POWERTOOLS_PACKAGE),
    )


def powertools_layer(scope: Construct, project_root: Path) -> lambda_.ILayerVersion:
    """The layer ARN as a deploy-time SSM parameter: no lookup, no credentials at synth.
    Every function of the stack runs on TRIGGER_RUNTIME / TRIGGER_ARCHITECTURE with it.

    Only a real deploy shows that the parameter exists in the target region (a
    missing one fails the deployment, naming it) and that the layer it points to
    is readable from the account; docs/deploy.md (step 4) says how to check it.
    """
    layer_arn = ssm.StringParameter.value_for_string_parameter(
        scope, powertools_layer_parameter(project_root)
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", layer_arn)


def event_queue(
    scope: Construct,
    queue_id: str,
    *,
    visibility_timeout: Duration,
    max_receive_count: int,
    dead_letter_id: str = "DeadLetterQueue",
) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, its dead-letter queue) for events a function consumes: SQS-managed
    encryption, TLS only, 4 days to consume, 14 days in the DLQ after
    `max_receive_count` receives."""
    dead_letter_queue = sqs.Queue(
        scope,
        dead_letter_id,  # unique per stack: monitoring names its alarm after it
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    queue = sqs.Queue(
        scope,
        queue_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=Duration.days(4),
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letter_queue, max_receive_count=max_receive_count
        ),
    )
    return queue, dead_letter_queue


def send_to_queue(rule: events.Rule, queue: sqs.Queue, dead_letter_queue: sqs.Queue) -> None:
    """The rule's target: the queue; an event SQS cannot take is retried for a day,
    then parked in the dead-letter queue."""
    rule.add_target(
        targets.SqsQueue(
            queue,
            dead_letter_queue=dead_letter_queue,
            retry_attempts=185,
            max_event_age=Duration.hours(24),
        )
    )


def python_function(
    scope: Construct,
    prefix: str,
    *,
    config: PipelineConfig,
    project_root: Path,
    function_dir: Path,
    description: str,
    role_description: str,
    timeout_seconds: int,
    environment: dict[str, str],
    reserved_concurrency: int | None = None,
) -> lambda_.Function:
    """A function of `lambdas/<name>/` (handler app.lambda_handler) as the stack runs
    them all: TRIGGER_RUNTIME / TRIGGER_ARCHITECTURE, the pinned Powertools layer,
    X-Ray, its own log group (`<prefix>Logs`) and its own role (`<prefix>Role`; instead
    of AWSLambdaBasicExecutionRole, so logs go to that one group only)."""
    log_group = logs.LogGroup(
        scope,
        f"{prefix}Logs",
        retention=config.log_retention,
        removal_policy=config.data_removal_policy,
    )
    role = iam.Role(
        scope,
        f"{prefix}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=role_description,
    )
    log_group.grant_write(role)
    app = require(project_root, function_dir / "app.py", produced_by=f"the {function_dir} Lambda")
    return lambda_.Function(
        scope,
        f"{prefix}Function",
        description=description,
        runtime=TRIGGER_RUNTIME,
        architecture=TRIGGER_ARCHITECTURE,
        handler=TRIGGER_HANDLER,
        code=lambda_.Code.from_asset(
            str(app.parent), exclude=["tests", "fixtures", "**/__pycache__", "**/*.pyc"]
        ),
        layers=[powertools_layer(scope, project_root)],
        memory_size=256,
        timeout=Duration.seconds(timeout_seconds),
        reserved_concurrent_executions=reserved_concurrency,
        tracing=lambda_.Tracing.ACTIVE,
        role=role,
        log_group=log_group,
        environment=environment,
    )


class Ingestion(Construct):
    """EventBridge rule, buffer queue + DLQ, object ledger and the trigger Lambda."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        storage: Storage,
        state_machine: sfn.IStateMachine,
        state_machine_name: str,
        project_root: Path,
    ) -> None:
        super().__init__(scope, construct_id)

        # AWS guidance for Lambda consumers: visibility 6 x function timeout + batching window.
        self.queue, self.dead_letter_queue = event_queue(
            self,
            "ObjectEventsQueue",
            visibility_timeout=Duration.seconds(
                6 * TRIGGER_TIMEOUT_SECONDS + BATCHING_WINDOW_SECONDS
            ),
            max_receive_count=MAX_RECEIVE_COUNT,
        )

        self.rule = events.Rule(
            self,
            "ObjectCreatedRule",
            description="New bronze objects (batch CSVs and stream files) for the pipeline",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [storage.raw_bucket.bucket_name]},
                    "object": {
                        "key": events.Match.any_of(
                            *(events.Match.prefix(prefix) for prefix in WATCHED_KEY_PREFIXES)
                        )
                    },
                },
            ),
        )
        # If even SQS cannot be reached, EventBridge retries for a day, then parks the
        # event in the same DLQ (same body, so one redrive covers both).
        send_to_queue(self.rule, self.queue, self.dead_letter_queue)

        self.object_ledger = dynamodb.TableV2(
            self,
            "ObjectLedger",
            partition_key=dynamodb.Attribute(
                name=LEDGER_KEY_ATTRIBUTE, type=dynamodb.AttributeType.STRING
            ),
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute=LEDGER_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=config.data_removal_policy,
        )

        self.function = python_function(
            self,
            "Trigger",
            config=config,
            project_root=project_root,
            function_dir=TRIGGER_FUNCTION_DIR,
            description="Coalesces S3 object events into one pipeline execution per batch",
            role_description="Trigger Lambda: start pipeline executions, write manifests",
            timeout_seconds=TRIGGER_TIMEOUT_SECONDS,
            # Matches the mapping's maximum concurrency: executions are coalesced and
            # named deterministically, so more parallel pollers would buy nothing.
            reserved_concurrency=config.trigger_max_concurrency,
            environment={
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "LAKE_BUCKET": storage.lake_bucket.bucket_name,
                "RAW_BUCKET": storage.raw_bucket.bucket_name,
                "OBJECT_LEDGER_TABLE": self.object_ledger.table_name,
                "LEDGER_CLAIM_LEASE_SECONDS": str(LEDGER_CLAIM_LEASE_SECONDS),
                "POWERTOOLS_SERVICE_NAME": "sales-pipeline-trigger",
                "POWERTOOLS_METRICS_NAMESPACE": "SalesPipeline",
            },
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(BATCHING_WINDOW_SECONDS),
                report_batch_item_failures=True,
                max_concurrency=config.trigger_max_concurrency,
            )
        )
        state_machine.grant_start_execution(self.function)
        # Does the execution a ledger item names exist? (a claim whose start never happened)
        # Built from the fixed name: the execution names are only known at run time.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution"],
                resources=[
                    Stack.of(self).format_arn(
                        service="states",
                        resource="execution",
                        resource_name=f"{state_machine_name}:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.object_ledger.grant(
            self.function, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"
        )
        storage.grant_write_objects(self.function, storage.lake_bucket, MANIFESTS_PREFIX)
