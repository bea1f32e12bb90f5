"""Glue run-ended events -> SQS -> the glue_run_ended function, which completes the
state machine's task token of a silver run (part of the orchestration box).

The state machine starts the silver job with `.waitForTaskToken`; the job completes
the token itself when it ends (sales_lake.task_token). This path covers what the job
cannot report: the rule takes every terminal "Glue Job State Change" of the silver job
(SUCCEEDED included, in case the job's own report was lost), the queue keeps them
through throttling or a failed invocation (then the DLQ), and the function completes
the token from the run's final state; Step Functions keeps the first completion.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from cdk.config import PipelineConfig
from cdk.ingestion import event_queue, python_function, send_to_queue

FUNCTION_DIR = Path("lambdas") / "glue_run_ended"
FUNCTION_TIMEOUT_SECONDS = 30
MAX_RECEIVE_COUNT = 5
# Glue's terminal job-run states (EventBridge "Glue Job State Change" events).
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR")
SEND_TASK_ACTIONS = ("states:SendTaskSuccess", "states:SendTaskFailure")


class GlueRunEvents(Construct):
    """Rule on the silver job's terminal states, queue + DLQ, and the function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        job: glue.IJob,
        state_machine_arn: str,
        project_root: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dead_letter_queue = event_queue(
            self,
            "GlueRunEventsQueue",
            visibility_timeout=Duration.seconds(6 * FUNCTION_TIMEOUT_SECONDS),
            max_receive_count=MAX_RECEIVE_COUNT,
            dead_letter_id="GlueRunEventsDeadLetterQueue",
        )
        self.rule = events.Rule(
            self,
            "SilverRunEndedRule",
            description="Terminal states of the silver job's runs, for their task tokens",
            event_pattern=events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"jobName": [job.job_name], "state": list(TERMINAL_STATES)},
            ),
        )
        send_to_queue(self.rule, self.queue, self.dead_letter_queue)
        self.function = python_function(
            self,
            "GlueRunEnded",
            config=config,
            project_root=project_root,
            function_dir=FUNCTION_DIR,
            description="Completes the pipeline's task token of a silver run that ended",
            role_description="Glue run-ended function: read the run, complete its task token",
            timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
            environment={
                "POWERTOOLS_SERVICE_NAME": "sales-pipeline-glue-run-ended",
                "POWERTOOLS_METRICS_NAMESPACE": "SalesPipeline",
            },
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["glue:GetJobRun"], resources=[job.job_arn])
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(SEND_TASK_ACTIONS), resources=[state_machine_arn])
        )
