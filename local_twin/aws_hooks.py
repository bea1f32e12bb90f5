"""Every patch the local twin applies to moto, in one module.

moto (pinned to MOTO_VERSION) emulates the AWS control plane and runs the real
ASL file, but version 5.2.5 cannot run this pipeline unaided, and where it is
more lenient than AWS the twin would pass what the cloud fails. Each hook below
either fixes a moto defect (so the interpreter behaves like Step Functions),
enforces a rule AWS enforces, or plugs local Python where AWS would run a
managed runtime:

* Glue `.sync`: the interpreter dereferences a callback endpoint that Glue tasks
  never get (`'NoneType' object has no attribute 'interrupt_all'`).   -> fixed
* Glue job runs: moto only flips states; here a run calls `glue_runner` on a
  worker thread (the real Glue script on local Spark), which ends it SUCCEEDED,
  FAILED (an exception) or STOPPED/TIMEOUT/ERROR (GlueRunEnded).      -> hooked
* Glue admission: moto checks MaxConcurrentRuns without a lock and ignores
  JobRunQueuingEnabled; here a start is atomic, and a job with queuing on
  keeps a run beyond the limit WAITING until a slot frees, or FAILED after
  15 minutes like Glue (with queuing off moto refuses, like Glue).    -> enforced
* ECS and aws-sdk integrations: parameters are not converted from Step
  Functions' PascalCase to the SDK's member names (camelCase for ECS and
  Step Functions' own API) nor responses back, and S3 `Body` stays a
  stream object instead of text.                                      -> fixed
* ECS `.sync`: moto returns a stopped task whatever its exit code, ignores
  RunTask `failures` and names RunTask API errors States.Runtime. As on AWS,
  a container exiting non-zero fails the state with States.TaskFailed (cause
  = the task), Failures raise AmazonECS.Unknown, API errors are ECS.<code>.
  `ecs_failures` injects Failures (no capacity).                      -> enforced
* ECS tasks: a task calls `ecs_runner` (the real dbt container command) on a
  worker thread and stops with its exit code.                         -> hooked
* aws-sdk errors of S3 are named `s3.<code>Exception` instead of
  `S3.<code>Exception`.                                                -> fixed
* Payload limit: moto measures a state's output with padded separators and
  refuses exactly 256 KiB, never checks a task's input after Parameters, and
  lets Retry and Catch (States.ALL) handle States.DataLimitExceeded and
  States.Runtime. Here 262,144 bytes of compact UTF-8 JSON is the limit for
  a state's output, a task's result and its input, and both errors are
  terminal: the execution fails, no Retry or Catch applies.            -> enforced
* StartExecution: moto's interpreter backend checks neither the execution
  name (1-80 characters of a limited set) nor the input's 256 KiB.     -> enforced
* S3 -> EventBridge events carry the raw key; S3 event keys are URL-encoded
  ('+' for a space), which the trigger function decodes.                -> fixed
* Glue "Job State Change" events: moto's Glue emits none; a run that ends
  (any state, a queued run that gave up included) sends one to the default
  bus's rules, shaped as Glue's.                                       -> hooked
* Glue job runs get `--JOB_RUN_ID` next to their arguments, as Glue's
  scripts do.                                                          -> hooked
* States.Format: moto passes the template to str.format, so an escaped brace
  (`\\{`) raises a KeyError; the spec's escapes are honoured.       -> fixed
* Task tokens: moto lets a second SendTaskSuccess/Failure replace the first
  outcome and answers it with success; as on AWS, the first completion wins
  and a later one is refused with TaskTimedOut.                        -> enforced
  SendTaskFailure loses its cause, and a missed heartbeat is named
  States.Timeout instead of States.HeartbeatTimeout.                   -> fixed
* Retry back-off, Wait states, HeartbeatSeconds and `.sync` polling sleep in
  real time; they are scaled by `time_scale` so a 30 s back-off is 0.3 s
  locally.                                                             -> hooked

`tests/local_twin/test_twin_hooks.py` is the canary: it fails when a moto
upgrade removes an internal these hooks patch or fixes a defect they work around.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest import mock

import botocore.session
from botocore import xform_name
from botocore.exceptions import ClientError

MOTO_VERSION = "5.2.5"
REGION = "us-east-1"

# Step Functions' payload quota: a state's input or output, a task's result (UTF-8 JSON).
PAYLOAD_LIMIT_BYTES = 256 * 1024
# Errors no Retry or Catch handles, not even States.ALL (docs: "Error handling").
TERMINAL_ERRORS = frozenset({"States.DataLimitExceeded", "States.Runtime"})
# Glue keeps a queued run WAITING for 15 minutes (or 10 attempts), then ends it FAILED.
GLUE_QUEUE_LIMIT_SECONDS = 15 * 60.0
GLUE_END_STATES = ("FAILED", "STOPPED", "TIMEOUT", "ERROR")
_QUEUE_POLL_SECONDS = 0.01

# (job_name, arguments) -> None; raising marks the run FAILED with the message,
# raising GlueRunEnded ends it in the state it names.
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


class GlueRunEnded(Exception):
    """Raised by a GlueRunner to end its run STOPPED, TIMEOUT, ERROR (or FAILED), like Glue can."""

    def __init__(self, state: str, message: str = "") -> None:
        if state not in GLUE_END_STATES:
            raise ValueError(
                f"local_twin/aws_hooks.py: GlueRunEnded takes one of {GLUE_END_STATES}, not "
                f"{state!r}; return from the runner normally to end the run SUCCEEDED"
            )
        super().__init__(message or f"job run ended in state {state}")
        self.state = state


@dataclass
class LocalRuntimes:
    glue_runner: GlueRunner
    ecs_runner: EcsRunner
    time_scale: float = 0.01
    # How long a queued Glue run waits for a slot (AWS seconds, scaled by time_scale).
    glue_queue_limit_seconds: float = GLUE_QUEUE_LIMIT_SECONDS
    # Called on every RunTask: a non-empty list of {"arn", "reason", "detail"} is the
    # response's `failures` (no capacity, ENI limit) and no task starts.
    ecs_failures: Callable[[], list[dict]] | None = None


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


def _task_failed(service, env, error: str, cause: str):
    """A TaskFailed failure event of `service`, named `error`, as the interpreter builds them."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    states_error = error.startswith("States.")
    name = StatesErrorName.from_name(error) if states_error else CustomErrorName(error)
    details = TaskFailedEventDetails(
        error=error,
        cause=cause,
        resource=service._get_sfn_resource(),
        resourceType=service._get_sfn_resource_type(),
    )
    return FailureEvent(
        env=env,
        error_name=name,
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=details),
    )


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


