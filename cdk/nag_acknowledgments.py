"""Every cdk-nag AwsSolutions finding this project accepts, each with its reason.

The one place for acknowledgments: a finding not listed here fails `cdk synth`
and the infrastructure tests. Each is attached to the one construct it concerns
and names the exact finding (cdk-nag 3 has no rule-wide suppression), so a new
wildcard elsewhere is still reported.
"""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

from cdk.ingestion import Ingestion
from cdk.orchestration import Orchestration
from cdk.processing import Processing
from cdk.storage import (
    BATCH_LANDING_PREFIX,
    MANIFESTS_PREFIX,
    RUN_SUMMARY_FILE,
    RUNS_PREFIX,
    SILVER_PREFIX,
    STREAM_TOPICS_PREFIX,
    Storage,
)
from cdk.streaming import Streaming, accepted_findings
from cdk.warehouse import Warehouse


class SalesPipelineStack(Protocol):
    """The boxes the acknowledgments are attached to (cdk/stack.py composes them);
    a protocol, so this module does not import the stack that imports it."""

    storage: Storage
    ingestion: Ingestion
    processing: Processing
    warehouse: Warehouse
    orchestration: Orchestration
    streaming: Streaming | None


OBJECT_KEYS_AT_RUN_TIME = "object keys are only known at run time"


def acknowledge_findings(stack: SalesPipelineStack) -> None:
    """Attach the acknowledgments to the constructs they concern."""
    _storage_prefix_wildcards(stack)
    _service_wildcards(stack)
    _secrets_and_runtime(stack)
    if stack.streaming is not None:
        for construct, finding, reason in accepted_findings(stack.streaming):
            Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def _ack(scope: IConstruct, finding: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason))


def _arn_of(resource: IConstruct) -> str:
    """How cdk-nag prints a Fn::GetAtt Arn in a finding id: `<LogicalId.Arn>`."""
    stack = Stack.of(resource)
    cfn = resource.node.default_child
    assert isinstance(cfn, CfnResource)
    return f"<{stack.resolve(stack.get_logical_id(cfn))}.Arn>"


def _object_wildcard(scope: IConstruct, bucket_arn: str, key_pattern: str, reason: str) -> None:
    _ack(scope, f"IAM5[Resource::{bucket_arn}/{key_pattern}]", reason)


def _storage_prefix_wildcards(stack: SalesPipelineStack) -> None:
    """Object ARNs end in `prefix/*`: scoped to a contract prefix, never a whole bucket."""
    raw = _arn_of(stack.storage.raw_bucket)
    lake = _arn_of(stack.storage.lake_bucket)
    glue_role = stack.processing.role
    for prefix in (BATCH_LANDING_PREFIX, STREAM_TOPICS_PREFIX):
        _object_wildcard(
            glue_role,
            raw,
            f"{prefix}*",
            f"The Glue job reads the bronze files of each run under {prefix}; "
            f"{OBJECT_KEYS_AT_RUN_TIME}.",
        )
    _object_wildcard(
        glue_role,
        lake,
        f"{MANIFESTS_PREFIX}*",
        "The Glue job reads the run's manifest (manifests/<run_id>.json); "
        f"{OBJECT_KEYS_AT_RUN_TIME}.",
    )
    _object_wildcard(
        glue_role,
        lake,
        f"{SILVER_PREFIX}*",
        "Delta tables under silver/ are written by each Glue run and compacted and vacuumed "
        "by its weekly maintenance run; Delta names its data and log files itself.",
    )
    _object_wildcard(
        glue_role,
        lake,
        f"{RUNS_PREFIX}*",
        "The Glue job writes runs/<run_id>/metrics.json and summary.json for each run id.",
    )
    _object_wildcard(
        stack.warehouse.task_definition.task_role,
        lake,
        f"{RUNS_PREFIX}*",
        "The dbt task stores its artifacts under runs/<run_id>/dbt/ for each run.",
    )
    _object_wildcard(
        stack.warehouse.snowflake_role,
        lake,
        f"{SILVER_PREFIX}*",
        "Snowflake Delta Direct reads the silver Delta tables (data and log "
        "files) under silver/ only.",
    )
    _object_wildcard(
        stack.orchestration.state_machine.role,
        lake,
        f"{RUNS_PREFIX}*/{RUN_SUMMARY_FILE}",
        "The quality gate reads runs/<run_id>/summary.json of its own run only.",
    )
    _object_wildcard(
        stack.ingestion.function.role,
        lake,
        f"{MANIFESTS_PREFIX}*",
        "The trigger writes manifests/<run_id>.json for each coalesced execution.",
    )


