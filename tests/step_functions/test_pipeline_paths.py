"""The pipeline ASL on moto's interpreter: which path each situation takes (the harness,
a twin with injected Glue job and dbt task, is in conftest.py)."""

from __future__ import annotations

import json
import threading
import uuid

import boto3

from local_twin.provision import GLUE_JOB_NAME
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET


def test_success_runs_glue_then_dbt_and_releases_the_lock(stop_twin):
    record = stop_twin.run()
    assert record["status"] == "SUCCEEDED"
    path = record["path"]
    expected = ["RunGlueJob", "ReadRunMetrics", "MarkGoldDirty", "TryTakeGoldLock"]
    expected += ["ClearGoldDirty", "RunDbt", "CheckDbtExitCode", "ReleaseGoldLock", "QualityGate"]
    assert [s for s in path if s in expected] == expected
    assert path[-1] == "PipelineSucceeded"
    assert record["notifications"] == []
    [(job_name, arguments)] = stop_twin.scenario.glue_calls
    assert job_name == GLUE_JOB_NAME
    assert arguments["--source_kind"] == "batch"
    assert arguments["--run_id"] == record["run_id"]
    assert arguments["--lake_uri"] == f"s3://{LAKE_BUCKET}"
    assert arguments["--source_uris"].startswith(f"s3://{RAW_BUCKET}/")
    # The job decides the gate per object (sales_lake.quality_gate) from these.
    assert arguments["--quality_policy"] == "stop"
    assert arguments["--max_quarantine_ratio"] == "0.05"
    assert arguments["--accept_quality_breach"] == "none"
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
    assert stop_twin.history_errors(record["arn"]) == ["States.TaskFailed"]
    assert "ClassifyDbtFailure" in record["path"] and "CheckDbtExitCode" not in record["path"]


def test_a_rejected_file_under_stop_fails_the_execution_after_gold(stop_twin):
    rejected = [
        {
            "uri": "s3://sales-raw/landing/sales/x.csv",
            "reason": "header_mismatch",
            "detail": "21 columns, expected 24",
        }
    ]
    record = stop_twin.run(rejected_files=rejected)
    assert record["status"] == "FAILED"
    assert record["error"] == "DataQualityBreach"
    assert record["path"][-5:] == [
        "QualityGate",
        "BuildQualityNotice",
        "PublishQualityNotice",
        "ApplyBreachPolicy",
        "StoppedOnQualityBreach",
    ]
    # Nothing of a rejected file is in silver: gold refreshes for the rest of the run.
    assert len(stop_twin.scenario.dbt_calls) == 1
    [notice] = record["notifications"]
    assert notice["outcome"] == "DATA_QUALITY_BREACH"
    assert notice["rejected_files"] == rejected


def test_an_object_over_the_threshold_is_held_and_fails_the_execution(stop_twin):
    assert stop_twin.run(quarantine_ratio=0.0)["notifications"] == []  # threshold 0.05
    record = stop_twin.run(quarantine_ratio=0.2)
    assert record["status"] == "FAILED" and record["error"] == "DataQualityBreach"
    assert "RunDbt" in record["path"]
    [notice] = record["notifications"]
    assert notice["held_file_count"] == 1
    assert [entry["action"] for entry in notice["breached_files"]] == ["held"]
    assert "accept_quality_breach" in notice["how_to_rerun"]


def test_a_rerun_with_a_release_loads_the_held_object_and_succeeds(stop_twin):
    stop_twin.use(quarantine_ratio=0.2)
    name = f"release-{uuid.uuid4().hex[:8]}"
    payload = {"run_id": name, "kind": "batch", "source_uris": f"s3://{RAW_BUCKET}/x.csv",
               "accept_quality_breach": {"by": "alice"}}  # fmt: skip
    [record] = stop_twin.twin.executions.wait(
        [stop_twin.twin.executions.start(name, payload)], dropped_at=None
    )
    [(_, arguments)] = stop_twin.scenario.glue_calls
    assert json.loads(arguments["--accept_quality_breach"]) == {"by": "alice"}
    assert record["status"] == "SUCCEEDED" and record["path"][-1] == "PipelineSucceeded"
    [notice] = record["notifications"]
    assert notice["held_file_count"] == 0
    assert [entry["action"] for entry in notice["breached_files"]] == ["released"]


