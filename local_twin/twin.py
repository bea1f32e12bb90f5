"""The local twin: the event-driven pipeline, offline, with the real artifacts.

moto plays the AWS control plane (S3, EventBridge, SQS, SNS, DynamoDB, Step
Functions running step_functions/pipeline.asl.json, Glue, ECS); the twin plays
the two services moto cannot: the Lambda poller (real trigger handler, real SQS
event shape) and the compute behind Glue job runs and ECS tasks (see engines.py).

    with Twin(Workspace.at("workspace")) as twin:
        records = twin.drop([Path("data/sample/orders.csv")])
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from datetime import datetime
from pathlib import Path

import boto3

from local_twin import engines, provision
from local_twin.aws_hooks import REGION, LocalRuntimes, local_aws
from local_twin.lambda_runtime import LambdaContext, load_handler_module, sqs_event
from local_twin.progress import Progress, quiet
from local_twin.workspace import BATCH_PREFIX, LAKE_BUCKET, RAW_BUCKET, Workspace

INPUT_SUFFIXES = (".csv", ".csv.gz")
PROGRESS_HEARTBEAT_SECONDS = 15.0
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def check_input_files(files: list[Path]) -> None:
    """Refuse what the pipeline would ignore, naming the file and the fix."""
    if not files:
        raise SystemExit("no files given: `twin drop FILE...` takes sales CSV exports")
    for path in files:
        if not path.is_file():
            raise SystemExit(f"{path}: no such file. Give the path of a sales CSV export.")
        if not path.name.lower().endswith(INPUT_SUFFIXES):
            raise SystemExit(
                f"{path}: the pipeline takes {' or '.join(INPUT_SUFFIXES)} files under "
                f"{BATCH_PREFIX}; rename it or export it as CSV."
            )


class Twin:
    def __init__(
        self,
        workspace: Workspace,
        *,
        glue_runner=None,
        ecs_runner=None,
        progress: Progress | None = None,
        quarantine_ratio_threshold: str = "0.05",
        on_quality_breach: str = "stop",
        time_scale: float = 0.01,
        execution_timeout: float = 3600.0,
    ) -> None:
        self.workspace = workspace
        self.execution_timeout = execution_timeout
        self.progress = progress or quiet()
        self.timings = engines.EngineTimings()
        self.runtimes = LocalRuntimes(
            glue_runner=glue_runner or engines.glue_runner(workspace, self.timings),
            ecs_runner=ecs_runner or engines.dbt_runner(workspace, self.timings),
            time_scale=time_scale,
        )
        self.settings = {
            "QuarantineRatioThreshold": quarantine_ratio_threshold,
            "OnQualityBreach": on_quality_breach,
        }
        self._stack = contextlib.ExitStack()
        self.notifications: list[dict] = []

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Twin:
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        self._stack.enter_context(local_aws(self.runtimes))
        self._provision()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def _client(self, service: str):
        return boto3.client(service, region_name=REGION)

    def _provision(self) -> None:
        self.resources = provision.provision(self.workspace, self.settings)
        self.queue_url, self.queue_arn = self.resources.queue_url, self.resources.queue_arn
        self.inbox_url = self.resources.inbox_url
        self.state_machine_arn = self.resources.state_machine_arn
        os.environ.update(
            STATE_MACHINE_ARN=self.state_machine_arn,
            LAKE_BUCKET=LAKE_BUCKET,
            RAW_BUCKET=RAW_BUCKET,
            OBJECT_LEDGER_TABLE=provision.OBJECT_LEDGER_TABLE,
        )
        self.trigger = load_handler_module("trigger")
        # Lambda would send the function's logs to CloudWatch; the twin keeps them in the workspace.
        self._trigger_log = self._stack.enter_context(
            (self.workspace.logs / "trigger.log").open("a")
        )
        handler = self.trigger.logger.registered_handler
        previous = handler.setStream(self._trigger_log)
        self._stack.callback(handler.setStream, previous)

    # --- the event path ----------------------------------------------------------------------

    def put_raw_object(self, key: str, body: bytes) -> None:
        """Write to the raw bucket: the workspace folder and moto (which emits the event)."""
        target = self.workspace.object_path(RAW_BUCKET, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        self._client("s3").put_object(Bucket=RAW_BUCKET, Key=key, Body=body)

    def drop(self, files: list[Path]) -> list[dict]:
        """Drop files into landing/sales/ and run every execution they trigger to completion."""
        check_input_files(files)
        dropped_at = time.time()
        for path in files:
            self.put_raw_object(BATCH_PREFIX + path.name, path.read_bytes())
            self.progress(f"dropped {path.name} -> s3://{RAW_BUCKET}/{BATCH_PREFIX}{path.name}")
        started = self.deliver_events()
        return self.wait(started, dropped_at=dropped_at)

    def receive_events(self, limit: int = 100) -> list[dict]:
        """Everything on the buffer queue now (the Lambda poller's batching window)."""
        sqs, messages = self._client("sqs"), []
        while len(messages) < limit:
            batch = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, limit - len(messages)),
                AttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages

    def invoke_trigger(self, messages: list[dict]) -> dict:
        """Call the real handler with an SQS batch; delete what it processed (like the poller)."""
        event = sqs_event(messages, self.queue_arn)
        with contextlib.redirect_stdout(self._trigger_log):
            response = self.trigger.lambda_handler(event, LambdaContext("sales-pipeline-trigger"))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        sqs = self._client("sqs")
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return response

    def deliver_events(self) -> list[str]:
        """Drain the buffer queue through the trigger; the execution ARNs it started."""
        before = set(self.execution_arns())
        while messages := self.receive_events():
            response = self.invoke_trigger(messages)
            if response.get("batchItemFailures"):
                self.progress(
                    f"trigger reported {len(response['batchItemFailures'])} failed message(s); "
                    f"see {self.workspace.logs / 'trigger.log'}"
                )
                break
        started = [arn for arn in self.execution_arns() if arn not in before]
        for arn in started:
            self.progress(f"execution started: {arn.rsplit(':', 1)[-1]}")
        return started

    def execution_arns(self) -> list[str]:
        pages = self._client("stepfunctions").get_paginator("list_executions")
        return [
            e["executionArn"]
            for page in pages.paginate(stateMachineArn=self.state_machine_arn)
            for e in page["executions"]
        ]

    # --- executions ----------------------------------------------------------------------------

    def start_execution(self, name: str, execution_input: dict) -> str:
        return self._client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(execution_input)
        )["executionArn"]

    def rerun(self, record: dict) -> dict:
        """A new execution with the original input (what the console's "New execution" does)."""
        reruns = sum(1 for r in self.workspace.executions() if r.get("rerun_of") == record["name"])
        name = f"{record['name'][:70]}-rerun{reruns + 1}"
        arn = self.start_execution(name, json.loads(record["input"]))
        self.progress(f"execution started: {name} (rerun of {record['name']})")
        [result] = self.wait([arn], dropped_at=None, extra={"rerun_of": record["name"]})
        return result

    def wait(
        self, arns: list[str], dropped_at: float | None, extra: dict | None = None
    ) -> list[dict]:
        """Follow executions to the end, printing each state as it is entered; save records."""
        sfn, seen, pending = self._client("stepfunctions"), {arn: 0 for arn in arns}, set(arns)
        deadline = time.monotonic() + self.execution_timeout
        last_state: dict[str, str] = {}
        last_news = {arn: time.monotonic() for arn in arns}
        while pending:
            if time.monotonic() > deadline:
                stuck = ", ".join(f"{a.rsplit(':', 1)[-1]} in {last_state.get(a)}" for a in pending)
                raise TimeoutError(
                    f"executions still running after {self.execution_timeout:.0f}s: {stuck}; "
                    f"see {self.workspace.logs} (dbt-*.log, trigger.log)"
                )
            for arn in sorted(pending):
                events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
                for event in events[seen[arn] :]:
                    if event["type"].endswith("StateEntered"):
                        name = event["stateEnteredEventDetails"]["name"]
                        last_state[arn] = name
                        last_news[arn] = time.monotonic()
                        self.progress(f"  {arn.rsplit(':', 1)[-1][:48]}: {name}")
                seen[arn] = len(events)
                quiet_for = time.monotonic() - last_news[arn]
                if quiet_for >= PROGRESS_HEARTBEAT_SECONDS:
                    last_news[arn] = time.monotonic()
                    short = arn.rsplit(":", 1)[-1][:48]
                    self.progress(f"  {short}: still in {last_state.get(arn)}")
                if sfn.describe_execution(executionArn=arn)["status"] in TERMINAL:
                    pending.discard(arn)
            if pending:
                time.sleep(0.2)
        self._collect_notifications()
        records = [self._record(arn, dropped_at, extra or {}) for arn in arns]
        for record in records:
            self.workspace.save_execution(record)
            self.progress(
                f"execution {record['status']}: {record['name']} "
                f"({record['duration_seconds']:.1f}s)"
            )
        return records

    def _collect_notifications(self) -> None:
        sqs = self._client("sqs")
        while batch := sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                self.notifications.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, arn: str, dropped_at: float | None, extra: dict) -> dict:
        sfn = self._client("stepfunctions")
        described = sfn.describe_execution(executionArn=arn)
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        execution_input = json.loads(described["input"])
        run_id = execution_input.get("run_id", "")
        started, stopped = described["startDate"], described.get("stopDate")
        record = {
            "name": described["name"],
            "arn": arn,
            "run_id": run_id,
            "kind": execution_input.get("kind"),
            "input": described["input"],
            "status": described["status"],
            "error": described.get("error"),
            "cause": described.get("cause"),
            "started_at": started.isoformat(),
            "stopped_at": stopped.isoformat() if stopped else None,
            "duration_seconds": (stopped - started).total_seconds() if stopped else None,
            "path": [
                e["stateEnteredEventDetails"]["name"]
                for e in events
                if e["type"].endswith("StateEntered")
            ],
            "stage_seconds": stage_seconds(events),
            "engine_seconds": dict(self.timings.by_run.get(run_id, {})),
            "metrics": self.workspace.run_metrics(run_id),
            "notifications": [n for n in self.notifications if n.get("execution") == arn],
            **extra,
        }
        if dropped_at is not None:
            record["drop_to_start_seconds"] = round(started.timestamp() - dropped_at, 3)
            if stopped is not None:
                record["drop_to_end_seconds"] = round(stopped.timestamp() - dropped_at, 3)
        return record


def stage_seconds(events: list[dict]) -> dict[str, float]:
    """Seconds spent in each Task state (summed over loops), from the execution history."""
    entered: dict[str, datetime] = {}
    totals: dict[str, float] = {}
    for event in events:
        if event["type"] == "TaskStateEntered":
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif event["type"] == "TaskStateExited":
            name = event["stateExitedEventDetails"]["name"]
            if name in entered:
                seconds = (event["timestamp"] - entered.pop(name)).total_seconds()
                totals[name] = round(totals.get(name, 0.0) + seconds, 3)
    return totals
