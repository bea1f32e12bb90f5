"""Every patch the local twin applies to moto, in one module.

moto (pinned to MOTO_VERSION) emulates the AWS control plane and runs the real
ASL file, but version 5.2.5 cannot run this pipeline unaided. Each hook below
either fixes a moto defect (so the interpreter behaves like Step Functions) or
plugs local Python where AWS would run a managed runtime:

* Glue `.sync`: the interpreter dereferences a callback endpoint that Glue tasks
  never get (`'NoneType' object has no attribute 'interrupt_all'`).   -> fixed
* Glue job runs: moto only flips states; here a run calls `glue_runner` on a
  worker thread (the real Glue script on local Spark).                -> hooked
* ECS and aws-sdk integrations: parameters are not converted from Step
  Functions' PascalCase to the SDK's member names (camelCase for ECS and
  Step Functions' own API) nor responses back, and S3 `Body` stays a
  stream object instead of text.                                      -> fixed
* ECS tasks: a task calls `ecs_runner` (the real dbt container command) on a
  worker thread and stops with its exit code.                         -> hooked
* S3 -> EventBridge events carry the raw key; S3 event keys are URL-encoded
  ('+' for a space), which the trigger function decodes.                -> fixed
* Retry back-off, Wait states and `.sync` polling sleep in real time; they are
  scaled by `time_scale` so a 30 s back-off is 0.3 s locally.         -> hooked

`tests/local_twin/test_twin_hooks.py` is the canary: it fails when a moto
upgrade removes an internal these hooks patch or fixes a defect they work around.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from unittest import mock

import botocore.session
from botocore import xform_name

MOTO_VERSION = "5.2.5"
REGION = "us-east-1"

# (job_name, arguments) -> None; raising marks the run FAILED with the message.
GlueRunner = Callable[[str, dict[str, str]], None]
# (EcsTaskSpec) -> container exit code.
EcsRunner = Callable[["EcsTaskSpec"], int]


@dataclass(frozen=True)
class EcsTaskSpec:
    """What a container would receive: its task definition family, name and environment."""

    cluster: str
    task_definition: str
    container: str
    environment: dict[str, str]
    command: list[str] | None


@dataclass
class LocalRuntimes:
    glue_runner: GlueRunner
    ecs_runner: EcsRunner
    time_scale: float = 0.01


# moto's managed-state models advance on every describe; ours change state only
# when the local work finishes.
_NEVER_ADVANCE = {"progression": "manual", "times": 10**9}
_MANAGED_MODELS = ("glue::job_run", "ecs::task")


def _service_module(name: str):
    import importlib

    base = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
    return importlib.import_module(f"{base}.{name}")


def _run_in_background(name: str, work: Callable[[], None]) -> None:
    threading.Thread(target=work, name=name, daemon=True).start()


# --- Glue -------------------------------------------------------------------


def _glue_patches(runtimes: LocalRuntimes) -> list:
    from moto.glue.models import FakeJob, FakeJobRun
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )

    original_start = FakeJob.start_job_run
    original_as_dict = FakeJobRun.as_dict

    def start_job_run(self, *args, **kwargs) -> str:
        run_id = original_start(self, *args, **kwargs)  # keeps MaxConcurrentRuns checks
        run = next(r for r in self.job_runs if r.job_run_id == run_id)
        run.status = "RUNNING"

        def work() -> None:
            try:
                runtimes.glue_runner(self.name, dict(run.arguments or {}))
                run.status = "SUCCEEDED"
            except Exception as exc:  # the job's failure becomes the run's ErrorMessage
                run.error_message = f"{type(exc).__name__}: {exc}"
                run.error_trace = traceback.format_exc()
                run.status = "FAILED"

        _run_in_background(f"glue-{self.name}-{run_id[:10]}", work)
        return run_id

    def as_dict(self) -> dict[str, Any]:
        result = original_as_dict(self)
        if getattr(self, "error_message", None):
            result["ErrorMessage"] = self.error_message
        return result

    glue_service = _service_module("state_task_service_glue")
    return [
        mock.patch.object(FakeJob, "start_job_run", start_job_run),
        mock.patch.object(FakeJobRun, "as_dict", as_dict),
        # The `.sync` defect: give Glue tasks the callback endpoint the
        # interpreter's clean-up dereferences (it only ever interrupts it).
        mock.patch.object(
            glue_service,
            "_SUPPORTED_INTEGRATION_PATTERNS",
            {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken},
        ),
    ]


# --- ECS --------------------------------------------------------------------


_SERVICE_MODELS: dict = {}


def _operation(service: str, snake_action: str):
    if service not in _SERVICE_MODELS:
        _SERVICE_MODELS[service] = botocore.session.get_session().get_service_model(service)
    model = _SERVICE_MODELS[service]
    by_snake = {xform_name(op): op for op in model.operation_names}
    return model.operation_model(by_snake[snake_action])


def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    """Step Functions' PascalCase parameters -> the SDK's member names (camelCase for ECS, SFN)."""
    operation = _operation(
        self._get_boto_service_name(boto_service_name),
        self._get_boto_service_action(service_action_name),
    )
    self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
    """SDK response -> Step Functions' PascalCase, streamed members (S3 Body) read as text."""
    operation = _operation(
        self._get_boto_service_name(boto_service_name),
        self._get_boto_service_action(service_action_name),
    )
    self._from_boto_response(response, operation.output_shape)