def test_concurrent_glue_run_is_retried_with_backoff(stop_twin):
    glue = boto3.client("glue")
    stop_twin.use(glue_gate=threading.Event())
    blocker = glue.start_job_run(JobName=GLUE_JOB_NAME, Arguments={"--run_id": "blocker"})
    arn = stop_twin.start()
    for _ in range(200):  # until the execution has been refused at least once
        if "Glue.ConcurrentRunsExceededException" in stop_twin.history_errors(arn):
            break
        threading.Event().wait(0.05)
    stop_twin.scenario.glue_gate.set()
    [record] = stop_twin.twin.executions.wait([arn], dropped_at=None)
    assert record["status"] == "SUCCEEDED"
    assert "Glue.ConcurrentRunsExceededException" in stop_twin.history_errors(arn)
    assert record["path"].count("RunGlueJob") == 1  # retried inside the state, not re-entered
    runs = glue.get_job_runs(JobName=GLUE_JOB_NAME)["JobRuns"]
    assert {r["Id"]: r["JobRunState"] for r in runs}[blocker["JobRunId"]] == "SUCCEEDED"


def test_stream_runs_the_same_silver_job_with_the_stream_loader(stop_twin):
    stop_twin.use()
    [record] = stop_twin.twin.executions.wait([stop_twin.start_stream()], dropped_at=None)
    assert record["status"] == "SUCCEEDED" and "UseStreamLoader" in record["path"]
    [(job_name, arguments)] = stop_twin.scenario.glue_calls
    assert job_name == GLUE_JOB_NAME  # one job for every silver writer
    assert arguments["--source_kind"] == "stream"
    assert arguments["--manifest_uri"] == json.loads(record["input"])["manifest_uri"]
    assert "--source_uris" not in arguments


def test_batch_and_stream_silver_writers_never_run_at_once(stop_twin):
    """Both loaders write silver/sales: the one job admits one run; the other waits."""
    stop_twin.use(glue_gate=threading.Event())
    batch = stop_twin.start("landing/sales/during-stream.csv")
    stream = stop_twin.start_stream()
    for _ in range(200):  # until the second writer has been refused at least once
        refused = [stop_twin.history_errors(arn) for arn in (batch, stream)]
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
    stop_twin.use(dbt_gate=threading.Event())
    holder = stop_twin.start("landing/sales/first.csv")
    assert stop_twin.scenario.dbt_started.wait(30)
    late_arn = stop_twin.start("landing/sales/second.csv")
    [late] = stop_twin.twin.executions.wait([late_arn], dropped_at=None)
    stop_twin.scenario.dbt_gate.set()
    [first] = stop_twin.twin.executions.wait([holder], dropped_at=None)
    assert late["status"] == "SUCCEEDED" and "GoldRefreshDelegated" in late["path"]
    assert "RunDbt" not in late["path"]
    assert first["status"] == "SUCCEEDED"
    assert first["path"].count("RunDbt") == 2  # refreshed again after the late commit
    assert stop_twin.scenario.max_parallel_dbt == 1
    item = stop_twin.lock_item()
    assert item["dirty"] == {"BOOL": False} and "lock_owner" not in item


def test_lock_of_a_dead_holder_is_taken_over(stop_twin):
    finished = stop_twin.run()
    stop_twin.set_lock_owner(finished["arn"])
    record = stop_twin.run()
    assert record["status"] == "SUCCEEDED"
    assert "TakeOverGoldLock" in record["path"] and "RunDbt" in record["path"]
    assert stop_twin.lock_item()["taken_over_from"]["S"] == finished["arn"]


def test_rerun_uses_the_original_input_under_a_new_name(stop_twin):
    failed = stop_twin.run(glue_error="bucket unreachable")
    stop_twin.use()  # the cause is fixed
    rerun = stop_twin.twin.rerun(failed)
    assert rerun["status"] == "SUCCEEDED"
    assert rerun["input"] == failed["input"] and rerun["run_id"] == failed["run_id"]
    assert rerun["name"] != failed["name"] and rerun["rerun_of"] == failed["name"]
    [(_, arguments)] = stop_twin.scenario.glue_calls
    assert arguments["--run_id"] == failed["run_id"]
