"""Glue run-ended function: Glue "Job State Change" events -> the waiting execution.

The state machine starts the silver job with a task token (`.waitForTaskToken`) in
the run's `--task_token` argument and waits. The job completes the token itself when
it ends (success, or a failure it can report: sales_lake.task_token). Whatever the job
cannot report (it crashed, Glue stopped it or timed it out, it never started its
script) ends in a Glue state change: EventBridge delivers it to an SQS queue, and this
function reads the run (`GetJobRun`, for its arguments and error message) and
completes the token from the run's final state, for every terminal state, success
included (the job's own report may have been lost).

Completing a token twice cannot change an outcome: Step Functions keeps the first
completion and refuses the others (TaskTimedOut / InvalidToken / TaskDoesNotExist),
which this function counts as "already completed", and both reports derive from the
same run end. A run without a token (started by hand) is skipped. Failures are
reported per message (partial batch response), so SQS redelivers only those.
"""

from __future__ import annotations

import json
from functools import partial

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

SERVICE = "sales-pipeline-glue-run-ended"
# The job argument that carries the token (step_functions/pipeline.asl.json sets it;
# sales_lake.task_token.TOKEN_ARGUMENT is the owner, a test holds this copy to it).
TOKEN_ARGUMENT = "--task_token"
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR")
# What Step Functions answers for a token that is already completed or gone.
ALREADY_COMPLETED = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="SalesPipeline", service=SERVICE)
processor = BatchProcessor(event_type=EventType.SQS)


def failure_of(run: dict) -> tuple[str, str]:
    """(error, cause) of a run that did not succeed, as the state machine's notice shows
    them (sales_lake.task_token.failure_error is the owner of the error names)."""
    state = run["JobRunState"]
    message = " ".join(str(run.get("ErrorMessage") or "no error message").split())[:500]
    return (
        f"Glue.JobRun{state.title()}",
        f"Glue job run {run['Id']} ended {state}: {message}",
    )


def success_of(run: dict) -> dict:
    """The task result of a run that succeeded: the JobRun fields the state machine's
    ResultSelector reads (sales_lake.task_token.success_output is the owner)."""
    return {
        "Id": run["Id"],
        "JobRunState": run["JobRunState"],
        "ExecutionTime": int(run.get("ExecutionTime") or 0),
    }


def complete(run: dict, stepfunctions) -> str:
    """Complete the run's token from its final state; what happened, in one word."""
    token = (run.get("Arguments") or {}).get(TOKEN_ARGUMENT)
    if not token:
        return "no_token"
    try:
        if run["JobRunState"] == "SUCCEEDED":
            stepfunctions.send_task_success(taskToken=token, output=json.dumps(success_of(run)))
        else:
            error, cause = failure_of(run)
            stepfunctions.send_task_failure(taskToken=token, error=error, cause=cause)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ALREADY_COMPLETED:
            return "already_completed"
        raise
    return "completed"


def _record_handler(record: SQSRecord, glue, stepfunctions) -> None:
    event = json.loads(record.body)
    detail = event.get("detail") or {}
    state = detail.get("state")
    if state not in TERMINAL_STATES:
        logger.info("not a terminal state", extra={"detail": detail})
        return
    run = glue.get_job_run(JobName=detail["jobName"], RunId=detail["jobRunId"])["JobRun"]
    outcome = complete(run, stepfunctions)
    logger.info(
        "glue run ended",
        extra={"job_run_id": run["Id"], "state": run["JobRunState"], "outcome": outcome},
    )
    metrics.add_metric(name=f"GlueRunEnd_{outcome}", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # One pair of clients per invocation (a batch holds up to 10 records), not per record.
    handler = partial(
        _record_handler, glue=boto3.client("glue"), stepfunctions=boto3.client("stepfunctions")
    )
    return process_partial_response(
        event=event, record_handler=handler, processor=processor, context=context
    )
