"""Canary for local_twin/aws_hooks.py.

Fails when a moto upgrade moves an internal the hooks patch, or fixes a defect
they work around (then the hook should go). Re-check every hook before changing
aws_hooks.MOTO_VERSION.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
import uuid
from importlib.metadata import version
from types import SimpleNamespace

import boto3
import pytest

from local_twin import aws_hooks

SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"


def test_moto_is_the_pinned_version():
    assert version("moto") == aws_hooks.MOTO_VERSION


def test_defects_the_hooks_fix_are_still_there():
    import importlib

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )

    glue = importlib.import_module(f"{SERVICE}.state_task_service_glue")
    callback = importlib.import_module(f"{SERVICE}.state_task_service_callback")
    base = importlib.import_module(f"{SERVICE}.state_task_service").StateTaskService
    ecs = importlib.import_module(f"{SERVICE}.state_task_service_ecs").StateTaskServiceEcs
    sdk = importlib.import_module(f"{SERVICE}.state_task_service_aws_sdk").StateTaskServiceAwsSdk
    # Glue .sync: no callback endpoint, yet the clean-up interrupts it.
    patterns = glue._SUPPORTED_INTEGRATION_PATTERNS
    assert patterns == {ResourceCondition.Sync}
    source = inspect.getsource(callback.StateTaskServiceCallback._eval_integration_pattern)
    assert "callback_endpoint.interrupt_all()" in source
    # ECS and aws-sdk: no parameter/response normalisation of their own.
    for cls in (ecs, sdk):
        assert cls._normalise_parameters is base._normalise_parameters
        assert cls._normalise_response is base._normalise_response
    assert callable(base._to_boto_request) and callable(base._from_boto_response)
    assert callback._DELAY_SECONDS_SYNC_CONDITION_CHECK == 0.5
    # States.Format: the template goes to str.format, escaped braces and all.
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic import (
        string_format,
    )

    assert "string_format.format(" in inspect.getsource(string_format.StringFormat._eval_body)
    # Glue emits no state-change events; a run's CompletedOn is stamped when it starts.
    from moto.glue.models import FakeJobRun

    assert "events" not in inspect.getsource(FakeJobRun)
    assert "self.completed_on = utcnow()" in inspect.getsource(FakeJobRun.__init__)


def test_leniencies_the_strict_hooks_remove_are_still_there():
    """Where moto 5.2.5 passes what AWS fails; each is enforced by a hook."""
    import importlib

    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.glue.models import FakeJob
    from moto.glue.responses import GlueResponse
    from moto.stepfunctions.parser import quotas
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )

    service = importlib.import_module(f"{SERVICE}.state_task_service")
    callback = importlib.import_module(f"{SERVICE}.state_task_service_callback")
    ecs = importlib.import_module(f"{SERVICE}.state_task_service_ecs").StateTaskServiceEcs
    glue = importlib.import_module(f"{SERVICE}.state_task_service_glue")
    sdk = importlib.import_module(f"{SERVICE}.state_task_service_aws_sdk")
    # Payload: exactly 256 KiB refused, padded separators, input after Parameters unchecked,
    # and States.ALL matches every error, DataLimitExceeded and Runtime included.
    assert "len_item_bytes < MAX_STATE_SIZE_UTF8_BYTES" in inspect.getsource(quotas)
    assert "is_within_size_quota" not in inspect.getsource(
        service.StateTaskService._before_eval_execution
    )
    all_matches = "if ErrorEqualsDecl._STATE_ALL_ERROR in self.error_names:\n            res = True"
    assert all_matches in inspect.getsource(ErrorEqualsDecl._eval_body)
    # ECS: no error naming of its own, a stopped task is a result whatever its exit code,
    # and RunTask never answers with failures.
    assert ecs._from_error is callback.StateTaskServiceCallback._from_error
    assert "xitCode" not in inspect.getsource(ecs._build_sync_resolver)
    assert '"failures": []' in inspect.getsource(EC2ContainerServiceResponse.run_task)
    # Glue: JobRunQueuingEnabled dropped, no queue; a STOPPED run is a `.sync` result.
    assert "JobRunQueuingEnabled" not in inspect.getsource(GlueResponse.create_job)
    assert "JobRunQueuingEnabled" not in inspect.getsource(GlueResponse.start_job_run)
    assert "WAITING" not in inspect.getsource(FakeJob.start_job_run)
    assert {"FAILED", "TIMEOUT", "ERROR"} == glue._JOB_RUN_STATE_ABNORMAL_TERMINAL_VALUE
    # aws-sdk: S3 errors keep the lower-case service name.
    assert "s3" not in sdk._SERVICE_ERROR_NAMES
    # StartExecution: the interpreter backend validates neither the name nor the input size.
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    start = inspect.getsource(StepFunctionsParserBackend.start_execution)
    assert "TODO: validate name format" in start and "_validate_name" not in start
    # Task tokens: a second completion replaces the first instead of being refused.
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager

    notify = inspect.getsource(CallbackPoolManager.notify)
    assert "get_outcome" not in notify and "callback_endpoint.notify(outcome=outcome)" in notify


def test_internals_the_hooks_patch_exist():
    from moto.ecs.models import EC2ContainerServiceBackend, Task
    from moto.glue.models import FakeJob, FakeJobRun
    from moto.moto_api import state_manager
    from moto.s3 import notifications
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    assert "time.sleep(interval_seconds)" in inspect.getsource(retrier_decl.RetrierDecl)
    assert retrier_decl.time is time
    assert "env.program_state_event.wait" in inspect.getsource(wait_function.WaitFunction)
    assert list(inspect.signature(notifications._send_event_bridge_message).parameters) == [
        "account_id",
        "bucket",
        "event_name",
        "key",
    ]
    assert "MaxConcurrentRuns" in inspect.getsource(FakeJob.start_job_run)
    assert callable(FakeJobRun.as_dict) and callable(EC2ContainerServiceBackend.run_task)
    assert isinstance(Task.status, property) and Task.status.fset is not None
    assert callable(state_manager.set_transition) and callable(state_manager.unset_transition)


def test_internals_the_strict_hooks_patch_exist():
    import importlib

    from moto.core.responses import ActionResult
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.glue.models import FakeJob
    from moto.glue.responses import GlueResponse
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.state import state

    service = importlib.import_module(f"{SERVICE}.state_task_service")
    ecs = importlib.import_module(f"{SERVICE}.state_task_service_ecs").StateTaskServiceEcs
    sdk = importlib.import_module(f"{SERVICE}.state_task_service_aws_sdk")
    assert callable(state.is_within_size_quota) and callable(service.is_within_size_quota)
    assert "is_within_size_quota(value)" in inspect.getsource(state.CommonStateField)
    assert "self._verify_size_quota(env=env, value=output)" in inspect.getsource(
        service.StateTaskService._after_eval_execution
    )
    before = inspect.signature(service.StateTaskService._before_eval_execution).parameters
    assert list(before) == [
        "self",
        "env",
        "resource_runtime_part",
        "raw_parameters",
        "state_credentials",
    ]
    sync = inspect.signature(ecs._build_sync_resolver).parameters
    assert list(sync) == [
        "self",
        "env",
        "resource_runtime_part",
        "normalised_parameters",
        "state_credentials",
    ]
    assert "env.stack.pop()" in inspect.getsource(ErrorEqualsDecl._eval_body)
    assert StatesErrorName.from_name("States.TaskFailed").error_name == "States.TaskFailed"
    assert 'self._normalise_response(response=response, service_action_name="run_task")' in (
        inspect.getsource(ecs._eval_service_task)
    )
    assert isinstance(sdk._SERVICE_ERROR_NAMES, dict)
    assert callable(EC2ContainerServiceResponse.run_task) and callable(ActionResult)
    assert callable(GlueResponse.create_job) and callable(GlueResponse.start_job_run)
    assert 'execution_property.get("MaxConcurrentRuns"' in inspect.getsource(FakeJob.start_job_run)


CANARY_MACHINE = {
    "StartAt": "Glue",
    "States": {
        "Glue": {
            "Type": "Task",
            "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": "job", "Arguments": {"--x": "1"}},
            "ResultSelector": {"state.$": "$.JobRunState"},
            "ResultPath": "$.glue",
            "Next": "Ecs",
        },
        "Ecs": {
            "Type": "Task",
            "Resource": "arn:aws:states:::ecs:runTask.sync",
            "Parameters": {
                "Cluster.$": "$.cluster",
                "TaskDefinition.$": "$.task_definition",
                "LaunchType": "FARGATE",
                "Overrides": {
                    "ContainerOverrides": [
                        {"Name": "app", "Environment": [{"Name": "RUN_ID", "Value": "r1"}]}
                    ]
                },
            },
            "ResultSelector": {"container.$": "States.ArrayGetItem($.Containers, 0)"},
            "ResultPath": "$.ecs",
            "Next": "Read",
        },
        "Read": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "canary-bucket", "Key": "k.json"},
            "ResultSelector": {"doc.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.read",
            "End": True,
        },
    },
}


@pytest.fixture
def hooked_aws(monkeypatch):
    """moto with the hooks; `.calls` records runner calls, `.runtimes` can be changed."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws_hooks.REGION)
    calls = []
    runtimes = aws_hooks.LocalRuntimes(
        glue_runner=lambda name, args: calls.append(("glue", name, args)),
        ecs_runner=lambda spec: calls.append(("ecs", spec)) or 0,
    )
    with aws_hooks.local_aws(runtimes):
        yield SimpleNamespace(calls=calls, runtimes=runtimes)


