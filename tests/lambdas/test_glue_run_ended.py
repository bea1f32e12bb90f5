"""The glue_run_ended function keeps the silver job's token contract, and every copy
of the terminal states (the rule in CDK and in the twin, the function) is the same.

Its behaviour on the state machine (each terminal state, a run the job already
reported, a late event) is in tests/step_functions/test_glue_completion.py.
"""

from __future__ import annotations

import json

import pytest
from sales_lake import task_token

from cdk import glue_run_events
from local_twin import provision
from local_twin.lambda_runtime import load_handler_module
from step_functions import asl

ENDS = ("FAILED", "TIMEOUT", "STOPPED", "ERROR")


@pytest.fixture(scope="module")
def function():
    return load_handler_module("glue_run_ended")


def test_the_function_completes_tokens_as_the_job_does(function):
    assert function.TOKEN_ARGUMENT == task_token.TOKEN_ARGUMENT
    assert function.ALREADY_COMPLETED == task_token.ALREADY_COMPLETED
    run = {"Id": "jr_1", "JobRunState": "SUCCEEDED", "ExecutionTime": 42}
    assert function.success_of(run) == task_token.success_output("jr_1", 42)
    for state in ENDS:
        run = {"Id": "jr_1", "JobRunState": state, "ErrorMessage": "Out of\\n memory"}
        expected = (task_token.failure_error(state),
                    task_token.failure_cause("jr_1", state, "Out of\\n memory"))  # fmt: skip
        assert function.failure_of(run) == expected


def test_the_rule_takes_every_terminal_state_in_cdk_the_twin_and_the_function(function):
    assert set(function.TERMINAL_STATES) == {"SUCCEEDED", *ENDS}
    assert glue_run_events.TERMINAL_STATES == function.TERMINAL_STATES


def test_the_state_machine_passes_the_token_under_the_jobs_argument_name():
    _, definition = asl.load_definition(provision.ASL_PATH)
    state = definition["States"]["RunGlueJob"]
    assert state["Resource"].endswith("glue:startJobRun.waitForTaskToken")
    assert f'"{task_token.TOKEN_ARGUMENT}":"{{}}"' in state["Parameters"]["Arguments.$"]
    assert 0 < state["HeartbeatSeconds"] < state["TimeoutSeconds"]
    assert state["HeartbeatSeconds"] > 5 * task_token.HEARTBEAT_SECONDS


def test_a_run_without_a_token_is_left_alone(function):
    assert function.complete({"Id": "jr_1", "JobRunState": "FAILED", "Arguments": {}}, None) == (
        "no_token"
    )


def test_the_job_reports_an_error_and_raises_it():
    sent = []

    class Client:
        def send_task_failure(self, **kwargs):
            sent.append(kwargs)

        def send_task_heartbeat(self, **kwargs):
            pass

    def work():
        raise ValueError("bad header")

    with pytest.raises(ValueError, match="bad header"):
        task_token.TaskToken("t", Client()).report(work, "jr_9", heartbeat=0.01)
    cause = "Glue job run jr_9 ended FAILED: ValueError: bad header"
    assert sent == [{"taskToken": "t", "error": "Glue.JobRunFailed", "cause": cause}]
    assert json.loads(json.dumps(task_token.success_output("jr_9", 3.7))) == {
        "Id": "jr_9", "JobRunState": "SUCCEEDED", "ExecutionTime": 3}  # fmt: skip


def test_a_report_the_job_cannot_send_leaves_the_run_to_the_event():
    class Unreachable:
        def send_task_success(self, **kwargs):
            raise ConnectionError("no route to states.us-east-1.amazonaws.com")

        def send_task_heartbeat(self, **kwargs):
            raise ConnectionError("no route")

    token = task_token.TaskToken("t", Unreachable())
    assert token.report(lambda: "loaded", "jr_9", heartbeat=0.01) == "loaded"
    assert token.succeed("jr_9", 1.0) == "not_sent"