def _service_wildcards(stack: SalesPipelineStack) -> None:
    """Resources named by the service at run time, or actions with no resource type."""
    glue_role = stack.processing.role
    _ack(
        glue_role,
        "IAM5[Resource::*]",
        "cloudwatch:PutMetricData supports no resource type; the statement is limited to "
        "the Glue metric namespace by a cloudwatch:namespace condition.",
    )
    _ack(
        glue_role,
        "IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
        "log-group:/aws-glue/jobs/*]",
        "Glue names the job's encrypted log groups after the security configuration and "
        "role (/aws-glue/jobs/<config>-role/<role>/...) when it creates them.",
    )

    _ack(
        stack.warehouse.task_definition.obtain_execution_role(),
        "IAM5[Resource::*]",
        "ecr:GetAuthorizationToken supports no resource type; image pulls themselves are "
        "limited to the dbt image repository.",
    )

    pipeline_role = stack.orchestration.state_machine.role
    _ack(
        pipeline_role,
        "IAM5[Resource::*]",
        "Added by the CDK for execution logging (logs:*LogDelivery, DescribeLogGroups, "
        "PutResourcePolicy) and X-Ray tracing; these actions support no resource type.",
    )
    name = stack.orchestration.state_machine_name
    _ack(
        pipeline_role,
        "IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
        f"<AWS::AccountId>:execution:{name}:*]",
        "The gold-lock lease checks whether the holding execution of this same state "
        "machine is still running; execution names are generated per run.",
    )
    cluster = stack.resolve(stack.get_logical_id(stack.warehouse.cluster.node.default_child))
    _ack(
        pipeline_role,
        "IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:"
        f"<AWS::AccountId>:task/<{cluster}>/*]",
        "ecs:runTask.sync stops and describes the dbt task it started; task ids are "
        "generated by ECS, and the ARN is limited to the pipeline's cluster.",
    )

    _ack(
        stack.ingestion.function.role,
        "IAM5[Resource::arn:<AWS::Partition>:states:"
        f"<AWS::Region>:<AWS::AccountId>:execution:{name}:*]",
        "The trigger checks whether the execution an object-ledger claim names exists "
        "(a claim whose StartExecution never happened is retried); names are per run.",
    )
    _ack(
        stack.ingestion.function.role,
        "IAM5[Resource::*]",
        "X-Ray tracing (PutTraceSegments, PutTelemetryRecords) supports no resource type.",
    )
    if stack.orchestration.glue_run_events is not None:
        _ack(
            stack.orchestration.glue_run_events.function.role,
            "IAM5[Resource::*]",
            "The glue_run_ended function is traced too: X-Ray's PutTraceSegments and "
            "PutTelemetryRecords support no resource type.",
        )


def _secrets_and_runtime(stack: SalesPipelineStack) -> None:
    warehouse = stack.warehouse
    _ack(
        warehouse.connection_secret,
        "SMG4",
        "Connection settings (account, user, role, warehouse, database, schema) are "
        "configuration from CDK context, replaced by each deploy; there is nothing to rotate.",
    )
    _ack(
        warehouse.private_key_secret,
        "SMG4",
        "Snowflake key-pair auth: the key is rotated in Snowflake (RSA_PUBLIC_KEY_2) and "
        "then stored here, as docs/deploy.md describes; no rotation Lambda can do that.",
    )
    _ack(
        warehouse.task_definition,
        "ECS2",
        "Only non-secret settings are plain variables (DBT_TARGET, LAKE_URI, RUN_ID "
        "overridden per run); every Snowflake setting and the key are ECS secrets.",
    )
    _ack(
        stack.ingestion.function,
        "L1",
        "Pinned to Python 3.11 on purpose: it matches Glue 5.0, the dev environment the "
        "handler is tested in, and the pinned Powertools layer built for python311.",
    )
    if stack.orchestration.glue_run_events is not None:
        _ack(
            stack.orchestration.glue_run_events.function,
            "L1",
            "The glue_run_ended function shares the trigger's runtime (Python 3.11, the "
            "one its tests and the pinned python311 Powertools layer run on).",
        )