def ecs_task() -> dict:
    ecs = boto3.client("ecs")
    cluster = ecs.create_cluster(clusterName="c")["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="f",
        containerDefinitions=[{"name": "app", "image": "i", "memory": 512, "cpu": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    return {"cluster": cluster, "task_definition": task_definition}


def run_machine(definition: dict, execution_input: dict | None = None) -> dict:
    """Create, start and follow a state machine; describe_execution + `history` errors."""
    sfn = boto3.client("stepfunctions")
    name = f"canary-{uuid.uuid4().hex[:8]}"
    machine = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine, name=name, input=json.dumps(execution_input or {})
    )["executionArn"]
    for _ in range(600):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    described["errors"] = [
        e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"
    ]
    described["path"] = [
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("Entered")
    ]
    return described


def test_glue_ecs_and_sdk_tasks_run_through_the_hooks(hooked_aws):
    calls = hooked_aws.calls
    boto3.client("glue").create_job(Name="job", Role="r", Command={"Name": "glueetl"})
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="canary-bucket")
    s3.put_object(Bucket="canary-bucket", Key="k.json", Body=b'{"ok": true}')
    described = run_machine(CANARY_MACHINE, ecs_task())
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["glue"] == {"state": "SUCCEEDED"}
    assert output["ecs"]["container"]["ExitCode"] == 0
    assert output["read"] == {"doc": {"ok": True}}
    [glue_call, ecs_call] = calls
    job_run_id = glue_call[2].pop("--JOB_RUN_ID")  # Glue hands its script the run id
    assert glue_call == ("glue", "job", {"--x": "1"}) and job_run_id.startswith("jr_")
    assert ecs_call[1].environment == {"RUN_ID": "r1"} and ecs_call[1].container == "app"


# --- strict behaviours: the twin fails where AWS fails ---------------------------------


def caught(state: dict) -> dict:
    """A one-Task machine whose Task catches everything (States.ALL) into $.error."""
    task = {**state, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                "Next": "Caught"}], "End": True}  # fmt: skip
    return {"StartAt": "Task", "States": {"Task": task, "Caught": {"Type": "Pass", "End": True}}}