# --- Glue -------------------------------------------------------------------


def _active_runs(job) -> int:
    return sum(run.status in ("STARTING", "RUNNING") for run in job.job_runs)


def _max_runs(job) -> int:
    return job.execution_property.get("MaxConcurrentRuns", 1)


@contextlib.contextmanager
def _admitting_every_run(job) -> Iterator[None]:
    """Lift moto's MaxConcurrentRuns check for one start: the run is queued, not refused."""
    saved = job.execution_property
    job.execution_property = {**saved, "MaxConcurrentRuns": 10**9}
    try:
        yield
    finally:
        job.execution_property = saved


class _GlueRuns:
    """Job runs admitted the way Glue admits them, then run by the local glue_runner."""

    def __init__(self, runtimes: LocalRuntimes) -> None:
        self.runtimes = runtimes
        # moto counts the active runs and appends the new one without a lock: two
        # executions starting at once would both get the one slot.
        self.admission = threading.Lock()
        self.requested_queuing = threading.local()  # StartJobRun's own JobRunQueuingEnabled

    def queuing_enabled(self, job) -> bool:
        requested = getattr(self.requested_queuing, "value", None)
        return bool(
            getattr(job, "job_run_queuing_enabled", False) if requested is None else requested
        )

    def start(self, original_start, job, args, kwargs) -> str:
        with self.admission:
            queued = self.queuing_enabled(job) and (
                _active_runs(job) >= _max_runs(job) or self._first_waiting(job) is not None
            )
            with _admitting_every_run(job) if queued else contextlib.nullcontext():
                run_id = original_start(job, *args, **kwargs)  # refuses when not queued
            run = next(r for r in job.job_runs if r.job_run_id == run_id)
            run.status = "WAITING" if queued else "RUNNING"
        _run_in_background(f"glue-{job.name}-{run_id[:10]}", lambda: self._work(job, run))
        return run_id

    @staticmethod
    def _first_waiting(job):
        return next((run for run in job.job_runs if run.status == "WAITING"), None)

    def _wait_for_slot(self, job, run) -> bool:
        limit = self.runtimes.glue_queue_limit_seconds
        deadline = time.monotonic() + limit * self.runtimes.time_scale
        while time.monotonic() < deadline:
            with self.admission:
                if self._first_waiting(job) is run and _active_runs(job) < _max_runs(job):
                    run.status = "RUNNING"
                    return True
            time.sleep(_QUEUE_POLL_SECONDS)
        with self.admission:
            run.error_message = (
                f"Job run waited {limit:.0f} s in the job-run queue without a slot "
                f"(MaxConcurrentRuns {_max_runs(job)}); Glue gives up after 15 minutes or 10 "
                "attempts"
            )
            run.status = "FAILED"
        return False

    def _work(self, job, run) -> None:
        if run.status == "WAITING" and not self._wait_for_slot(job, run):
            _announce_end(job, run)
            return
        try:
            # Glue hands the script its run id as --JOB_RUN_ID, next to the run's arguments.
            arguments = {**(run.arguments or {}), "--JOB_RUN_ID": run.job_run_id}
            self.runtimes.glue_runner(job.name, arguments)
            state, message = "SUCCEEDED", None
        except GlueRunEnded as ended:
            state, message = ended.state, str(ended)
        except Exception as exc:  # the job's failure becomes the run's ErrorMessage
            state, message = "FAILED", f"{type(exc).__name__}: {exc}"
            run.error_trace = traceback.format_exc()
        if message:
            run.error_message = message
        run.completed_on = datetime.now(UTC)  # moto stamps it at the start
        run.status = state
        _announce_end(job, run)


