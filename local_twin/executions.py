"""The state machine's executions as the twin's user sees them: started, followed, recorded.

What a user does in the Step Functions console, as the twin's commands need it:
list the executions, start one, follow executions to the end printing each state as
it is entered (with a heartbeat while a state runs long), read the notifications the
SNS topic delivered to the inbox queue, and save one record per execution in the
workspace (path, seconds per stage and per engine, run metrics, notifications).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING

import boto3

from local_twin.aws_hooks import REGION
from local_twin.progress import Progress
from local_twin.workspace import Workspace

if TYPE_CHECKING:
    from local_twin.engines import EngineTimings

PROGRESS_HEARTBEAT_SECONDS = 15.0
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _client(service: str):
    return boto3.client(service, region_name=REGION)


class Executions:
    """One state machine's executions; `timings` gives each record its engine seconds."""

    def __init__(
        self,
        state_machine_arn: str,
        inbox_url: str,
        workspace: Workspace,
        *,
        timings: EngineTimings,
        progress: Progress,
        timeout: float,
    ) -> None:
        self.state_machine_arn = state_machine_arn
        self.inbox_url = inbox_url  # SQS queue subscribed to the notification topic
        self.workspace = workspace
        self.timings = timings
        self.progress = progress
        self.timeout = timeout
        self.notifications: list[dict] = []

    def arns(self) -> list[str]:
        pages = _client("stepfunctions").get_paginator("list_executions")
        return [
            e["executionArn"]
            for page in pages.paginate(stateMachineArn=self.state_machine_arn)
            for e in page["executions"]
        ]

    def start(self, name: str, execution_input: dict) -> str:
        return _client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(execution_input)
        )["executionArn"]

    def wait(
        self, arns: list[str], dropped_at: float | None, extra: dict | None = None
    ) -> list[dict]:
        """Follow executions to the end, showing the state each one is in (every state
        entered, with -v); save their records."""
        sfn, seen, pending = _client("stepfunctions"), {arn: 0 for arn in arns}, set(arns)
        deadline = time.monotonic() + self.timeout
        last_state: dict[str, str] = {}
        last_news = {arn: time.monotonic() for arn in arns}
        with self.progress.states() as show:
            while pending:
                if time.monotonic() > deadline:
                    stuck = ", ".join(
                        f"{a.rsplit(':', 1)[-1]} in {last_state.get(a)}" for a in pending
                    )
                    raise TimeoutError(
                        f"executions still running after {self.timeout:.0f}s: {stuck}; "
                        f"see {self.workspace.logs} (dbt-*.log, trigger.log)"
                    )
                for arn in sorted(pending):
                    short = arn.rsplit(":", 1)[-1][:48]
                    for name in _entered_states(sfn, arn, seen):
                        last_state[arn], last_news[arn] = name, time.monotonic()
                        self.progress.detail(f"  {short}: {name}")
                        show(arn, f"{short}: {name}")
                    if time.monotonic() - last_news[arn] >= PROGRESS_HEARTBEAT_SECONDS:
                        last_news[arn] = time.monotonic()
                        self.progress.detail(f"  {short}: still in {last_state.get(arn)}")
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
        sqs = _client("sqs")
        while batch := sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                self.notifications.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, arn: str, dropped_at: float | None, extra: dict) -> dict:
        sfn = _client("stepfunctions")
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


def _entered_states(sfn, arn: str, seen: dict[str, int]) -> list[str]:
    """The states `arn` entered since the last call (`seen`: history events read)."""
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in events[seen[arn] :]
        if e["type"].endswith("StateEntered")
    ]
    seen[arn] = len(events)
    return entered
