"""Orchestration box: inline state machine with full substitutions, logs, tracing, lock table."""

from __future__ import annotations

import json

from cdk.orchestration import PIPELINE_DEFINITION, Integration
from cdk.stack import PROJECT_ROOT
from step_functions import asl


def _state_machine(synthesis):
    machine = synthesis.stack.orchestration.state_machine
    return synthesis.template["Resources"][synthesis.logical_id(machine)]["Properties"]


def _actions(statement) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_definition_is_inline_and_is_the_asl_file(synthesis):
    properties = _state_machine(synthesis)
    assert "DefinitionS3Location" not in properties
    text = (PROJECT_ROOT / PIPELINE_DEFINITION).read_text(encoding="utf-8")
    assert json.loads(properties["DefinitionString"]) == json.loads(text)


def test_every_placeholder_has_a_substitution_and_vice_versa(synthesis):
    properties = _state_machine(synthesis)
    used = asl.placeholders(properties["DefinitionString"])
    assert used, "the pipeline definition is expected to use ${Placeholders}"
    assert used == set(properties["DefinitionSubstitutions"])


def test_substitutions_point_at_the_deployed_resources(synthesis):
    stack = synthesis.stack
    substitutions = _state_machine(synthesis)["DefinitionSubstitutions"]
    silver_job = stack.processing.silver_job
    assert substitutions["GlueJobName"] == {"Ref": synthesis.logical_id(silver_job)}
    assert substitutions["DbtTaskDefinitionArn"] == {
        "Ref": synthesis.logical_id(stack.warehouse.task_definition)
    }
    assert substitutions["DbtContainerName"] == "dbt"
    assert substitutions["GoldRefreshTableName"] == {
        "Ref": synthesis.logical_id(stack.orchestration.gold_refresh_table)
    }
    assert substitutions["NotificationTopicArn"] == {
        "Ref": synthesis.logical_id(stack.monitoring.notification_topic)
    }
    assert float(substitutions["QuarantineRatioThreshold"]) == synthesis.config.quality_threshold
    assert substitutions["OnQualityBreach"] == synthesis.config.on_quality_breach
    subnets = json.dumps(substitutions["DbtSubnetIds"])
    assert subnets.count('"Ref"') == 2 and subnets.lower().count("private") == 2


def test_logging_all_events_and_tracing(synthesis):
    properties = _state_machine(synthesis)
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    (destination,) = logging["Destinations"]
    log_group = synthesis.stack.orchestration.log_group
    assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"] == {
        "Fn::GetAtt": [synthesis.logical_id(log_group), "Arn"]
    }


def test_role_allows_each_integration_the_definition_uses(synthesis):
    statements = synthesis.role_statements(synthesis.stack.orchestration.state_machine.role)
    granted = {action for statement in statements for action in _actions(statement)}
    _, definition = asl.load_definition(PROJECT_ROOT / PIPELINE_DEFINITION)
    for integration in asl.task_integrations(definition):
        action = Integration.parse(integration).iam_action.replace("sfn:", "states:")
        assert action in granted, f"{integration} needs {action}"


def test_role_scopes_glue_and_ecs_to_the_pipeline_resources(synthesis):
    stack = synthesis.stack
    statements = synthesis.role_statements(stack.orchestration.state_machine.role)
    by_action = {}
    for statement in statements:
        for action in _actions(statement):
            by_action.setdefault(action, []).append(statement)
    (glue,) = by_action["glue:StartJobRun"]
    job_arn = json.dumps(glue["Resource"])
    assert synthesis.logical_id(stack.processing.silver_job) in job_arn and "*" not in job_arn
    (run_task,) = by_action["ecs:RunTask"]
    assert run_task["Resource"] == {"Ref": synthesis.logical_id(stack.warehouse.task_definition)}
    assert "ecs:cluster" in json.dumps(run_task["Condition"])
    (publish,) = by_action["sns:Publish"]
    assert publish["Resource"] == {"Ref": synthesis.logical_id(stack.monitoring.notification_topic)}


def test_gold_refresh_table_is_on_demand_with_pitr(synthesis):
    table = synthesis.template["Resources"][
        synthesis.logical_id(synthesis.stack.orchestration.gold_refresh_table)
    ]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    (replica,) = table["Replicas"]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_no_policy_grants_a_wildcard_action_on_every_resource(synthesis):
    offenders = []
    for logical_id, policy in synthesis.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            wild_actions = [a for a in _actions(statement) if "*" in a]
            if "*" in resources and wild_actions:
                offenders.append((logical_id, wild_actions))
    assert offenders == []
