"""Canary for local_twin/aws_hooks.py.

Fails when a moto upgrade moves an internal the hooks patch, or fixes a defect
they work around (then the hook should go). Re-check every hook before changing
aws_hooks.MOTO_VERSION.
"""

from __future__ import annotations

import inspect
import json
import time
from importlib.metadata import version

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
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws_hooks.REGION)
    calls = []
    runtimes = aws_hooks.LocalRuntimes(
        glue_runner=lambda name, args: calls.append(("glue", name, args)),
        ecs_runner=lambda spec: calls.append(("ecs", spec)) or 3,
    )
    with aws_hooks.local_aws(runtimes):
        yield calls


def test_glue_ecs_and_sdk_tasks_run_through_the_hooks(hooked_aws):
    calls = hooked_aws
    boto3.client("glue").create_job(Name="job", Role="r", Command={"Name": "glueetl"})
    ecs = boto3.client("ecs")
    cluster = ecs.create_cluster(clusterName="c")["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="f",
        containerDefinitions=[{"name": "app", "image": "i", "memory": 512, "cpu": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="canary-bucket")
    s3.put_object(Bucket="canary-bucket", Key="k.json", Body=b'{"ok": true}')
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="canary",
        definition=json.dumps(CANARY_MACHINE),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine,
        name="canary-1",
        input=json.dumps({"cluster": cluster, "task_definition": task_definition}),
    )["executionArn"]
    for _ in range(600):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["glue"] == {"state": "SUCCEEDED"}
    assert output["ecs"]["container"]["ExitCode"] == 3
    assert output["read"] == {"doc": {"ok": True}}
    [glue_call, ecs_call] = calls
    assert glue_call == ("glue", "job", {"--x": "1"})
    assert ecs_call[1].environment == {"RUN_ID": "r1"} and ecs_call[1].container == "app"