def _task_spec(task, backend) -> EcsTaskSpec:
    definition = backend.describe_task_definition(task.task_definition_arn)
    container_def = definition.container_definitions[0]
    environment = {e["name"]: e["value"] for e in container_def.get("environment") or []}
    command = container_def.get("command")
    name = container_def.get("name")
    for override in (task.overrides or {}).get("containerOverrides", []):
        if override.get("name") == name:
            environment.update({e["name"]: e["value"] for e in override.get("environment", [])})
            command = override.get("command") or command
    return EcsTaskSpec(
        cluster=task.cluster_name,
        task_definition=definition.family,
        container=name,
        environment=environment,
        command=command,
    )


def _ecs_patches(runtimes: LocalRuntimes) -> list:
    from moto.ecs.models import EC2ContainerServiceBackend

    original_run_task = EC2ContainerServiceBackend.run_task

    def run_task(self, *args, **kwargs):
        tasks = original_run_task(self, *args, **kwargs)
        for task in tasks:
            spec = _task_spec(task, self)
            task.status = "RUNNING"

            def work(task=task, spec=spec) -> None:
                try:
                    exit_code = runtimes.ecs_runner(spec)
                    reason = "Essential container in task exited"
                except Exception as exc:  # the runner itself broke: report like a crash
                    exit_code, reason = 255, f"{type(exc).__name__}: {exc}"
                for container in task.containers:
                    container.exitCode = exit_code
                    container.last_status = "STOPPED"
                task.stopped_reason = reason
                task.desired_status = "STOPPED"
                task.status = "STOPPED"

            _run_in_background(f"ecs-{spec.task_definition}", work)
        return tasks

    ecs_service = _service_module("state_task_service_ecs")
    return [
        mock.patch.object(EC2ContainerServiceBackend, "run_task", run_task),
        mock.patch.object(
            ecs_service.StateTaskServiceEcs, "_normalise_parameters", _normalise_parameters
        ),
        mock.patch.object(
            ecs_service.StateTaskServiceEcs, "_normalise_response", _normalise_response
        ),
    ]


# --- aws-sdk integrations ---------------------------------------------------


def _sdk_patches() -> list:
    sdk = _service_module("state_task_service_aws_sdk").StateTaskServiceAwsSdk
    return [
        mock.patch.object(sdk, "_normalise_parameters", _normalise_parameters),
        mock.patch.object(sdk, "_normalise_response", _normalise_response),
    ]


# --- S3 -> EventBridge ------------------------------------------------------


def _s3_event_patches() -> list:
    from urllib.parse import quote_plus

    from moto.s3 import notifications

    original = notifications._send_event_bridge_message

    def send(account_id, bucket, event_name, key) -> None:
        encoded = SimpleNamespace(
            name=quote_plus(key.name, safe="/"),
            size=key.size,
            etag=key.etag,
            version_id=key.version_id,
        )
        original(account_id, bucket, event_name, encoded)

    return [mock.patch.object(notifications, "_send_event_bridge_message", send)]


# --- time -------------------------------------------------------------------


def _time_patches(scale: float) -> list:
    import time as real_time

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    scaled_time = SimpleNamespace(
        sleep=lambda seconds: real_time.sleep(seconds * scale), time=real_time.time
    )

    def wait_interval(self, env, wait_seconds) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)

    callback_service = _service_module("state_task_service_callback")
    return [
        mock.patch.object(retrier_decl, "time", scaled_time),
        mock.patch.object(wait_function.WaitFunction, "_wait_interval", wait_interval),
        mock.patch.object(callback_service, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0.05),
    ]


# --- entry point -------------------------------------------------------------


@contextlib.contextmanager
def local_aws(runtimes: LocalRuntimes) -> Iterator[None]:
    """moto with Step Functions execution on, and every hook above installed."""
    import moto
    from moto import mock_aws
    from moto.moto_api import state_manager

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"local_twin/aws_hooks.py was written for moto {MOTO_VERSION}, found "
            f"{moto.__version__}: run `make setup` (uv.lock pins moto), or re-check each hook "
            "with tests/local_twin/test_twin_hooks.py before changing MOTO_VERSION."
        )
    patches = (
        _glue_patches(runtimes)
        + _ecs_patches(runtimes)
        + _sdk_patches()
        + _s3_event_patches()
        + _time_patches(runtimes.time_scale)
    )
    config = {"stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config), contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        # The interpreter logs every caught error (even IsPresent probes) at ERROR level;
        # the execution history is the record, so keep the console readable.
        interpreter_log = logging.getLogger("moto.stepfunctions.parser")
        stack.callback(interpreter_log.setLevel, interpreter_log.level)
        interpreter_log.setLevel(logging.CRITICAL)
        for model in _MANAGED_MODELS:
            state_manager.set_transition(model_name=model, transition=_NEVER_ADVANCE)
            stack.callback(state_manager.unset_transition, model)
        yield