ECS_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::ecs:runTask.sync",
    "Parameters": {"Cluster.$": "$.cluster", "TaskDefinition.$": "$.task_definition",
                   "LaunchType": "FARGATE"},
}  # fmt: skip


def test_ecs_container_exiting_non_zero_fails_the_state_with_the_task(hooked_aws):
    hooked_aws.runtimes.ecs_runner = lambda spec: 3
    described = run_machine(caught(ECS_TASK), ecs_task())
    assert described["status"] == "SUCCEEDED" and described["path"][-1] == "Caught"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "States.TaskFailed"
    task = json.loads(error["Cause"])  # the stopped task, as DescribeTasks has it
    assert task["Containers"][0]["ExitCode"] == 3 and task["LastStatus"] == "STOPPED"
    assert task["StoppedReason"] == "Essential container in task exited"


def test_ecs_run_task_failures_raise_amazon_ecs_unknown(hooked_aws):
    no_capacity = [{"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
                    "reason": "RESOURCE:FARGATE", "detail": "none left"}]  # fmt: skip
    hooked_aws.runtimes.ecs_failures = lambda: no_capacity
    task = ecs_task()
    direct = boto3.client("ecs").run_task(
        cluster=task["cluster"], taskDefinition=task["task_definition"]
    )
    assert direct["tasks"] == [] and direct["failures"] == no_capacity
    described = run_machine(caught(ECS_TASK), task)
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "AmazonECS.Unknown"
    pascal = [{key.capitalize(): value for key, value in f.items()} for f in no_capacity]
    assert json.loads(error["Cause"]) == {"Failures": pascal}  # Step Functions' casing
    assert hooked_aws.calls == []  # no task ever ran


