"""The state machine's role, checked against what AWS documents each integration needs.

The expectations below are written from the AWS documentation, not from
cdk/orchestration.py (which derives the grants): a grant the helper forgets, or
an integration the ASL starts using, fails here. Each row cites its page.
Resources are checked by the construct they must name (or "*"), not by shape.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest

from step_functions import asl

ECS_SYNC_RULE = "rule/StepFunctionsGetEventsForECSTaskRule"

# Step Functions > "IAM policies for integrated services", one page per service:
DOCS = {
    "glue": "https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html",
    "ecs": "https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html",
    "dynamodb": "https://docs.aws.amazon.com/step-functions/latest/dg/dynamo-iam.html",
    "sns": "https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html",
    "aws-sdk": "https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html",
    "logging": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
    "xray": "https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html",
    # Not in the Step Functions table, but the call fails without them:
    "passrole": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
    "sns-kms": "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html",
    "s3-kms": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
}


@dataclass(frozen=True)
class Need:
    """An IAM action the role must allow on a resource naming `target` (None: any)."""

    action: str
    target: str | None
    source: str


def _needs(integration: str, names: dict[str, str]) -> list[Need] | None:
    """What AWS documents `integration` (e.g. `glue:startJobRun.sync`) needs; None: no row."""
    table: dict[str, list[tuple[str, str | None, str]]] = {
        "glue:startJobRun.sync": [
            *(
                (f"glue:{a}", names["job"], "glue")
                for a in ("StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun")
            ),
        ],
        "glue:startJobRun": [("glue:StartJobRun", names["job"], "glue")],
        # "Request Response and Callback (.waitForTaskToken)": StartJobRun only.
        "glue:startJobRun.waitForTaskToken": [("glue:StartJobRun", names["job"], "glue")],
        "ecs:runTask.sync": [
            ("ecs:RunTask", names["task_definition"], "ecs"),
            ("ecs:StopTask", names["cluster"], "ecs"),
            ("ecs:DescribeTasks", names["cluster"], "ecs"),
            *(
                (f"events:{a}", ECS_SYNC_RULE, "ecs")
                for a in ("PutTargets", "PutRule", "DescribeRule")
            ),
            ("iam:PassRole", names["task_role"], "passrole"),
            ("iam:PassRole", names["execution_role"], "passrole"),
        ],
        "ecs:runTask": [
            ("ecs:RunTask", names["task_definition"], "ecs"),
            ("iam:PassRole", names["task_role"], "passrole"),
            ("iam:PassRole", names["execution_role"], "passrole"),
        ],
        **{
            f"dynamodb:{api}": [
                (f"dynamodb:{api[0].upper()}{api[1:]}", names["lock_table"], "dynamodb")
            ]
            for api in ("getItem", "putItem", "updateItem", "deleteItem")
        },
        "sns:publish": [
            ("sns:Publish", names["topic"], "sns"),
            ("kms:GenerateDataKey", names["topic_key"], "sns-kms"),
            ("kms:Decrypt", names["topic_key"], "sns-kms"),
        ],
        # aws-sdk integrations need the service's own IAM action; Step Functions is `states`.
        "aws-sdk:s3:getObject": [
            ("s3:GetObject", names["lake_bucket"], "aws-sdk"),
            ("kms:Decrypt", names["data_key"], "s3-kms"),
        ],
        "aws-sdk:sfn:describeExecution": [
            ("states:DescribeExecution", names["own_executions"], "aws-sdk"),
        ],
    }
    rows = table.get(integration)
    return None if rows is None else [Need(*row) for row in rows]


def _configuration_needs(properties: dict[str, Any]) -> list[Need]:
    """Logging to CloudWatch Logs and X-Ray tracing, when the state machine turns them on."""
    needs = []
    if properties.get("LoggingConfiguration", {}).get("Destinations"):
        needs += [
            Need(f"logs:{action}", None, "logging")
            for action in (
                "CreateLogDelivery",
                "GetLogDelivery",
                "UpdateLogDelivery",
                "DeleteLogDelivery",
                "ListLogDeliveries",
                "PutResourcePolicy",
                "DescribeResourcePolicies",
                "DescribeLogGroups",
            )
        ]
    if properties.get("TracingConfiguration", {}).get("Enabled"):
        needs += [
            Need(f"xray:{action}", None, "xray")
            for action in (
                "PutTraceSegments",
                "PutTelemetryRecords",
                "GetSamplingRules",
                "GetSamplingTargets",
            )
        ]
    return needs


def integrations_of(definition: str) -> set[str]:
    """Service integrations of the deployed definition (read by step_functions/asl.py)."""
    return set(asl.task_integrations(json.loads(definition)))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(statement: dict[str, Any], need: Need) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not any(
        fnmatchcase(need.action.lower(), pattern.lower())
        for pattern in _as_list(statement["Action"])
    ):
        return False
    resources = _as_list(statement["Resource"])
    return need.target is None or any(
        resource == "*" or need.target in json.dumps(resource) for resource in resources
    )


def missing_permissions(statements: list[dict[str, Any]], needs: list[Need]) -> list[str]:
    """The documented needs no statement allows, readably: `action on target (page)`."""
    return [
        f"{need.action} on {need.target or '*'} ({DOCS[need.source]})"
        for need in needs
        if not any(_covers(statement, need) for statement in statements)
    ]


# --- the synthesized stack -------------------------------------------------------------


def _role_statements(synthesis) -> list[dict[str, Any]]:
    role_id = synthesis.logical_id(synthesis.stack.orchestration.state_machine.role)
    role = synthesis.template["Resources"][role_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "check managed policies too if one is attached"
    inline = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    attached = [
        policy["Properties"]["PolicyDocument"]
        for policy in synthesis.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    return [statement for document in inline + attached for statement in document["Statement"]]


def _names(synthesis) -> dict[str, str]:
    """What each resource check looks for in a statement's Resource (logical ids, mostly)."""
    stack = synthesis.stack
    task_definition = stack.warehouse.task_definition
    return {
        "job": synthesis.logical_id(stack.processing.silver_job),
        "task_definition": synthesis.logical_id(task_definition),
        "cluster": synthesis.logical_id(stack.warehouse.cluster),
        "task_role": synthesis.logical_id(task_definition.task_role),
        "execution_role": synthesis.logical_id(task_definition.obtain_execution_role()),
        "lock_table": synthesis.logical_id(stack.orchestration.gold_refresh_table),
        "topic": synthesis.logical_id(stack.monitoring.notification_topic),
        "topic_key": synthesis.logical_id(stack.monitoring.topic_key),
        "lake_bucket": synthesis.logical_id(stack.storage.lake_bucket),
        "data_key": synthesis.logical_id(stack.storage.data_key),
        "own_executions": f":execution:{stack.orchestration.state_machine_name}:",
    }


