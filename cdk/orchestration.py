"""Orchestration box: the pipeline state machine from step_functions/, and its gold lock table.

The ASL file stays the single source of the workflow (the local twin runs the same
file): it is read into an inline definition so the template can be checked, and
every `${Placeholder}` gets a substitution. The role's permissions are derived from
the service integrations the definition actually uses, each scoped to the one
resource it may touch; an integration with no mapping here stops synthesis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import ArnFormat, Aws, Duration, Fn, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.config import PipelineConfig
from cdk.glue_run_events import SEND_TASK_ACTIONS, GlueRunEvents
from cdk.monitoring import Monitoring
from cdk.processing import Processing
from cdk.storage import RUN_SUMMARY_FILE, RUNS_PREFIX, Storage
from cdk.warehouse import Warehouse
from step_functions import asl

PIPELINE_DEFINITION = Path("step_functions") / "pipeline.asl.json"
ECS_SYNC_RULE_NAME = "StepFunctionsGetEventsForECSTaskRule"
EXECUTION_TIMEOUT = Duration.hours(6)


def execution_log_group_name(env_name: str) -> str:
    """`/aws/vendedlogs/states/sales-pipeline-<env>-<stack UUID>`, unique per stack creation.

    The /aws/vendedlogs/ prefix keeps the account's CloudWatch Logs resource policy
    small (Step Functions best practice "Avoiding Amazon CloudWatch Logs resource policy
    size restrictions"); the UUID of the stack id, new with every stack creation, keeps
    the group a deleted non-dev stack retained from blocking the next deploy.
    """
    stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return f"/aws/vendedlogs/states/sales-pipeline-{env_name}-{stack_uuid}"


@dataclass(frozen=True, kw_only=True)
class Integration:
    """One `arn:aws:states:::<integration>` resource, e.g. `aws-sdk:s3:getObject`."""

    service: str
    action: str  # API name as written in the ASL, e.g. startJobRun
    pattern: str  # "" (request-response), "sync" or "waitForTaskToken"

    @classmethod
    def parse(cls, integration: str) -> Integration:
        name = integration.removeprefix("aws-sdk:")
        name, _, pattern = name.partition(".")
        service, _, action = name.partition(":")
        return cls(service=service, action=action, pattern=pattern)

    @property
    def sid(self) -> str:
        """Statement id naming the integration, e.g. `GlueStartJobRunSync`."""
        parts = (self.service, self.action, self.pattern)
        return "".join(part[:1].upper() + part[1:] for part in parts if part)

    @property
    def iam_action(self) -> str:
        return f"{self.service}:{self.action[:1].upper()}{self.action[1:]}"


class Orchestration(Construct):
    """DynamoDB gold-refresh lock table, the state machine, its logs and its role, and
    (for a silver step that waits on a task token) the run-ended events path."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        storage: Storage,
        monitoring: Monitoring,
        processing: Processing,
        warehouse: Warehouse,
        project_root: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self._storage = storage
        self._monitoring = monitoring
        self._processing = processing
        self._warehouse = warehouse

        self.gold_refresh_table = dynamodb.TableV2(
            self,
            "GoldRefreshTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=config.data_removal_policy,
        )

        definition_path = project_root / PIPELINE_DEFINITION
        definition_text, definition = asl.load_definition(definition_path)
        self.definition_substitutions = self._substitutions(config)
        missing = asl.placeholders(definition_text) - set(self.definition_substitutions)
        if missing:
            raise asl.AslError(
                f"{definition_path}: placeholders without a substitution: {sorted(missing)}; "
                "add them to Orchestration._substitutions (cdk/orchestration.py) "
                "and to docs/contracts.md"
            )

        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=execution_log_group_name(config.env_name),
            retention=config.log_retention,
            removal_policy=config.data_removal_policy,
        )
        self.state_machine_name = f"sales-pipeline-{config.env_name}"
        self.state_machine = sfn.StateMachine(
            self,
            "Pipeline",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition_text),
            definition_substitutions=self.definition_substitutions,
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,  # inputs hold run ids and URIs, never secrets
            ),
        )
        self.integrations = asl.task_integrations(definition)
        self.glue_run_events: GlueRunEvents | None = None
        self._project_root, self._config = project_root, config
        for integration, states in sorted(self.integrations.items()):
            self._permit(integration, states, definition_path)

    def _substitutions(self, config: PipelineConfig) -> dict[str, str]:
        """Every placeholder of docs/contracts.md ("State machine") -> its deployed value."""
        warehouse = self._warehouse
        return {
            "GlueJobName": self._processing.silver_job.job_name,
            "DbtClusterArn": warehouse.cluster.cluster_arn,
            "DbtTaskDefinitionArn": warehouse.task_definition.task_definition_arn,
            "DbtContainerName": warehouse.container.container_name,
            "DbtSubnetIds": Fn.join(",", warehouse.task_subnets.subnet_ids),
            "DbtSecurityGroupIds": warehouse.task_security_group.security_group_id,
            "NotificationTopicArn": self._monitoring.notification_topic.topic_arn,
            "LakeBucketName": self._storage.lake_bucket.bucket_name,
            "GoldRefreshTableName": self.gold_refresh_table.table_name,
            "QuarantineRatioThreshold": repr(config.quality_threshold),
            "OnQualityBreach": config.on_quality_breach,
        }

    # --- IAM: one grant per service integration the definition uses -----------------

    def _permit(self, integration: str, states: set[str], definition_path: Path) -> None:
        parsed = Integration.parse(integration)
        grant = self._grants().get(parsed.service)
        if grant is None:
            raise asl.AslError(
                f"{definition_path}: states {sorted(states)} use {integration!r}, which "
                "cdk/orchestration.py has no scoped IAM grant for; add one in _grants()"
            )
        grant(parsed)

    def _grants(self) -> Mapping[str, Callable[[Integration], None]]:
        return {
            "glue": self._grant_glue,
            "ecs": self._grant_ecs,
            "sns": self._grant_sns,
            "s3": self._grant_s3,
            "dynamodb": self._grant_dynamodb,
            "states": self._grant_states,
            "sfn": self._grant_states,  # aws-sdk integrations name Step Functions "sfn"
        }

    def _allow(
        self,
        integration: Integration,
        purpose: str,
        actions: list[str],
        resources: list[str],
        conditions: dict | None = None,
    ) -> None:
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                sid=integration.sid + purpose,
                actions=actions,
                resources=resources,
                conditions=conditions,
            )
        )

    def _grant_glue(self, integration: Integration) -> None:
        actions = [integration.iam_action]
        if integration.pattern == "sync":
            actions += ["glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
        job = self._processing.silver_job
        self._allow(integration, "SilverJob", actions, [job.job_arn])
        if integration.pattern == "waitForTaskToken":
            # The run completes its token itself (heartbeats while it works), and the
            # run-ended events complete it for every end the job cannot report.
            self._processing.role.add_to_policy(
                iam.PolicyStatement(
                    sid="CompleteOwnTaskToken",
                    actions=[*SEND_TASK_ACTIONS, "states:SendTaskHeartbeat"],
                    resources=[self._own_arn()],
                )
            )
            self.glue_run_events = GlueRunEvents(
                self,
                "GlueRunEvents",
                config=self._config,
                job=job,
                state_machine_arn=self._own_arn(),
                project_root=self._project_root,
            )

    def _own_arn(self) -> str:
        """The state machine's ARN from its fixed name (referencing the resource from
        the roles it depends on would be a dependency cycle)."""
        return Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _grant_ecs(self, integration: Integration) -> None:
        warehouse = self._warehouse
        if integration.action != "runTask":
            raise asl.AslError(f"ecs:{integration.action} is not expected in the pipeline")
        stack = Stack.of(self)
        self._allow(
            integration,
            "DbtTask",
            ["ecs:RunTask"],
            [warehouse.task_definition.task_definition_arn],
            conditions={"ArnEquals": {"ecs:cluster": warehouse.cluster.cluster_arn}},
        )
        self._allow(
            integration,
            "PassDbtRoles",
            ["iam:PassRole"],
            [
                warehouse.task_definition.task_role.role_arn,
                warehouse.task_definition.obtain_execution_role().role_arn,
            ],
        )
        if integration.pattern == "sync":
            tasks_in_cluster = stack.format_arn(
                service="ecs",
                resource="task",
                resource_name=f"{warehouse.cluster.cluster_name}/*",
            )
            self._allow(
                integration,
                "TrackDbtTask",
                ["ecs:StopTask", "ecs:DescribeTasks"],
                [tasks_in_cluster],
            )
            # The .sync pattern waits on an EventBridge rule that Step Functions manages.
            self._allow(
                integration,
                "EventsRule",
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                [
                    stack.format_arn(
                        service="events", resource="rule", resource_name=ECS_SYNC_RULE_NAME
                    )
                ],
            )

    def _grant_sns(self, integration: Integration) -> None:
        if integration.action != "publish":
            raise asl.AslError(f"sns:{integration.action} is not expected in the pipeline")
        monitoring = self._monitoring
        self._allow(
            integration, "Notifications", ["sns:Publish"], [monitoring.notification_topic.topic_arn]
        )
        monitoring.topic_key.grant(self.state_machine, "kms:GenerateDataKey", "kms:Decrypt")

    def _grant_s3(self, integration: Integration) -> None:
        bucket = self._storage.lake_bucket
        reads = {"getObject": "s3:GetObject", "headObject": "s3:GetObject"}
        if integration.action in reads:
            # The quality gate reads the bounded runs/<run_id>/summary.json and nothing else.
            self._allow(
                integration,
                "RunMetrics",
                [reads[integration.action]],
                [bucket.arn_for_objects(f"{RUNS_PREFIX}*/{RUN_SUMMARY_FILE}")],
            )
            self._storage.data_key.grant(self.state_machine, "kms:Decrypt")
        elif integration.action in ("listObjectsV2", "listObjects"):
            self._allow(
                integration,
                "Runs",
                ["s3:ListBucket"],
                [bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{RUNS_PREFIX}*"]}},
            )
        else:
            raise asl.AslError(f"s3:{integration.action} is not expected in the pipeline")

    def _grant_dynamodb(self, integration: Integration) -> None:
        self._allow(
            integration,
            "GoldRefreshLock",
            [integration.iam_action],
            [self.gold_refresh_table.table_arn],
        )

    def _grant_states(self, integration: Integration) -> None:
        """Calls on this pipeline's own executions (e.g. checking the gold-lock holder).

        ARNs are built from the fixed state machine name: referencing the state
        machine's own ARN from its role would be a dependency cycle.
        """
        stack = Stack.of(self)
        own_arn = self._own_arn()
        own_executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        action = f"states:{integration.iam_action.partition(':')[2]}"
        if integration.action == "startExecution":
            actions, resources = [action], [own_arn]
            if integration.pattern == "sync":
                actions += ["states:DescribeExecution", "states:StopExecution"]
                resources.append(own_executions)
        elif integration.action in ("describeExecution", "stopExecution"):
            actions, resources = [action], [own_executions]
        else:
            raise asl.AslError(f"{integration.service}:{integration.action} is not expected")
        self._allow(integration, "OwnExecutions", actions, resources)