def test_ecs_api_errors_are_named_ecs(hooked_aws):
    task = {**ecs_task(), "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/missing"}
    described = run_machine(caught(ECS_TASK), task)
    assert json.loads(described["output"])["error"]["Error"] == "ECS.ClusterNotFoundException"


GLUE_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::glue:startJobRun.sync",
    "Parameters": {"JobName": "job"},
}


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "ERROR"])
def test_glue_run_ending_abnormally_fails_sync(hooked_aws, state):
    def runner(name, arguments):
        raise aws_hooks.GlueRunEnded(state, "ended by the test")

    hooked_aws.runtimes.glue_runner = runner
    boto3.client("glue").create_job(Name="job", Role="r", Command={"Name": "glueetl"})
    error = json.loads(run_machine(caught(GLUE_TASK))["output"])["error"]
    assert error["Error"] == "States.TaskFailed"
    run = json.loads(error["Cause"])
    assert run["JobRunState"] == state and run["ErrorMessage"] == "ended by the test"


def test_glue_run_stopped_comes_back_as_a_result(hooked_aws):
    def runner(name, arguments):
        raise aws_hooks.GlueRunEnded("STOPPED")

    hooked_aws.runtimes.glue_runner = runner
    boto3.client("glue").create_job(Name="job", Role="r", Command={"Name": "glueetl"})
    task = {**GLUE_TASK, "ResultSelector": {"state.$": "$.JobRunState"}}
    described = run_machine(caught(task))
    assert described["path"] == ["Task"]
    assert json.loads(described["output"]) == {"state": "STOPPED"}


def test_glue_run_end_state_must_be_a_glue_one():
    with pytest.raises(ValueError, match="local_twin/aws_hooks.py: GlueRunEnded takes one of"):
        aws_hooks.GlueRunEnded("SUCCEEDED")