def _state_machine(synthesis) -> dict[str, Any]:
    machine = synthesis.stack.orchestration.state_machine
    return synthesis.template["Resources"][synthesis.logical_id(machine)]["Properties"]


def _all_needs(synthesis) -> list[Need]:
    properties = _state_machine(synthesis)
    names = _names(synthesis)
    needs = _configuration_needs(properties)
    unknown = []
    for integration in sorted(integrations_of(properties["DefinitionString"])):
        rows = _needs(integration, names)
        if rows is None:
            unknown.append(integration)
        else:
            needs += rows
    assert not unknown, (
        f"no documented IAM row for {unknown}: add one to _needs() in "
        "tests/infrastructure/test_state_machine_iam.py from the Step Functions docs"
    )
    return needs


def test_the_role_allows_what_aws_documents_for_each_integration(synthesis):
    assert missing_permissions(_role_statements(synthesis), _all_needs(synthesis)) == []


@pytest.mark.parametrize(
    ("action", "target_key"),
    [
        ("glue:StartJobRun", "job"),
        ("iam:PassRole", "execution_role"),
        ("events:PutRule", None),
        ("kms:GenerateDataKey", "topic_key"),
    ],
)
def test_the_check_reports_an_action_removed_from_the_policy(synthesis, action, target_key):
    """The checker's own test: drop one action from a copy of the real policy."""
    statements = copy.deepcopy(_role_statements(synthesis))
    for statement in statements:
        statement["Action"] = [a for a in _as_list(statement["Action"]) if a != action]
        if action == "iam:PassRole" and statement["Action"] == []:
            # PassRole for the task role only: the execution role must be reported.
            statement["Action"] = ["iam:PassRole"]
            statement["Resource"] = [
                r
                for r in _as_list(statement["Resource"])
                if _names(synthesis)[target_key] not in json.dumps(r)
            ]
    missing = missing_permissions(statements, _all_needs(synthesis))
    assert missing and all(entry.startswith(f"{action} on ") for entry in missing), missing
    if target_key:
        assert any(_names(synthesis)[target_key] in entry for entry in missing), missing
