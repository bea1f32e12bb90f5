"""Outside dev, a deleted stack leaves its data behind, and deploying it again must work.

A resource retained on delete (DeletionPolicy/UpdateReplacePolicy Retain or
Snapshot) outlives its stack; had it a fixed physical name, the next deploy of the
same environment would try to create that name again and fail. So every retained
resource lets CloudFormation name it, or carries a name unique to one stack
creation (from AWS::StackId); metadata the code re-creates is deleted instead.

This needs a non-dev template: the session synthesis's NonDevStreaming stage
(tests/infrastructure/conftest.py), with the streaming part enabled so its resources
are checked too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

NON_DEV_ENV = "prod"
KEPT = ("Retain", "Snapshot")

# The property that names each resource type, as far as the stack creates such types.
# A retained resource of a type missing here fails the test: add its property.
PHYSICAL_NAME = {
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::DynamoDB::GlobalTable": ("TableName",),
    "AWS::DynamoDB::Table": ("TableName",),
    "AWS::EC2::SecurityGroup": ("GroupName",),
    "AWS::ECR::Repository": ("RepositoryName",),
    "AWS::ECS::Cluster": ("ClusterName",),
    "AWS::Events::Rule": ("Name",),
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Glue::Job": ("Name",),
    "AWS::Glue::SecurityConfiguration": ("Name",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::KMS::Key": (),
    "AWS::KafkaConnect::Connector": ("ConnectorName",),
    "AWS::KafkaConnect::CustomPlugin": ("Name",),
    "AWS::KafkaConnect::WorkerConfiguration": ("Name",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::MSK::ServerlessCluster": ("ClusterName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
}


@pytest.fixture(scope="module")
def non_dev_template(synthesis) -> dict[str, Any]:
    assert synthesis.non_dev.config.env_name == NON_DEV_ENV
    assert synthesis.non_dev.stack.streaming is not None
    return synthesis.non_dev.template


def _physical_name(resource: dict[str, Any]) -> Any:
    """The resource's name property, None when CloudFormation names it."""
    value: Any = resource.get("Properties", {})
    for key in PHYSICAL_NAME[resource["Type"]] or (None,):
        if key is None or not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _unique_per_stack(value: Any, resources: dict[str, Any]) -> bool:
    """Does the name change with every creation of the stack?

    True when it derives from AWS::StackId, or from a resource of the stack that
    CloudFormation names itself (e.g. `/aws/lambda/<generated function name>`).
    """
    if isinstance(value, dict):
        reference = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if reference == "AWS::StackId":
            return True
        if reference in resources:
            named = resources[reference]
            return named["Type"] in PHYSICAL_NAME and (
                _physical_name(named) is None or _unique_per_stack(_physical_name(named), resources)
            )
        return any(_unique_per_stack(item, resources) for item in value.values())
    if isinstance(value, list):
        return any(_unique_per_stack(item, resources) for item in value)
    return False


def blocking_names(template: dict[str, Any]) -> list[str]:
    """Retained resources whose fixed name would collide with the next deploy."""
    resources = template["Resources"]
    problems = []
    for logical_id, resource in sorted(resources.items()):
        if not {resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")} & set(KEPT):
            continue
        if resource["Type"] not in PHYSICAL_NAME:
            problems.append(
                f"{logical_id}: {resource['Type']} is retained; add it to "
                "PHYSICAL_NAME (tests/infrastructure/test_redeploy.py)"
            )
            continue
        name = _physical_name(resource)
        if name is not None and not _unique_per_stack(name, resources):
            problems.append(f"{logical_id}: retained with the fixed name {json.dumps(name)}")
    return problems


def test_no_retained_resource_has_a_name_the_next_deploy_would_reuse(non_dev_template):
    assert blocking_names(non_dev_template) == []


def test_data_is_still_retained_outside_dev(non_dev_template):
    """Guards the test above against passing because nothing is retained any more."""
    kept = {
        resource["Type"]
        for resource in non_dev_template["Resources"].values()
        if resource.get("DeletionPolicy") == "Retain"
    }
    assert {
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Logs::LogGroup",
        "AWS::SecretsManager::Secret",
    } <= kept


def test_the_execution_log_group_keeps_the_vendedlogs_prefix(non_dev_template):
    """Step Functions' advice for the CloudWatch Logs resource-policy size limit."""
    names = [
        _physical_name(resource)
        for resource in non_dev_template["Resources"].values()
        if resource["Type"] == "AWS::Logs::LogGroup"
    ]
    text = [json.dumps(name) for name in names if name is not None]
    assert any(f"/aws/vendedlogs/states/sales-pipeline-{NON_DEV_ENV}-" in t for t in text), text


def test_the_checker_reports_a_retained_fixed_name():
    """The checker itself: a retained log group named by a literal is reported."""
    template = {
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {"LogGroupName": "/aws/vendedlogs/states/sales-pipeline-prod"},
            },
            "Database": {
                "Type": "AWS::Glue::Database",
                "DeletionPolicy": "Retain",
                "Properties": {"DatabaseInput": {"Name": {"Fn::Join": ["_", ["a", "prod"]]}}},
            },
            "Unnamed": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {}},
        }
    }
    problems = blocking_names(template)
    assert [problem.split(":")[0] for problem in problems] == ["Database", "Logs"]