def gated_glue(hooked_aws, job: dict) -> threading.Event:
    """A job (MaxConcurrentRuns 1) whose runs wait for the returned gate."""
    gate = threading.Event()
    hooked_aws.runtimes.glue_runner = lambda name, arguments: gate.wait(10)
    boto3.client("glue").create_job(
        Name="job", Role="r", Command={"Name": "glueetl"},
        ExecutionProperty={"MaxConcurrentRuns": 1}, **job,
    )  # fmt: skip
    return gate


def run_state(run_id: str) -> dict:
    return boto3.client("glue").get_job_run(JobName="job", RunId=run_id)["JobRun"]


def wait_for_state(run_id: str, states: set[str]) -> dict:
    for _ in range(400):
        run = run_state(run_id)
        if run["JobRunState"] in states:
            return run
        time.sleep(0.025)
    raise AssertionError(f"run {run_id} stayed {run['JobRunState']}")


def test_glue_without_queuing_refuses_a_second_run(hooked_aws):
    gate = gated_glue(hooked_aws, {"JobRunQueuingEnabled": False})
    glue = boto3.client("glue")
    first = glue.start_job_run(JobName="job")["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName="job")
    gate.set()
    assert wait_for_state(first, {"SUCCEEDED"})["JobRunState"] == "SUCCEEDED"
    assert glue.get_job(JobName="job")["Job"]["JobRunQueuingEnabled"] is False


@pytest.mark.parametrize(
    ("job", "run"),
    [({"JobRunQueuingEnabled": True}, {}), ({}, {"JobRunQueuingEnabled": True})],
    ids=["job-queuing", "run-queuing"],
)
def test_glue_queue_keeps_a_run_waiting_for_the_slot(hooked_aws, job, run):
    gate = gated_glue(hooked_aws, job)
    glue = boto3.client("glue")
    first = glue.start_job_run(JobName="job")["JobRunId"]
    second = glue.start_job_run(JobName="job", **run)["JobRunId"]
    assert run_state(second)["JobRunState"] == "WAITING"
    gate.set()
    assert wait_for_state(second, {"SUCCEEDED", "FAILED"})["JobRunState"] == "SUCCEEDED"
    assert run_state(first)["JobRunState"] == "SUCCEEDED"


def test_glue_queue_gives_up_after_its_limit(hooked_aws):
    hooked_aws.runtimes.glue_queue_limit_seconds = 20.0  # 0.2 s at the twin's scale
    gate = gated_glue(hooked_aws, {"JobRunQueuingEnabled": True})
    glue = boto3.client("glue")
    first = glue.start_job_run(JobName="job")["JobRunId"]
    second = glue.start_job_run(JobName="job")["JobRunId"]
    waited = wait_for_state(second, {"FAILED", "SUCCEEDED"})
    assert waited["JobRunState"] == "FAILED" and "job-run queue" in waited["ErrorMessage"]
    assert run_state(first)["JobRunState"] == "RUNNING"
    gate.set()


def test_the_default_queue_limit_is_glue_s():
    runtimes = aws_hooks.LocalRuntimes(glue_runner=print, ecs_runner=print)
    assert runtimes.glue_queue_limit_seconds == 15 * 60


def test_payload_limit_counts_compact_utf8_json():
    limit = aws_hooks.PAYLOAD_LIMIT_BYTES
    assert limit == 262_144
    assert aws_hooks.within_payload_limit({"k": "x" * (limit - len('{"k":""}'))})
    assert not aws_hooks.within_payload_limit({"k": "x" * (limit - len('{"k":""}') + 1)})
    assert aws_hooks.payload_bytes({"k": "é"}) == len('{"k":""}') + 2  # UTF-8, not \\u00e9


def test_an_oversized_task_result_fails_the_execution_despite_retry_and_catch(hooked_aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="canary-bucket")
    s3.put_object(Bucket="canary-bucket", Key="big.json", Body=b"x" * 300_000)
    task = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "canary-bucket", "Key": "big.json"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]}  # fmt: skip
    described = run_machine(caught(task))
    assert described["status"] == "FAILED" and described["error"] == "States.DataLimitExceeded"
    assert described["errors"] == ["States.DataLimitExceeded"]  # never retried
    assert described["path"] == ["Task"]  # never caught


