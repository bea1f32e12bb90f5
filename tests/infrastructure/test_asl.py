"""Every ASL file: valid JSON, all states reachable, placeholders substituted by the stack."""

from __future__ import annotations

import json

import pytest

from cdk.stack import PROJECT_ROOT
from step_functions import asl

ASL_FILES = sorted((PROJECT_ROOT / "step_functions").glob("*.asl.json"))


def test_there_is_a_pipeline_definition():
    assert PROJECT_ROOT / "step_functions" / "pipeline.asl.json" in ASL_FILES


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_asl_file_is_valid_json_with_every_state_reachable(path):
    _, definition = asl.load_definition(path)  # raises on invalid JSON
    assert asl.unreachable_states(definition) == []


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_asl_file_is_deployed_with_a_substitution_for_each_placeholder(path, synthesis):
    """A definition in step_functions/ that no state machine deploys would be dead code."""
    text, definition = asl.load_definition(path)
    deployed = [
        machine["Properties"]
        for machine in synthesis.resources("AWS::StepFunctions::StateMachine").values()
        if json.loads(machine["Properties"]["DefinitionString"]) == definition
    ]
    assert len(deployed) == 1, f"{path.name} is deployed by {len(deployed)} state machines"
    assert asl.placeholders(text) == set(deployed[0].get("DefinitionSubstitutions", {}))


def test_unreachable_and_dangling_states_are_reported():
    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Choice", "Choices": [{"Next": "B"}], "Default": "Gone"},
            "B": {"Type": "Succeed"},
            "Orphan": {"Type": "Pass", "End": True},
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "X",
                    "States": {
                        "X": {"Type": "Pass", "End": True},
                        "Y": {"Type": "Pass", "End": True},
                    },
                },
                "End": True,
            },
        },
    }
    problems = asl.unreachable_states(machine)
    assert "top level: state 'A' goes to unknown state 'Gone'" in problems
    assert "top level: state 'Orphan' is unreachable" in problems
    assert "M: state 'Y' is unreachable" in problems


def test_placeholders_and_integrations_are_read_from_nested_states():
    text = json.dumps(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "T",
                            "States": {
                                "T": {
                                    "Type": "Task",
                                    "End": True,
                                    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                                    "Parameters": {"Bucket": "${LakeBucketName}"},
                                }
                            },
                        }
                    ],
                }
            },
        }
    )
    assert asl.placeholders(text) == {"LakeBucketName"}
    assert asl.task_integrations(json.loads(text)) == {"aws-sdk:s3:getObject": {"P[0]/T"}}


def task_machine(resource: str) -> dict:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}


def test_a_resource_that_is_no_service_integration_is_refused():
    lambda_arn = "arn:aws:lambda:eu-west-1:123456789012:function:f"
    with pytest.raises(asl.AslError, match="is not a service integration"):
        asl.task_integrations(task_machine(lambda_arn))


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_service_integrations_are_in_the_one_partition_the_stack_targets(path, cdk_context):
    """`arn:aws:states:::` is right only while the stack deploys to `aws` alone (the
    Powertools layer parameters exist only there: test_ingestion.py)."""
    assert cdk_context["@aws-cdk/core:target-partitions"] == ["aws"]
    text, definition = asl.load_definition(path)
    assert asl.task_integrations(definition)  # raises on any other prefix
    assert "arn:aws-" not in text


def test_invalid_json_names_the_file_and_line(tmp_path):
    broken = tmp_path / "broken.asl.json"
    broken.write_text('{\n  "StartAt": ${GlueJobName}\n}\n')
    with pytest.raises(asl.AslError, match=r"broken\.asl\.json: line 2"):
        asl.load_definition(broken)


def test_substitution_fills_every_placeholder_and_refuses_leftovers():
    text = '{"Bucket": "${LakeBucketName}", "Job": "${GlueJobName}"}'
    filled = asl.substitute(text, {"LakeBucketName": "lake", "GlueJobName": "job"})
    assert json.loads(filled) == {"Bucket": "lake", "Job": "job"}
    leftover = r"pipeline: no value for placeholder\(s\) \['GlueJobName'\]"
    with pytest.raises(asl.AslError, match=leftover):
        asl.substitute(text, {"LakeBucketName": "lake"}, source="pipeline")
