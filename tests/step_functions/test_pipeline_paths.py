"""The pipeline ASL on moto's interpreter: which path each situation takes.

The Glue job run and the dbt task call functions injected here (the real engines
are covered end to end in tests/e2e); the injected Glue job writes only the run
metrics record the state machine reads, never silver.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field

import boto3
import pytest

from local_twin.provision import GLUE_JOB_NAME, GOLD_REFRESH_TABLE
from local_twin.twin import Twin
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace

LOCK_KEY = {"pk": {"S": "gold-refresh"}}


@dataclass
class Scenario:
    """What the injected Glue job and dbt task do in the current test."""

    quarantine_ratio: float = 0.0
    rejected_files: list = field(default_factory=list)
    glue_error: str | None = None
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

    def glue(self, workspace: Workspace, job_name: str, arguments: dict) -> None:
        self.glue_calls.append((job_name, arguments))
        self.running_glue += 1
        self.max_parallel_glue = max(self.max_parallel_glue, self.running_glue)
        try:
            self._glue_work(workspace, arguments)
        finally:
            self.running_glue -= 1

    def _glue_work(self, workspace: Workspace, arguments: dict) -> None:
        if self.glue_gate is not None:
            self.glue_gate.wait(30)
        if self.glue_error:
            raise RuntimeError(self.glue_error)
        run_id = arguments["--run_id"]
        record = {
            "run_id": run_id,
            "counts": {"read": 10, "inserted": 10, "quarantined": 0},
            "quarantine_ratio": self.quarantine_ratio,
            "rejected_files": self.rejected_files,
            "delta_versions": {"silver/sales": 1},
        }
        body = json.dumps(record)
        workspace.run_metrics_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        workspace.run_metrics_path(run_id).write_text(body)
        boto3.client("s3").put_object(
            Bucket=LAKE_BUCKET, Key=f"runs/{run_id}/metrics.json", Body=body
        )

    def dbt(self, spec) -> int:
        self.dbt_calls.append(spec)
        self.running_dbt += 1
        self.max_parallel_dbt = max(self.max_parallel_dbt, self.running_dbt)
        self.dbt_started.set()
        try:
            if self.dbt_gate is not None and len(self.dbt_calls) == 1:
                self.dbt_gate.wait(30)
            return self.dbt_exit_code
        finally:
            self.running_dbt -= 1


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
        return self.twin.start_execution(name, payload)

    def start_stream(self) -> str:
        """A stream execution as the trigger starts it for a burst (with a manifest)."""
        name = f"stream-{uuid.uuid4().hex[:12]}"
        manifest = f"s3://{LAKE_BUCKET}/manifests/{name}.json"
        payload = {"run_id": name, "kind": "stream", "manifest_uri": manifest, "object_count": 30}
        return self.twin.start_execution(name, payload)

    def run(self, **scenario) -> dict:
        self.scenario = Scenario(**scenario)
        [record] = self.twin.wait([self.start()], dropped_at=None)
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
    assert "lock_owner" not in stop_twin.lock_item()


def test_quality_breach_stops_before_gold(stop_twin):
    rejected = [{"uri": "s3://sales-raw/landing/sales/x.csv", "reason": "header_mismatch"}]
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
    [record] = stop_twin.twin.wait([arn], dropped_at=None)
    assert record["status"] == "SUCCEEDED"
    assert "Glue.ConcurrentRunsExceededException" in history_errors(arn)
    assert record["path"].count("RunGlueJob") == 1  # retried inside the state, not re-entered
    runs = glue.get_job_runs(JobName=GLUE_JOB_NAME)["JobRuns"]
    assert {r["Id"]: r["JobRunState"] for r in runs}[blocker["JobRunId"]] == "SUCCEEDED"


def test_stream_runs_the_same_silver_job_with_the_stream_loader(stop_twin):
    stop_twin.scenario = Scenario()
    [record] = stop_twin.twin.wait([stop_twin.start_stream()], dropped_at=None)
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
    records = stop_twin.twin.wait([batch, stream], dropped_at=None)
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
    [late] = stop_twin.twin.wait([stop_twin.start("landing/sales/second.csv")], dropped_at=None)
    stop_twin.scenario.dbt_gate.set()
    [first] = stop_twin.twin.wait([holder], dropped_at=None)
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
