"""Every Task's Parameters in the pipeline ASL, checked against botocore's service models.

Step Functions validates a Task's Parameters only when the state runs, against the
service's API: a misspelt member, a wrong type or a missing required member fails
that execution at that state, possibly long after deploy. Here every Task of the
substituted definition is checked like the API would: names (Step Functions writes
the API's camelCase members in PascalCase), types, enumerations and required
members; a `.$` member is a path resolved at run time, so only its name is checked.
"""

from __future__ import annotations

import copy
import json

import botocore.session
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from local_twin.provision import ASL_PATH
from step_functions import asl

SUBSTITUTIONS = {
    "GlueJobName": "sales-to-silver-prod",
    "DbtClusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/sales-dbt",
    "DbtTaskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/sales-dbt:3",
    "DbtContainerName": "dbt",
    "DbtSubnetIds": "subnet-0a,subnet-0b",
    "DbtSecurityGroupIds": "sg-0a",
    "NotificationTopicArn": "arn:aws:sns:eu-west-1:123456789012:sales-pipeline",
    "LakeBucketName": "sales-lake-123456789012",
    "GoldRefreshTableName": "sales-gold-refresh",
    "QuarantineRatioThreshold": "0.05",
    "OnQualityBreach": "stop",
}
INTEGRATION_PREFIX = "arn:aws:states:::"
# Resource (after the prefix, without .sync) -> botocore service and operation.
OPERATIONS = {
    "glue:startJobRun": ("glue", "StartJobRun"),
    "ecs:runTask": ("ecs", "RunTask"),
    "sns:publish": ("sns", "Publish"),
    "dynamodb:updateItem": ("dynamodb", "UpdateItem"),
    "dynamodb:getItem": ("dynamodb", "GetItem"),
    "aws-sdk:s3:getObject": ("s3", "GetObject"),
    "aws-sdk:sfn:describeExecution": ("stepfunctions", "DescribeExecution"),
}
SCALAR_TYPES = {
    "string": (str,),
    "blob": (str,),
    "timestamp": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
}
_SESSION = botocore.session.get_session()


def deployed_definition() -> dict:
    return json.loads(asl.substitute(ASL_PATH.read_text(), SUBSTITUTIONS))


def operation_of(state_name: str, resource: str):
    integration = resource.removeprefix(INTEGRATION_PREFIX).split(".")[0]
    if not resource.startswith(INTEGRATION_PREFIX) or integration not in OPERATIONS:
        pytest.fail(
            f"{ASL_PATH}: state {state_name} uses {resource!r}; map it to its botocore "
            "operation in OPERATIONS (tests/step_functions/test_asl_parameters.py)"
        )
    service, operation = OPERATIONS[integration]
    return _SESSION.get_service_model(service).operation_model(operation)


def pascal(member: str) -> str:
    return member[:1].upper() + member[1:]


def parameter_problems(definition: dict) -> list[str]:
    """Every way a Task's static Parameters do not fit the API, as `state.path: problem`."""
    problems: list[str] = []
    for state_path, state in asl.iter_states(definition):
        if state.get("Type") == "Task":
            operation = operation_of(state_path, state["Resource"])
            check(state.get("Parameters", {}), operation.input_shape, state_path, problems)
    return problems


def check(value, shape: Shape, where: str, problems: list[str]) -> None:
    if isinstance(shape, StructureShape):
        check_structure(value, shape, where, problems)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            problems.append(f"{where}: {value!r} is not a list ({shape.name})")
            return
        for index, item in enumerate(value):
            check(item, shape.member, f"{where}[{index}]", problems)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is not a map ({shape.name})")
            return
        for key, item in value.items():
            if not key.endswith(".$"):
                check(item, shape.value, f"{where}.{key}", problems)
    else:
        check_scalar(value, shape, where, problems)


def check_structure(value, shape: StructureShape, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: {value!r} is not an object ({shape.name})")
        return
    members = {pascal(name): (name, member) for name, member in shape.members.items()}
    present = set()
    for key, item in value.items():
        name = key.removesuffix(".$")
        if name not in members:
            problems.append(f"{where}.{name}: not a member of {shape.name} ({sorted(members)})")
            continue
        present.add(members[name][0])
        if not key.endswith(".$"):
            check(item, members[name][1], f"{where}.{name}", problems)
    for required in shape.required_members:
        if required not in present:
            problems.append(f"{where}: required member {pascal(required)} is missing")


def check_scalar(value, shape: Shape, where: str, problems: list[str]) -> None:
    expected = SCALAR_TYPES.get(shape.type_name, (object,))
    if not isinstance(value, expected) or (bool not in expected and isinstance(value, bool)):
        problems.append(f"{where}: {value!r} is not a {shape.type_name}")
    elif getattr(shape, "enum", None) and value not in shape.enum:
        problems.append(f"{where}: {value!r} is not one of {shape.enum}")


def test_every_task_fits_its_service_api():
    assert parameter_problems(deployed_definition()) == []


def test_every_integration_of_the_pipeline_is_checked():
    used = {
        state["Resource"].removeprefix(INTEGRATION_PREFIX).split(".")[0]
        for _, state in asl.iter_states(deployed_definition())
        if state.get("Type") == "Task"
    }
    assert used == set(OPERATIONS)


def edit(state: str, change) -> dict:
    definition = copy.deepcopy(deployed_definition())
    change(definition["States"][state]["Parameters"])
    return definition


@pytest.mark.parametrize(
    ("state", "change", "problem"),
    [
        ("PublishFailureNotice", lambda p: p.update(Subjet=p.pop("Subject")),
         "PublishFailureNotice.Subjet: not a member of PublishInput"),
        ("RunDbt", lambda p: p["NetworkConfiguration"]["AwsvpcConfiguration"].update(
            AssignPublicIP="DISABLED"),
         "RunDbt.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIP: not a member"),
        ("RunDbt", lambda p: p.update(LaunchType="FARGATE_SPOT"),
         "RunDbt.LaunchType: 'FARGATE_SPOT' is not one of"),
        ("InspectGoldLock", lambda p: p.update(ConsistentRead="true"),
         "InspectGoldLock.ConsistentRead: 'true' is not a boolean"),
        ("MarkGoldDirty", lambda p: p["ExpressionAttributeValues"][":true"].update(
            Bool=True),
         "MarkGoldDirty.ExpressionAttributeValues.:true.Bool: not a member of AttributeValue"),
        ("RunGlueJob", lambda p: p.pop("JobName"),
         "RunGlueJob: required member JobName is missing"),
        ("DescribeGoldLockHolder", lambda p: p.update(ExecutionArns=p.pop("ExecutionArn.$")),
         "DescribeGoldLockHolder.ExecutionArns: not a member"),
    ],
    ids=["misspelt", "nested-casing", "enum", "type", "map-value", "required", "path-name"],
)  # fmt: skip
def test_a_definition_that_does_not_fit_is_reported(state, change, problem):
    problems = parameter_problems(edit(state, change))
    assert any(p.startswith(problem) for p in problems), problems