def _announce_end(job, run) -> None:
    """Glue's "Glue Job State Change" event for a run that ended, to the default bus's
    rules (moto's Glue emits none), shaped as Glue's (docs: EventBridge events of Glue)."""
    from moto.core.utils import unix_time
    from moto.events.models import events_backends
    from moto.events.utils import _BASE_EVENT_MESSAGE

    event = {
        **_BASE_EVENT_MESSAGE,
        "id": run.job_run_id,
        "detail-type": "Glue Job State Change",
        "source": "aws.glue",
        "account": job.backend.account_id,
        "time": unix_time(),
        "region": job.backend.region_name,
        "detail": {
            "jobName": job.name,
            "severity": "INFO" if run.status == "SUCCEEDED" else "ERROR",
            "state": run.status,
            "jobRunId": run.job_run_id,
            "message": getattr(run, "error_message", None) or "Job run succeeded",
        },
    }
    backend = events_backends[event["account"]][event["region"]]
    for bus in backend.event_buses.values():
        for rule in bus.rules.values():
            rule.send_to_targets(event, transform_input=False)


def _glue_patches(runtimes: LocalRuntimes) -> list:
    from moto.glue.models import FakeJob, FakeJobRun
    from moto.glue.responses import GlueResponse
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )

    runs = _GlueRuns(runtimes)
    original_start = FakeJob.start_job_run
    original_job_as_dict = FakeJob.as_dict
    original_run_as_dict = FakeJobRun.as_dict
    original_create_job = GlueResponse.create_job
    original_start_response = GlueResponse.start_job_run

    def start_job_run(self, *args, **kwargs) -> str:
        return runs.start(original_start, self, args, kwargs)

    def create_job(self):
        """Keep the job's JobRunQueuingEnabled, which moto drops."""
        result = original_create_job(self)
        job = self.glue_backend.get_job(self._get_param("Name"))
        job.job_run_queuing_enabled = bool(self._get_param("JobRunQueuingEnabled"))
        return result

    def start_job_run_response(self):
        """A run's own JobRunQueuingEnabled wins over the job's, as in Glue."""
        runs.requested_queuing.value = self._get_param("JobRunQueuingEnabled")
        try:
            return original_start_response(self)
        finally:
            runs.requested_queuing.value = None

    def job_as_dict(self) -> dict[str, Any]:
        result = original_job_as_dict(self)
        result["JobRunQueuingEnabled"] = getattr(self, "job_run_queuing_enabled", False)
        return result

    def run_as_dict(self) -> dict[str, Any]:
        result = original_run_as_dict(self)
        if getattr(self, "error_message", None):
            result["ErrorMessage"] = self.error_message
        return result

    glue_service = _service_module("state_task_service_glue")
    return [
        mock.patch.object(FakeJob, "start_job_run", start_job_run),
        mock.patch.object(FakeJob, "as_dict", job_as_dict),
        mock.patch.object(FakeJobRun, "as_dict", run_as_dict),
        mock.patch.object(GlueResponse, "create_job", create_job),
        mock.patch.object(GlueResponse, "start_job_run", start_job_run_response),
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


class _RunTaskFailures(Exception):
    """RunTask answered HTTP 200 with Failures: no task was placed."""

    def __init__(self, failures: list[dict]) -> None:
        super().__init__(_compact_json(failures))
        self.failures = failures


def _ecs_normalise_response(self, response, boto_service_name=None, service_action_name=None):
    """As above; and `.sync` (like .waitForTaskToken) fails on Failures, as on AWS."""
    _normalise_response(self, response, boto_service_name, service_action_name)
    action = self._get_boto_service_action(service_action_name)
    failures = response.get("Failures") if isinstance(response, dict) else None
    if action == "run_task" and failures and self.resource.condition is not None:
        raise _RunTaskFailures(failures)


def _ecs_from_error(original):
    def from_error(self, env, ex):
        """Name ECS failures as Step Functions does, instead of States.Runtime."""
        if isinstance(ex, _RunTaskFailures):
            cause = _compact_json({"Failures": ex.failures})
            return _task_failed(self, env, "AmazonECS.Unknown", cause)
        if isinstance(ex, ClientError):
            code = ex.response["Error"]["Code"]
            name = code if code.endswith("Exception") else f"{code}Exception"
            return _task_failed(self, env, f"ECS.{name}", ex.response["Error"].get("Message", ""))
        return original(self, env, ex)

    return from_error


def _container_failed(task: dict) -> bool:
    """A stopped task fails `.sync` when a container did not exit 0 (or never ran)."""
    return any(c.get("ExitCode") != 0 for c in task.get("Containers") or [{}])


def _ecs_sync_resolver(original):
    def build_sync_resolver(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        """Fail the state like AWS: States.TaskFailed, cause = the stopped task."""
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )

        resolve = original(
            self, env, resource_runtime_part, normalised_parameters, state_credentials
        )

        def resolver():
            task = resolve()
            if task is not None and _container_failed(task):
                failure = _task_failed(self, env, "States.TaskFailed", _compact_json(task))
                raise FailureEventException(failure_event=failure)
            return task

        return resolver

    return build_sync_resolver


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
    from moto.core.responses import ActionResult
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    original_run_task = EC2ContainerServiceBackend.run_task
    original_run_task_response = EC2ContainerServiceResponse.run_task

    def run_task_response(self):
        """RunTask with injected Failures places no task, as when Fargate has no capacity."""
        failures = runtimes.ecs_failures() if runtimes.ecs_failures else []
        if failures:
            return ActionResult({"tasks": [], "failures": failures})
        return original_run_task_response(self)

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

    ecs = _service_module("state_task_service_ecs").StateTaskServiceEcs
    return [
        mock.patch.object(EC2ContainerServiceBackend, "run_task", run_task),
        mock.patch.object(EC2ContainerServiceResponse, "run_task", run_task_response),
        mock.patch.object(ecs, "_normalise_parameters", _normalise_parameters),
        mock.patch.object(ecs, "_normalise_response", _ecs_normalise_response),
        mock.patch.object(ecs, "_from_error", _ecs_from_error(ecs._from_error)),
        mock.patch.object(
            ecs, "_build_sync_resolver", _ecs_sync_resolver(ecs._build_sync_resolver)
        ),
    ]


# --- aws-sdk integrations ---------------------------------------------------


def _sdk_patches() -> list:
    module = _service_module("state_task_service_aws_sdk")
    sdk = module.StateTaskServiceAwsSdk
    return [
        mock.patch.object(sdk, "_normalise_parameters", _normalise_parameters),
        mock.patch.object(sdk, "_normalise_response", _normalise_response),
        # Error names are <Service>.<Code>Exception with the service in PascalCase.
        mock.patch.dict(module._SERVICE_ERROR_NAMES, {"s3": "S3"}),
    ]


# --- payload limit ------------------------------------------------------------


def payload_bytes(value: Any) -> int:
    """Size Step Functions counts: the value as compact JSON, in UTF-8 bytes."""
    text = value if isinstance(value, str) else _compact_json(value)
    return len(text.encode("utf-8"))


def within_payload_limit(value: Any) -> bool:
    return payload_bytes(value) <= PAYLOAD_LIMIT_BYTES


def _input_limit(original):
    def before_eval_execution(self, env, resource_runtime_part, raw_parameters, state_credentials):
        """A task's input after Parameters counts too (docs: States.DataLimitExceeded)."""
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )

        if not within_payload_limit(raw_parameters):
            cause = (
                f"The input of the state/task '{self._get_sfn_resource_type()}' after "
                f"Parameters is {payload_bytes(raw_parameters)} bytes, over the "
                f"{PAYLOAD_LIMIT_BYTES}-byte limit."
            )
            failure = _task_failed(self, env, "States.DataLimitExceeded", cause)
            raise FailureEventException(failure_event=failure)
        original(self, env, resource_runtime_part, raw_parameters, state_credentials)

    return before_eval_execution


