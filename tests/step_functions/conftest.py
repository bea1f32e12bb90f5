"""The harness of the state machine tests: a twin whose Glue job run and dbt task are
functions injected here (the real engines are covered end to end in tests/e2e). The
injected Glue job writes only the run record the state machine reads (metrics.json,
then its bounded summary.json, as the real job does), never silver.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from sales_lake import quality_gate
from sales_lake.load_options import LoadOptions
from sales_lake.run_metrics import summary_of
from sales_lake.task_token import HEARTBEAT_SECONDS, TaskToken

from local_twin.aws_hooks import GlueRunEnded
from local_twin.provision import GOLD_REFRESH_TABLE
from local_twin.twin import Twin
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace

LOCK_KEY = {"pk": {"S": "gold-refresh"}}
TIME_SCALE = 0.01  # the twin's default: HeartbeatSeconds 600 is 6 s here


@dataclass
class Scenario:
    """What the injected Glue job and dbt task do in the current test."""

    quarantine_ratio: float = 0.0  # of every object's rows; the job's gate judges it
    rejected_files: list = field(default_factory=list)
    sources: int = 1  # objects listed in the full record (the summary never lists them)
    glue_error: str | None = None
    glue_end_state: str | None = None  # STOPPED, TIMEOUT, ERROR: the run ends so
    glue_seconds: float = 0.0  # how long a Glue run works
    write_summary: bool = True
    summary_is_full_record: bool = False  # the old contract: the state reads everything
    dbt_exit_code: int = 0
    glue_calls: list = field(default_factory=list)
    dbt_calls: list = field(default_factory=list)
    glue_gate: threading.Event | None = None
    # Complete the task token as the real job does (sales_lake.task_token); otherwise
    # the job "dies" silently and only Glue's run-ended event reports it.
    report_token: bool = False
    dbt_gate: threading.Event | None = None  # blocks the first dbt call until set
    dbt_started: threading.Event = field(default_factory=threading.Event)
    running_dbt: int = 0
    max_parallel_dbt: int = 0
    running_glue: int = 0
    max_parallel_glue: int = 0
    counting: threading.Lock = field(default_factory=threading.Lock)

    def glue(self, workspace: Workspace, job_name: str, arguments: dict) -> None:
        with self.counting:
            self.glue_calls.append((job_name, arguments))
            self.running_glue += 1
            self.max_parallel_glue = max(self.max_parallel_glue, self.running_glue)
        try:
            if self.report_token:
                token, job_run_id = TaskToken.of(arguments)
                work = lambda: self._glue_work(workspace, arguments)  # noqa: E731
                token.report(work, job_run_id, HEARTBEAT_SECONDS * TIME_SCALE)
            else:
                self._glue_work(workspace, arguments)
        finally:
            with self.counting:
                self.running_glue -= 1

    def _glue_work(self, workspace: Workspace, arguments: dict) -> None:
        if self.glue_gate is not None:
            self.glue_gate.wait(30)
        time.sleep(self.glue_seconds)
        if self.glue_error:
            raise RuntimeError(self.glue_error)
        if self.glue_end_state:
            raise GlueRunEnded(self.glue_end_state, f"run ended {self.glue_end_state} by test")
        run_id = arguments["--run_id"]
        record = self.record(run_id, arguments)
        put_lake_object(workspace, f"runs/{run_id}/metrics.json", json.dumps(record))
        if self.write_summary:
            summary = record if self.summary_is_full_record else summary_of(record)
            put_lake_object(workspace, f"runs/{run_id}/summary.json", json.dumps(summary))

    def record(self, run_id: str, arguments: dict | None = None) -> dict:
        """A full run metrics record (docs/contracts.md), `sources` objects long, with the
        per-object gate decided by the job's own rules from the run's arguments."""
        options = LoadOptions.from_args(
            {name.removeprefix("--"): value for name, value in (arguments or {}).items()}
        )
        uris = [f"s3://{RAW_BUCKET}/landing/sales/part-{i:06d}.csv" for i in range(self.sources)]
        rejected_rows = round(10 * self.quarantine_ratio)
        summaries = {i: {"records": 10, "rejected": rejected_rows} for i in range(self.sources)}
        breached = quality_gate.breaches(summaries, options)
        held = len(quality_gate.held_sources(breached))
        read, quarantined = 10 * self.sources, rejected_rows * (self.sources - held)
        return {
            "run_id": run_id,
            "job": "batch_to_silver",
            "status": "SUCCEEDED",
            "counts": {"read": read, "inserted": read - 10 * held - quarantined, "updated": 0,
                       "unchanged": 0, "duplicates": 0, "quarantined": quarantined,
                       "blank": 0, "held": 10 * held},
            "quarantine_ratio": self.quarantine_ratio,
            "quality": {
                "policy": options.quality_policy,
                "max_quarantine_ratio": options.max_quarantine_ratio,
                "released": options.accept_quality_breach,
                "breached_files": [
                    {"uri": uris[b.index], "action": b.action, "ratio": b.ratio,
                     "detail": f"{uris[b.index]}: {b.action}"}
                    for b in breached
                ],
            },
            "rejected_files": self.rejected_files,
            "sources": [
                {"uri": uri, "version": "v1",
                 "rows_read": 10, "date_format": "dd/MM/yyyy", "encoding": "utf-8"}
                for uri in uris
            ],
            "delta_versions": {"silver/sales": 1},
        }  # fmt: skip

    def dbt(self, spec) -> int:
        with self.counting:
            self.dbt_calls.append(spec)
            self.running_dbt += 1
            self.max_parallel_dbt = max(self.max_parallel_dbt, self.running_dbt)
        self.dbt_started.set()
        try:
            if self.dbt_gate is not None and len(self.dbt_calls) == 1:
                self.dbt_gate.wait(30)
            return self.dbt_exit_code
        finally:
            with self.counting:
                self.running_dbt -= 1


def put_lake_object(workspace: Workspace, key: str, body: str) -> None:
    """Where the job writes: the workspace lake folder and moto's S3 (read by the ASL)."""
    path = workspace.object_path(LAKE_BUCKET, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    boto3.client("s3").put_object(Bucket=LAKE_BUCKET, Key=key, Body=body.encode())


class ScenarioTwin:
    def __init__(self, tmp_path_factory, **settings) -> None:
        self.workspace = Workspace.at(tmp_path_factory.mktemp("sfn-ws"))
        self.scenario = Scenario()
        self.twin = Twin(
            self.workspace,
            glue_runner=lambda name, args: self.scenario.glue(self.workspace, name, args),
            ecs_runner=lambda spec: self.scenario.dbt(spec),
            **settings,
        )

    def start(self, key: str = "landing/sales/orders.csv") -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        payload = {"run_id": name, "kind": "batch", "source_uris": f"s3://{RAW_BUCKET}/{key}"}
        return self.twin.executions.start(name, payload)

    def start_manifest(self, object_count: int) -> str:
        """A batch execution as the trigger starts it above 20 objects (with a manifest)."""
        name = f"many-{uuid.uuid4().hex[:12]}"
        manifest = f"s3://{LAKE_BUCKET}/manifests/{name}.json"
        payload = {
            "run_id": name,
            "kind": "batch",
            "manifest_uri": manifest,
            "object_count": object_count,
        }
        return self.twin.executions.start(name, payload)

    def start_stream(self) -> str:
        """A stream execution as the trigger starts it for a burst (with a manifest)."""
        name = f"stream-{uuid.uuid4().hex[:12]}"
        manifest = f"s3://{LAKE_BUCKET}/manifests/{name}.json"
        payload = {"run_id": name, "kind": "stream", "manifest_uri": manifest, "object_count": 30}
        return self.twin.executions.start(name, payload)

    def use(self, **scenario) -> Scenario:
        """What the injected Glue job and dbt task do from now on."""
        self.scenario = Scenario(**scenario)
        return self.scenario

    def run(self, **scenario) -> dict:
        self.use(**scenario)
        [record] = self.twin.executions.wait([self.start()], dropped_at=None)
        return record

    def lock_item(self) -> dict:
        table = boto3.client("dynamodb")
        return table.get_item(TableName=GOLD_REFRESH_TABLE, Key=LOCK_KEY, ConsistentRead=True).get(
            "Item", {}
        )

    def set_lock_owner(self, execution_arn: str) -> None:
        boto3.client("dynamodb").update_item(
            TableName=GOLD_REFRESH_TABLE,
            Key=LOCK_KEY,
            UpdateExpression="SET lock_owner = :owner",
            ExpressionAttributeValues={":owner": {"S": execution_arn}},
        )

    @staticmethod
    def history_errors(execution_arn: str) -> list[str]:
        events = boto3.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
        return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]


@pytest.fixture(scope="session")
def scenario_twin(tmp_path_factory):
    """ScenarioTwin(**twin settings): a twin whose Glue job and dbt task play a Scenario."""
    return lambda **settings: ScenarioTwin(tmp_path_factory, **settings)


@pytest.fixture(scope="module")
def stop_twin(scenario_twin):
    """The twin as deployed by default (OnQualityBreach=stop), shared by a module."""
    harness = scenario_twin()
    with harness.twin:
        yield harness
