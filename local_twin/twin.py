"""The local twin: the event-driven pipeline, offline, with the real artifacts.

moto plays the AWS control plane (S3, EventBridge, SQS, SNS, DynamoDB, Step
Functions running step_functions/pipeline.asl.json, Glue, ECS); the twin adds
the services moto cannot play: Lambda for the trigger and for the glue_run_ended
function, which completes a silver run's task token from Glue's run-ended event
(lambda_service.py; that one serves its queue in the background), and the
compute behind Glue job runs and ECS tasks (engines.py). It follows and records the
executions as a console user would (executions.py). Twin only composes these and
offers what a user does: drop files, deliver the events, rerun an execution.

    with Twin(Workspace.at("workspace")) as twin:
        records = twin.drop([Path("data/sample/orders.csv")])
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

import boto3
from sales_lake import quality_metrics
from sales_lake.load_options import ARGUMENTS
from sales_lake.rules import RULES
from sales_lake.task_token import HEARTBEAT_SECONDS

from local_twin import engines, provision
from local_twin.aws_hooks import REGION, LocalRuntimes, local_aws
from local_twin.executions import Executions
from local_twin.lambda_runtime import load_asset_module
from local_twin.lambda_service import LambdaService
from local_twin.progress import Progress, quiet
from local_twin.uploads import upload_file
from local_twin.workspace import BATCH_PREFIX, LAKE_BUCKET, RAW_BUCKET, Workspace

INPUT_SUFFIXES = (".csv", ".csv.gz")
TRIGGER_FUNCTION_NAME = "sales-pipeline-trigger"
GLUE_RUN_ENDED_FUNCTION_NAME = "sales-pipeline-glue-run-ended"


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


def trigger_environment(resources: provision.Resources) -> dict[str, str]:
    """The trigger's environment as cdk/ingestion.py sets it, with the twin's resources.

    The variable names belong to lambdas/trigger/trigger_settings.py.
    """
    names = load_asset_module("trigger", "trigger_settings")
    return {
        names.STATE_MACHINE_ARN: resources.state_machine_arn,
        names.LAKE_BUCKET: LAKE_BUCKET,
        names.RAW_BUCKET: RAW_BUCKET,
        names.OBJECT_LEDGER_TABLE: provision.OBJECT_LEDGER_TABLE,
    }


class Twin:
    """A context manager; while open: `resources` (what was provisioned), `trigger`
    (the trigger function as Lambda runs it) and `executions` (the state machine's)."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        glue_runner=None,
        ecs_runner=None,
        progress: Progress | None = None,
        quarantine_ratio_threshold: str = str(RULES.max_quarantine_ratio),
        on_quality_breach: str = "stop",
        header_policy: str = "rescue",
        date_order: str = "auto",
        time_scale: float = 0.01,
        execution_timeout: float = 3600.0,
    ) -> None:
        self.workspace = workspace
        self.execution_timeout = execution_timeout
        self.progress = progress or quiet()
        self.timings = engines.EngineTimings()
        self.runtimes = LocalRuntimes(
            glue_runner=glue_runner
            or engines.glue_runner(workspace, self.timings, HEARTBEAT_SECONDS * time_scale),
            ecs_runner=ecs_runner or engines.dbt_runner(workspace, self.timings),
            time_scale=time_scale,
        )
        self.settings = {
            "QuarantineRatioThreshold": quarantine_ratio_threshold,
            "OnQualityBreach": on_quality_breach,
        }
        # As CDK sets them from context (cdk/processing.py): the job's default arguments.
        self.job_arguments = {
            "--header_policy": header_policy,
            "--date_order": date_order,
            "--split_bytes": ARGUMENTS["split_bytes"][0],
            f"--{quality_metrics.ARGUMENT}": quality_metrics.NAMESPACE,
        }
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Twin:
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        self._stack.enter_context(local_aws(self.runtimes))
        self.resources = provision.provision(self.workspace, self.settings, self.job_arguments)
        # Lambda would send the function's logs to CloudWatch; the twin keeps them in the workspace.
        self.trigger = self._stack.enter_context(
            LambdaService(
                "trigger",
                function_name=TRIGGER_FUNCTION_NAME,
                queue_url=self.resources.queue_url,
                queue_arn=self.resources.queue_arn,
                environment=trigger_environment(self.resources),
                log_path=self.workspace.logs / "trigger.log",
            )
        )
        # Glue's run-ended events reach their function as soon as they are sent, as the
        # event-source mapping does on AWS (it completes the task tokens of silver runs).
        self.glue_run_ended = self._stack.enter_context(
            LambdaService(
                "glue_run_ended",
                function_name=GLUE_RUN_ENDED_FUNCTION_NAME,
                queue_url=self.resources.glue_events_url,
                queue_arn=self.resources.glue_events_arn,
                environment={},
                log_path=self.workspace.logs / "glue-run-ended.log",
            )
        )
        self.glue_run_events = self._stack.enter_context(self.glue_run_ended.serve_in_background())
        self.executions = Executions(
            self.resources.state_machine_arn,
            self.resources.inbox_url,
            self.workspace,
            timings=self.timings,
            progress=self.progress,
            timeout=self.execution_timeout,
        )
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    # --- what a user does ------------------------------------------------------------------

    def put_raw_object(self, key: str, body: bytes) -> None:
        """Write to the raw bucket: the workspace folder and moto (which emits the event)."""
        target = self.workspace.object_path(RAW_BUCKET, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        boto3.client("s3", region_name=REGION).put_object(Bucket=RAW_BUCKET, Key=key, Body=body)

    def put_raw_file(self, key: str, path: Path) -> None:
        """`put_raw_object` for a file of any size: copied and uploaded as streams (the
        streaming sink writes its files in the workspace folder already)."""
        target = self.workspace.object_path(RAW_BUCKET, key)
        if not target.exists() or not target.samefile(path):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        upload_file(path, RAW_BUCKET, key, REGION, self.progress)

    def drop(self, files: list[Path]) -> list[dict]:
        """Drop files into landing/sales/ and run every execution they trigger to completion."""
        check_input_files(files)
        dropped_at = time.time()
        for path in files:
            self.put_raw_file(BATCH_PREFIX + path.name, path)
            self.progress(f"dropped {path.name} -> s3://{RAW_BUCKET}/{BATCH_PREFIX}{path.name}")
        started = self.deliver_events()
        return self.executions.wait(started, dropped_at=dropped_at)

    def deliver_events(self) -> list[str]:
        """Drain the buffer queue through the trigger; the execution ARNs it started."""
        before = set(self.executions.arns())
        while (response := self.trigger.poll_once()) is not None:
            if response.get("batchItemFailures"):
                self.progress(
                    f"trigger reported {len(response['batchItemFailures'])} failed message(s); "
                    f"see {self.trigger.log_path}"
                )
                break
        started = [arn for arn in self.executions.arns() if arn not in before]
        for arn in started:
            self.progress(f"execution started: {arn.rsplit(':', 1)[-1]}")
        return started

    def rerun(self, record: dict, accept_quality_breach: str | None = None) -> dict:
        """A new execution with the original input (what the console's "New execution" does);
        `accept_quality_breach` (who) adds the release of objects the gate held."""
        reruns = sum(1 for r in self.workspace.executions() if r.get("rerun_of") == record["name"])
        name = f"{record['name'][:70]}-rerun{reruns + 1}"
        execution_input = json.loads(record["input"])
        if accept_quality_breach:
            execution_input["accept_quality_breach"] = {"by": accept_quality_breach}
        arn = self.executions.start(name, execution_input)
        self.progress(f"execution started: {name} (rerun of {record['name']})")
        [result] = self.executions.wait([arn], dropped_at=None, extra={"rerun_of": record["name"]})
        return result
