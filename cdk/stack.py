"""The one stack composing the architecture boxes, and the app wiring shared with the tests.

Environment-agnostic on purpose (no account/region, no lookups): `cdk synth` works
on a fresh clone without credentials, and the same template deploys anywhere.

Extension points for the streaming part (MSK Serverless + MSK Connect S3 sink):
`storage.raw_bucket` / `storage.data_key` (the sink writes under `topics/`, which the
ingestion rule already watches) and `warehouse.vpc` (private subnets for the cluster
and the connector). Its connector alarm (a failed sink task) notifies the same topic
as the other alarms and joins the dashboard; its outputs (bootstrap servers, topic,
producer policy and security group) follow the others. Stream files are loaded by the
same silver Glue job as batch files (`processing.silver_job`, `--source_kind stream`):
one writer per Delta table.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, CfnOutput, Stack, Tags, Validations
from aws_cdk import aws_ec2 as ec2
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk import outputs as names
from cdk.config import PipelineConfig
from cdk.ingestion import Ingestion
from cdk.monitoring import Monitoring
from cdk.nag_acknowledgments import acknowledge_findings
from cdk.orchestration import Orchestration
from cdk.processing import Processing
from cdk.storage import Storage
from cdk.streaming import ERRORED_TASKS, RUNNING_TASKS, add_streaming
from cdk.warehouse import Warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class SalesPipelineStack(Stack):
    """Storage -> ingestion -> orchestration -> processing/warehouse, watched by monitoring."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        project_root: Path = PROJECT_ROOT,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, description=description)
        self.config = config

        self.storage = Storage(self, "Storage", config=config)
        self.monitoring = Monitoring(self, "Monitoring", config=config)
        self.processing = Processing(
            self, "Processing", config=config, storage=self.storage, project_root=project_root
        )
        self.warehouse = Warehouse(
            self, "Warehouse", config=config, storage=self.storage, project_root=project_root
        )
        self.orchestration = Orchestration(
            self,
            "Orchestration",
            config=config,
            storage=self.storage,
            monitoring=self.monitoring,
            processing=self.processing,
            warehouse=self.warehouse,
            project_root=project_root,
        )
        self.ingestion = Ingestion(
            self,
            "Ingestion",
            config=config,
            storage=self.storage,
            state_machine=self.orchestration.state_machine,
            state_machine_name=self.orchestration.state_machine_name,
            project_root=project_root,
        )

        # MSK Serverless + S3 sink only when the connector plugin is given (msk_connect/README.md).
        self.streaming = add_streaming(
            self, config=config, storage=self.storage, vpc=self.warehouse.vpc,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        )  # fmt: skip

        self.monitoring.watch_state_machine(self.orchestration.state_machine)
        self.monitoring.watch_glue_job(self.processing.silver_job, label="Glue silver job")
        self.monitoring.watch_function(self.ingestion.function, label="Trigger Lambda")
        self.monitoring.watch_queues(
            queue=self.ingestion.queue,
            dead_letter_queue=self.ingestion.dead_letter_queue,
            label="Event buffer",
        )
        events = self.orchestration.glue_run_events
        if events is not None:
            self.monitoring.watch_function(events.function, label="Glue run-ended Lambda")
            self.monitoring.watch_queues(
                queue=events.queue,
                dead_letter_queue=events.dead_letter_queue,
                label="Glue run-ended events",
            )
        self.monitoring.watch_data_quality(quarantine_threshold=config.quality_threshold)
        if self.streaming is not None:
            self.monitoring.watch_connector(
                name=self.streaming.connector_name,
                metric=self.streaming.connector_metric,
                errored=ERRORED_TASKS,
                running=RUNNING_TASKS,
            )
        self.monitoring.add_alarm_overview()

        Tags.of(self).add("project", "sales-data-aggregation-pipeline")
        Tags.of(self).add("environment", config.env_name)
        self._outputs()

    def _outputs(self) -> None:
        # The names belong to cdk/outputs.py, shared with `twin smoke`, which reads them back.
        outputs = {
            names.RAW_BUCKET: self.storage.raw_bucket.bucket_name,
            names.LAKE_BUCKET: self.storage.lake_bucket.bucket_name,
            names.STATE_MACHINE: self.orchestration.state_machine.state_machine_arn,
            names.NOTIFICATION_TOPIC: self.monitoring.notification_topic.topic_arn,
            names.OBJECT_EVENTS_RULE: self.ingestion.rule.rule_name,
            names.OBJECT_EVENTS_QUEUE: self.ingestion.queue.queue_url,
            names.DEAD_LETTER_QUEUE: self.ingestion.dead_letter_queue.queue_url,
            names.TRIGGER_LOG_GROUP: self.ingestion.function.log_group.log_group_name,
            names.GLUE_JOB: self.processing.silver_job.job_name,
            names.OBJECT_LEDGER_TABLE: self.ingestion.object_ledger.table_name,
            names.SNOWFLAKE_ROLE: self.warehouse.snowflake_role.role_arn,
            names.SNOWFLAKE_PRIVATE_KEY_SECRET: self.warehouse.private_key_secret.secret_arn,
            names.DASHBOARD: self.monitoring.dashboard.dashboard_name,
        }
        written = names.ALL
        if self.streaming is not None:
            outputs |= self._streaming_outputs()
            written += names.STREAMING
        unwritten = [name for name in written if name not in outputs]
        if unwritten:  # a name added to cdk/outputs.py without a value here
            raise ValueError(f"cdk/stack.py _outputs: no value for output(s) {unwritten}")
        for name in written:
            CfnOutput(self, name, value=outputs[name])

    def _streaming_outputs(self) -> dict[str, str]:
        """What a producer needs (docs/deploy.md, Streaming): where, which topic, and the
        policy and security group to give its role and its network interface."""
        streaming = self.streaming
        return {
            names.STREAMING_BOOTSTRAP_SERVERS: streaming.bootstrap_servers,
            names.STREAMING_TOPIC: streaming.topic,
            names.STREAMING_PRODUCER_POLICY: streaming.producer_policy.managed_policy_arn,
            names.STREAMING_PRODUCER_SECURITY_GROUP: (
                streaming.producer_security_group.security_group_id
            ),
        }


def stack_name(config: PipelineConfig) -> str:
    return f"SalesPipeline-{config.env_name}"


def add_nag_checks(app: App) -> None:
    """cdk-nag's AwsSolutions rules as a validation plugin: a finding not acknowledged in
    cdk/nag_acknowledgments.py fails synthesis (cdk-nag 3's API; `Aspects` is v2's)."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def add_pipeline_stack(
    scope: Construct, *, project_root: Path = PROJECT_ROOT
) -> SalesPipelineStack:
    """The pipeline stack under `scope` (the app, or a Stage with its own context), its
    settings read from the scope's context, with its cdk-nag acknowledgments."""
    config = PipelineConfig.from_node(scope.node)
    stack = SalesPipelineStack(
        scope,
        stack_name(config),
        config=config,
        project_root=project_root,
        description=f"Sales data aggregation pipeline ({config.env_name})",
    )
    acknowledge_findings(stack)
    return stack


def build_app(app: App, *, project_root: Path = PROJECT_ROOT) -> SalesPipelineStack:
    """Add the pipeline stack and the cdk-nag AwsSolutions checks to `app`.

    Shared by app.py and the tests so both synthesize exactly the same thing.
    """
    stack = add_pipeline_stack(app, project_root=project_root)
    add_nag_checks(app)
    return stack