def _terminal_errors(original):
    def eval_body(self, env) -> None:
        """No ErrorEquals (Retry or Catch, States.ALL included) matches a terminal error."""
        error_name = env.stack[-1]
        if getattr(error_name, "error_name", None) in TERMINAL_ERRORS:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    return eval_body


def _payload_patches() -> list:
    from moto.stepfunctions.parser.asl.component.common.error_name import error_equals_decl
    from moto.stepfunctions.parser.asl.component.state import state

    service_module = _service_module("state_task_service")
    service = service_module.StateTaskService
    decl = error_equals_decl.ErrorEqualsDecl
    return [
        mock.patch.object(state, "is_within_size_quota", within_payload_limit),
        mock.patch.object(service_module, "is_within_size_quota", within_payload_limit),
        mock.patch.object(
            service, "_before_eval_execution", _input_limit(service._before_eval_execution)
        ),
        mock.patch.object(decl, "_eval_body", _terminal_errors(decl._eval_body)),
    ]


def _start_execution_limits(original):
    def start_execution(self, state_machine_arn, name=None, execution_input=None, **kwargs):
        """StartExecution as AWS checks it: the name (1-80 characters, no whitespace,
        brackets, wildcards, punctuation or control characters) and the input's size.
        moto's interpreter backend checks neither ("TODO: validate name format")."""
        from moto.stepfunctions.exceptions import ValidationException

        self._validate_name(name)
        if execution_input is not None and not within_payload_limit(execution_input):
            raise ValidationException(
                f"1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {PAYLOAD_LIMIT_BYTES}"
            )
        return original(self, state_machine_arn, name, execution_input, **kwargs)

    return start_execution


