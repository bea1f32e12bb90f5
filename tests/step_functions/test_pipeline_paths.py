"""The pipeline ASL on moto's interpreter: which path each situation takes.

The Glue job run and the dbt task call functions injected here (the real engines
are covered end to end in tests/e2e); the injected Glue job writes only the run
record the state machine reads (metrics.json, then its bounded summary.json, as
the real job does), never silver.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from sales_lake.run_metrics import summary_of

from local_twin.aws_hooks import GlueRunEnded
from local_twin.provision import GLUE_JOB_NAME, GOLD_REFRESH_TABLE
from local_twin.twin import Twin
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace

LOCK_KEY = {"pk": {"S": "gold-refresh"}}


@dataclass
class Scenario:
    """What the injected Glue job and dbt task do in the current test."""

    quarantine_ratio: float = 0.0
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
        record = self.record(run_id)
        put_lake_object(workspace, f"runs/{run_id}/metrics.json", json.dumps(record))
        if self.write_summary:
            summary = record if self.summary_is_full_record else summary_of(record)
            put_lake_object(workspace, f"runs/{run_id}/summary.json", json.dumps(summary))

    def record(self, run_id: str) -> dict:
        """A full run metrics record (docs/contracts.md), `sources` objects long."""
        read = 10 * self.sources
        quarantined = round(read * self.quarantine_ratio)
        return {
            "run_id": run_id,
            "job": "batch_to_silver",
            "status": "SUCCEEDED",
            "counts": {"read": read, "inserted": read - quarantined, "updated": 0,
                       "unchanged": 0, "duplicates": 0, "quarantined": quarantined},
            "quarantine_ratio": self.quarantine_ratio,
            "rejected_files": self.rejected_files,
            "sources": [
                {"uri": f"s3://{RAW_BUCKET}/landing/sales/part-{i:06d}.csv", "version": "v1",
                 "rows_read": 10, "date_format": "dd/MM/yyyy", "encoding": "utf-8"}
                for i in range(self.sources)
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
        payload = {"run_id": name, "kind": "batch", "manifest_uri": manifest,
                   "object_count": object_count}
        return self.twin.executions.start(name, payload)

    def start_stream(self) -> str:
        """A stream execution as the trigger starts it for a burst (with a manifest)."""
        name = f"stream-{uuid.uuid4().hex[:12]}"
        manifest = f"s3://{LAKE_BUCKET}/manifests/{name}.json"
        payload = {"run_id": name, "kind": "stream", "manifest_uri": manifest, "object_count": 30}
        return self.twin.executions.start(name, payload)

    def run(self, **scenario) -> dict:
        self.scenario = Scenario(**scenario)
        [record] = self.twin.executions.wait([self.start()], dropped_at=None)
        return record

    def lock_item(self) -> dict:
        table = boto3.client("dynamodb")
        return table.get_item(TableName=GOLD_REFRESH_TABLE, Key=LOCK_KEY, ConsistentRead=True)[
            "Item"
        ]


@pytest.fixture(scope="module")
def stop_twin(tmp_path_factory):
    harness = ScenarioTwin(tmp_path_factory)
    with harness.twin:
        yield harness


def history_errors(execution_arn: str) -> list[str]:
    events = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )["events"]
    return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]


def test_success_runs_glue_then_dbt_and_releases_the_lock(stop_twin):
    record = stop_twin.run()
    assert record["status"] == "SUCCEEDED"
    path = record["path"]
    expected = ["RunGlueJob", "ReadRunMetrics", "QualityGate", "MarkGoldDirty", "TryTakeGoldLock"]
    expected += ["ClearGoldDirty", "RunDbt", "CheckDbtExitCode", "ReleaseGoldLock"]
    assert [s for s in path if s in expected] == expected
    assert path[-1] == "PipelineSucceeded"
    assert record["notifications"] == []
    [(job_name, arguments)] = stop_twin.scenario.glue_calls
    assert job_name == GLUE_JOB_NAME
    assert arguments["--source_kind"] == "batch"
    assert arguments["--run_id"] == record["run_id"]
    assert arguments["--lake_uri"] == f"s3://{LAKE_BUCKET}"
    assert arguments["--source_uris"].startswith(f"s3://{RAW_BUCKET}/")
    [dbt] = stop_twin.scenario.dbt_calls
    assert dbt.environment["RUN_ID"] == record["run_id"]
    assert dbt.environment["LAKE_URI"] == f"s3://{LAKE_BUCKET}"
    item = stop_twin.lock_item()
    assert "lock_owner" not in item and item["dirty"] == {"BOOL": False}
    assert item["last_refreshed_by"]["S"] == record["arn"]


def test_glue_failure_notifies_and_skips_gold(stop_twin):
    record = stop_twin.run(glue_error="cannot parse landing/sales/orders.csv")
    assert record["status"] == "FAILED"
    assert "GlueJobFailed" in record["path"] and "RunDbt" not in record["path"]
    assert record["path"][-3:] == ["BuildFailureNotice", "PublishFailureNotice", "PipelineFailed"]
    [notice] = record["notifications"]
    assert notice["outcome"] == "FAILED"
    assert "Glue job" in notice["what_failed"]
    assert "cannot parse landing/sales/orders.csv" in notice["details"]
    assert notice["objects"] == f"s3://{RAW_BUCKET}/landing/sales/orders.csv"
    assert notice["run_id"] == record["run_id"]
    assert record["name"] in notice["how_to_rerun"]
    assert stop_twin.scenario.dbt_calls == []


def test_dbt_failure_notifies_and_frees_the_lock(stop_twin):
    record = stop_twin.run(dbt_exit_code=1)
    assert record["status"] == "FAILED"
    assert "DbtExitedNonZero" in record["path"]
    assert "ReleaseGoldLockAfterFailure" in record["path"]
    [notice] = record["notifications"]
    assert "gold refresh" in notice["what_failed"]
    assert '"ExitCode":1' in notice["details"]
    assert "Essential container in task exited" in notice["details"]
    run_results = f"s3://{LAKE_BUCKET}/runs/{record['run_id']}/dbt/run_results.json"
    assert run_results in notice["details"]
    assert "lock_owner" not in stop_twin.lock_item()
    # ecs:runTask.sync fails the state itself, as on AWS: the exit-code Choice is not reached.
    assert history_errors(record["arn"]) == ["States.TaskFailed"]
    assert "ClassifyDbtFailure" in record["path"] and "CheckDbtExitCode" not in record["path"]


def test_quality_breach_stops_before_gold(stop_twin):
    rejected = [{"uri": "s3://sales-raw/landing/sales/x.csv", "reason": "header_mismatch",
                 "detail": "21 columns, expected 24"}]
    record = stop_twin.run(rejected_files=rejected)
    assert record["status"] == "FAILED"
    assert record["error"] == "DataQualityBreach"
    assert record["path"][-4:] == [
        "BuildQualityNotice",
        "PublishQualityNotice",
        "ApplyBreachPolicy",
        "StoppedOnQualityBreach",
    ]
    assert stop_twin.scenario.dbt_calls == []
    [notice] = record["notifications"]
    assert notice["outcome"] == "DATA_QUALITY_BREACH"
    assert notice["rejected_files"] == rejected


def test_quarantine_ratio_over_threshold_is_a_breach(stop_twin):
    assert stop_twin.run(quarantine_ratio=0.04)["status"] == "SUCCEEDED"  # threshold 0.05
    record = stop_twin.run(quarantine_ratio=0.2)
    assert "BuildQualityNotice" in record["path"] and record["status"] == "FAILED"


def test_concurrent_glue_run_is_retried_with_backoff(stop_twin):
    glue = boto3.client("glue")
    stop_twin.scenario = Scenario(glue_gate=threading.Event())
    blocker = glue.start_job_run(JobName=GLUE_JOB_NAME, Arguments={"--run_id": "blocker"})
    arn = stop_twin.start()
    for _ in range(200):  # until the execution has been refused at least once
        if "Glue.ConcurrentRunsExceededException" in history_errors(arn):
            break
        threading.Event().wait(0.05)
    stop_twin.scenario.glue_gate.set()
    [record] = stop_twin.twin.executions.wait([arn], dropped_at=None)
    assert record["status"] == "SUCCEEDED"
    assert "Glue.ConcurrentRunsExceededException" in history_errors(arn)
    assert record["path"].count("RunGlueJob") == 1  # retried inside the state, not re-entered
    runs = glue.get_job_runs(JobName=GLUE_JOB_NAME)["JobRuns"]
    assert {r["Id"]: r["JobRunState"] for r in runs}[blocker["JobRunId"]] == "SUCCEEDED"


def test_stream_runs_the_same_silver_job_with_the_stream_loader(stop_twin):
    stop_twin.scenario = Scenario()
    [record] = stop_twin.twin.executions.wait([stop_twin.start_stream()], dropped_at=None)
    assert record["status"] == "SUCCEEDED" and "UseStreamLoader" in record["path"]
    [(job_name, arguments)] = stop_twin.scenario.glue_calls
    assert job_name == GLUE_JOB_NAME  # one job for every silver writer
    assert arguments["--source_kind"] == "stream"
    assert arguments["--manifest_uri"] == json.loads(record["input"])["manifest_uri"]
    assert "--source_uris" not in arguments


def test_batch_and_stream_silver_writers_never_run_at_once(stop_twin):
    """Both loaders write silver/sales: the one job admits one run; the other waits."""
    stop_twin.scenario = Scenario(glue_gate=threading.Event())
    batch = stop_twin.start("landing/sales/during-stream.csv")
    stream = stop_twin.start_stream()
    for _ in range(200):  # until the second writer has been refused at least once
        refused = [history_errors(arn) for arn in (batch, stream)]
        if any("Glue.ConcurrentRunsExceededException" in errors for errors in refused):
            break
        threading.Event().wait(0.05)
    stop_twin.scenario.glue_gate.set()
    records = stop_twin.twin.executions.wait([batch, stream], dropped_at=None)
    assert [r["status"] for r in records] == ["SUCCEEDED", "SUCCEEDED"]
    calls = stop_twin.scenario.glue_calls
    assert {name for name, _ in calls} == {GLUE_JOB_NAME}
    assert sorted(args["--source_kind"] for _, args in calls) == ["batch", "stream"]
    assert stop_twin.scenario.max_parallel_glue == 1


def test_refreshes_never_overlap_and_the_last_commit_is_refreshed(stop_twin):
    """A refresh running while another run commits: the second delegates, the holder loops."""
    stop_twin.scenario = Scenario(dbt_gate=threading.Event())
    holder = stop_twin.start("landing/sales/first.csv")
    assert stop_twin.scenario.dbt_started.wait(30)
    late_arn = stop_twin.start("landing/sales/second.csv")
    [late] = stop_twin.twin.executions.wait([late_arn], dropped_at=None)
    stop_twin.scenario.dbt_gate.set()
    [first] = stop_twin.twin.executions.wait([holder], dropped_at=None)
    assert late["status"] == "SUCCEEDED" and late["path"][-1] == "GoldRefreshDelegated"
    assert "RunDbt" not in late["path"]
    assert first["status"] == "SUCCEEDED"
    assert first["path"].count("RunDbt") == 2  # refreshed again after the late commit
    assert stop_twin.scenario.max_parallel_dbt == 1
    item = stop_twin.lock_item()
    assert item["dirty"] == {"BOOL": False} and "lock_owner" not in item


def test_lock_of_a_dead_holder_is_taken_over(stop_twin):
    finished = stop_twin.run()
    boto3.client("dynamodb").update_item(
        TableName=GOLD_REFRESH_TABLE,
        Key=LOCK_KEY,
        UpdateExpression="SET lock_owner = :dead",
        ExpressionAttributeValues={":dead": {"S": finished["arn"]}},
    )
    record = stop_twin.run()
    assert record["status"] == "SUCCEEDED"
    assert "TakeOverGoldLock" in record["path"] and "RunDbt" in record["path"]
    assert stop_twin.lock_item()["taken_over_from"]["S"] == finished["arn"]


def test_rerun_uses_the_original_input_under_a_new_name(stop_twin):
    failed = stop_twin.run(glue_error="bucket unreachable")
    stop_twin.scenario = Scenario()  # the cause is fixed
    rerun = stop_twin.twin.rerun(failed)
    assert rerun["status"] == "SUCCEEDED"
    assert rerun["input"] == failed["input"] and rerun["run_id"] == failed["run_id"]
    assert rerun["name"] != failed["name"] and rerun["rerun_of"] == failed["name"]
    [(_, arguments)] = stop_twin.scenario.glue_calls
    assert arguments["--run_id"] == failed["run_id"]
