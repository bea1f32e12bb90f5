"""Monitoring box: the notification topic, alarms on every moving part, one dashboard.

The topic is created first because the state machine publishes run notifications
to it; the other boxes are then registered with the `watch_*` methods, which add
an alarm (notifying the topic) and the matching dashboard widgets.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from sales_lake import quality_metrics

from cdk.config import PipelineConfig

ALARM_PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """SNS topic (+ e-mail subscription), alarms and a CloudWatch dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig) -> None:
        super().__init__(scope, construct_id)
        self._env_name = config.env_name

        # CloudWatch alarms can only publish to a KMS-encrypted topic whose key
        # lets the CloudWatch service use it, so the topic gets its own key.
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the sales pipeline notification topic",
            enable_key_rotation=True,
            removal_policy=config.data_removal_policy,
        )
        self.topic_key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"),
            "kms:Decrypt",
            "kms:GenerateDataKey*",
        )
        self.notification_topic = sns.Topic(
            self,
            "NotificationTopic",
            display_name=f"Sales pipeline ({config.env_name})",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        # The topic policy replaces SNS's default one, so alarms (a service, not an IAM
        # principal of this account) need their own allow, limited to this account.
        self.notification_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.notification_topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        if config.alert_email:
            self.notification_topic.add_subscription(
                subscriptions.EmailSubscription(config.alert_email)
            )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"sales-pipeline-{config.env_name}",
            default_interval=Duration.days(1),
        )
        self._alarm_action = cloudwatch_actions.SnsAction(self.notification_topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def _alarm(
        self,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        description: str,
        threshold: float = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=f"[sales-pipeline {self._env_name}] {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._alarm_action)
        self.alarms.append(alarm)
        return alarm

    # Alarm ids derive from the watched construct, so a second job, function or queue
    # (e.g. from the streaming part) gets its own alarm and widgets.

    def watch_state_machine(
        self, state_machine: sfn.StateMachine, *, label: str = "Pipeline executions"
    ) -> None:
        failed = cloudwatch.MathExpression(
            expression="failed + timedOut",
            using_metrics={
                "failed": state_machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                "timedOut": state_machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
            },
            label="Failed or timed-out executions",
            period=ALARM_PERIOD,
        )
        self._alarm(
            f"{state_machine.node.id}FailedAlarm",
            metric=failed,
            description=f"{label}: an execution failed or timed out; open it in the "
            "Step Functions console (docs/deploy.md, step 7).",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=label,
                left=[
                    state_machine.metric_started(statistic="Sum"),
                    state_machine.metric_succeeded(statistic="Sum"),
                    state_machine.metric_failed(statistic="Sum"),
                ],
                width=12,
            )
        )

    def watch_function(self, function: lambda_.Function, *, label: str) -> None:
        self._alarm(
            f"{function.node.id}ErrorsAlarm",
            metric=function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            description=f"{label} raised errors; its failed messages are retried and end "
            "in the dead-letter queue.",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=label,
                left=[function.metric_invocations(), function.metric_errors()],
                right=[function.metric_throttles()],
                width=12,
            )
        )

    def watch_queues(self, *, queue: sqs.Queue, dead_letter_queue: sqs.Queue, label: str) -> None:
        self._alarm(
            f"{dead_letter_queue.node.id}Alarm",
            metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=ALARM_PERIOD, statistic="Maximum"
            ),
            description=f"{label}: messages reached the dead-letter queue, so their files "
            "were not processed. Inspect and redrive them (docs/deploy.md, step 8).",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=label,
                left=[
                    queue.metric_approximate_number_of_messages_visible(),
                    dead_letter_queue.metric_approximate_number_of_messages_visible(),
                ],
                right=[queue.metric_approximate_age_of_oldest_message()],
                width=12,
            )
        )

    def watch_glue_job(self, job: glue.IJob, *, label: str) -> None:
        failed = cloudwatch.MathExpression(
            expression="failed + timedOut",
            using_metrics={
                "failed": job.metric_failure(period=ALARM_PERIOD, statistic="Sum"),
                "timedOut": job.metric_timeout(period=ALARM_PERIOD, statistic="Sum"),
            },
            label="Failed or timed-out Glue runs",
            period=ALARM_PERIOD,
        )
        self._alarm(
            f"{job.node.id}FailedAlarm",
            metric=failed,
            description=f"{label}: a run failed or timed out; see its error in the Glue "
            "console (docs/deploy.md, step 8).",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{label} runs",
                left=[
                    job.metric_success(statistic="Sum"),
                    job.metric_failure(statistic="Sum"),
                    job.metric_timeout(statistic="Sum"),
                ],
                width=12,
            )
        )

    def watch_data_quality(self, *, quarantine_threshold: float) -> None:
        """The silver runs' data-quality counts (sales_lake.quality_metrics) and an alarm
        when a run's quarantine ratio reaches the quality gate's threshold."""

        def metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=quality_metrics.NAMESPACE,
                metric_name=name,
                dimensions_map={"Loader": "batch"},
                statistic=statistic,
                period=ALARM_PERIOD,
            )

        self._alarm(
            "QuarantineRatioAlarm",
            metric=metric("QuarantineRatio", "Maximum"),
            threshold=quarantine_threshold,
            description="A batch run quarantined at least the quality gate's share of its "
            "rows; see which rows and why with the run's notice or silver/quarantine.",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Silver rows per batch run",
                left=[metric(n) for n in ("RowsRead", "RowsInserted", "RowsUpdated")],
                right=[metric(n) for n in ("RowsQuarantined", "RowsHeld", "RejectedFiles")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Quarantined rows by reason",
                # One line per reason code a run has published (the codes are open-ended).
                left=[cloudwatch.MathExpression(expression=by_reason_search(), label="")],
                width=12,
            ),
        )

    def watch_connector(
        self, *, name: str, metric: Callable[[str], cloudwatch.IMetric], errored: str, running: str
    ) -> None:
        """The streaming part's S3 sink connector (cdk/streaming.py): an alarm when a task
        fails, and its running vs errored tasks.

        `errors.tolerance = none` makes a record the sink cannot write stop its task
        rather than be skipped, and a stopped task is silent otherwise: its partitions
        only stop reaching `topics/`. Running workers report the errored count; no data
        means none reported an errored task, so missing data does not breach (the
        shared `_alarm` settings).
        """
        self._alarm(
            "ConnectorTaskErrorsAlarm",
            metric=metric(errored),
            description=f"S3 sink connector {name}: a task failed, so its partitions stop "
            "reaching the raw bucket; its worker logs say why (docs/deploy.md, Streaming).",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="S3 sink connector tasks", left=[metric(running), metric(errored)], width=12
            )
        )

    def add_alarm_overview(self) -> None:
        """One status widget with every alarm; call after all `watch_*` registrations."""
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24)
        )


def by_reason_search() -> str:
    """CloudWatch SEARCH for the per-reason quarantine counts of any loader."""
    ns, by = quality_metrics.NAMESPACE, quality_metrics.BY_REASON
    dims = f"{ns},Loader,{quality_metrics.REASON_DIMENSION}"
    return f"SEARCH('{{{dims}}} MetricName=\"{by}\"', 'Sum', {ALARM_PERIOD.to_seconds()})"