def _start_execution_patches() -> list:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    backend = StepFunctionsParserBackend
    return [
        mock.patch.object(
            backend, "start_execution", _start_execution_limits(backend.start_execution)
        )
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


# --- intrinsic functions ------------------------------------------------------


def format_template(template: str, values: list[str]) -> str:
    """States.Format as the spec has it: `{}` takes the next value, and a backslash
    makes the next character literal (`\\{` is a brace, not a placeholder)."""
    out, position, used = [], 0, 0
    while position < len(template):
        if template[position] == "\\" and position + 1 < len(template):
            out.append(template[position + 1])
            position += 2
        elif template.startswith("{}", position):
            out.append(values[used])
            used, position = used + 1, position + 2
        else:
            out.append(template[position])
            position += 1
    return "".join(out)


def _intrinsic_patches() -> list:
    """moto's States.Format hands the template to Python's str.format, with a backslash
    still JSON-escaped (two backslashes where the decoded text has one): an escaped brace
    (`'\\{"--task_token":"{}"\\}'`, how RunGlueJob builds its token argument) fails
    with a KeyError instead of giving `{"--task_token":"<token>"}`."""
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic import (
        string_format,
    )

    def eval_body(self, env) -> None:
        self.argument_list.eval(env=env)
        args = env.stack.pop()
        # moto hands over a backslash of the JSON text still escaped (two of them).
        template = args[0].replace("\\\\", "\\")
        env.stack.append(format_template(template, [self._to_str_repr(v) for v in args[1:]]))

    return [mock.patch.object(string_format.StringFormat, "_eval_body", eval_body)]


# --- task tokens -------------------------------------------------------------


def _callback_patches() -> list:
    """Task tokens as Step Functions keeps them:

    - a token completes once: moto lets a second SendTaskSuccess or SendTaskFailure
      replace the first outcome (the last one wins if the state has not read it yet)
      and answers it with success, or fails building its own TaskTimedOut; here the
      later call is refused with TaskTimedOut;
    - SendTaskFailure keeps its `cause` (moto's response handler drops it);
    - a heartbeat that does not come fails the state with States.HeartbeatTimeout
      (moto names it States.Timeout)."""
    from moto.core.exceptions import AWSError
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.parser.api import (
        HistoryEventType,
        TaskTimedOutEventDetails,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackPoolManager,
        HeartbeatTimeoutError,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.responses import StepFunctionResponse

    class TaskTimedOut(AWSError):
        TYPE = "TaskTimedOut"
        STATUS = 400

    original_notify = CallbackPoolManager.notify
    original_from_error = StateTask._from_error

    def notify(self, callback_id, outcome) -> bool:
        endpoint = self.get(callback_id)
        if endpoint is not None and endpoint.get_outcome() is not None:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        return original_notify(self, callback_id, outcome)

    def send_task_failure(self):
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    def from_error(self, env, ex):
        if not isinstance(ex, HeartbeatTimeoutError):
            return original_from_error(self, env, ex)
        error = StatesErrorNameType.StatesHeartbeatTimeout
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskTimedOut,
            event_details=EventDetails(
                taskTimedOutEventDetails=TaskTimedOutEventDetails(error=error.to_name())
            ),
        )

    return [
        mock.patch.object(CallbackPoolManager, "notify", notify),
        mock.patch.object(StepFunctionResponse, "send_task_failure", send_task_failure),
        mock.patch.object(StateTask, "_from_error", from_error),
    ]


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

    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    original_heartbeat = CallbackEndpoint.setup_heartbeat_endpoint

    def setup_heartbeat_endpoint(self, heartbeat_seconds):
        return original_heartbeat(self, heartbeat_seconds=heartbeat_seconds * scale)

    callback_service = _service_module("state_task_service_callback")
    return [
        mock.patch.object(retrier_decl, "time", scaled_time),
        mock.patch.object(CallbackEndpoint, "setup_heartbeat_endpoint", setup_heartbeat_endpoint),
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
        + _payload_patches()
        + _start_execution_patches()
        + _s3_event_patches()
        + _callback_patches()
        + _intrinsic_patches()
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