def test_an_oversized_task_input_fails_the_execution(hooked_aws):
    boto3.client("s3").create_bucket(Bucket="canary-bucket")
    task = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Parameters": {"Bucket": "canary-bucket", "Key": "k",
                           "Body.$": "States.Format('{}{}', $.half, $.half)"}}  # fmt: skip
    described = run_machine(caught(task), {"half": "y" * 140_000})  # input 140 KB, Body 280 KB
    assert described["status"] == "FAILED" and described["error"] == "States.DataLimitExceeded"
    assert boto3.client("s3").list_objects_v2(Bucket="canary-bucket").get("KeyCount") == 0


def test_an_oversized_state_output_fails_the_execution(hooked_aws):
    twice = {"Type": "Pass", "Parameters": {"a.$": "$.half", "b.$": "$.half"}, "Next": "After"}
    machine = {
        "StartAt": "Twice",
        "States": {"Twice": twice, "After": {"Type": "Pass", "End": True}},
    }
    described = run_machine(machine, {"half": "z" * 140_000})
    assert described["status"] == "FAILED" and described["error"] == "States.DataLimitExceeded"


@pytest.mark.parametrize(
    ("name", "refused"),
    [("a" * 80, False), ("a" * 81, True), ("has space", True), ("semi;colon", True)],
)
def test_start_execution_checks_the_name_like_aws(hooked_aws, name, refused):
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="names", roleArn="arn:aws:iam::123456789012:role/r",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]  # fmt: skip
    if not refused:
        assert sfn.start_execution(stateMachineArn=machine, name=name)["executionArn"]
        return
    # AWS: InvalidName for the character set; the 80-character bound is a length constraint.
    with pytest.raises(sfn.exceptions.ClientError, match="InvalidName|ValidationException"):
        sfn.start_execution(stateMachineArn=machine, name=name)


def test_start_execution_refuses_an_input_over_256_kib(hooked_aws):
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="inputs", roleArn="arn:aws:iam::123456789012:role/r",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]  # fmt: skip
    fits = json.dumps({"k": "x" * (aws_hooks.PAYLOAD_LIMIT_BYTES - 20)})
    assert sfn.start_execution(stateMachineArn=machine, name="fits", input=fits)
    too_big = json.dumps({"k": "x" * aws_hooks.PAYLOAD_LIMIT_BYTES})
    with pytest.raises(sfn.exceptions.ClientError, match="ValidationException"):
        sfn.start_execution(stateMachineArn=machine, name="too-big", input=too_big)


def test_runtime_errors_are_not_caught_by_states_all(hooked_aws):
    boto3.client("s3").create_bucket(Bucket="canary-bucket")
    task = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "canary-bucket", "Key.$": "$.missing"}}  # fmt: skip
    described = run_machine(caught(task))
    assert described["status"] == "FAILED" and described["error"] == "States.Runtime"


def test_s3_errors_are_named_like_step_functions(hooked_aws):
    boto3.client("s3").create_bucket(Bucket="canary-bucket")
    task = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "canary-bucket", "Key": "absent.json"}}  # fmt: skip
    error = json.loads(run_machine(caught(task))["output"])["error"]
    assert error["Error"] == "S3.NoSuchKeyException"


def test_states_format_honours_the_specs_escapes():
    from local_twin.aws_hooks import format_template

    template = '\\{"--task_token":"{}"\\}'  # as RunGlueJob writes it (JSON-decoded)
    assert format_template(template, ["tok+/="]) == '{"--task_token":"tok+/="}'
    assert format_template("a{}b{}c", ["1", "2"]) == "a1b2c"
    assert format_template("it\\'s \\\\ {}", ["x"]) == "it's \\ x"
