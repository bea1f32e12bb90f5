"""The run-ended path on the synthesized stack: the rule takes the silver job's terminal
states (the same pattern the twin provisions), the queue has a
DLQ, the function reports partial failures, and IAM is least privilege: the function
may only read the job's runs and complete this state machine's tokens; the job role
may complete and heartbeat them."""

from __future__ import annotations

import json

from cdk.glue_run_events import TERMINAL_STATES
from local_twin import provision


def _actions(statement: dict) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def _state_machine_arn(resource) -> bool:
    text = json.dumps(resource)
    return ":stateMachine:sales-pipeline-" in text and "*" not in text


def test_the_rule_takes_every_terminal_state_of_the_silver_job(synthesis):
    events = synthesis.stack.orchestration.glue_run_events
    rule = synthesis.template["Resources"][synthesis.logical_id(events.rule)]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.glue"]
    assert pattern["detail-type"] == ["Glue Job State Change"]
    assert pattern["detail"]["state"] == list(TERMINAL_STATES)
    job = synthesis.logical_id(synthesis.stack.processing.silver_job)
    assert pattern["detail"]["jobName"] == [{"Ref": job}]
    twin = provision.glue_run_ended_pattern("job")
    assert {**pattern, "detail": {**pattern["detail"], "jobName": ["job"]}} == twin
    [target] = rule["Targets"]
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_the_function_reads_its_queue_with_partial_failures_and_a_dlq(synthesis):
    events = synthesis.stack.orchestration.glue_run_events
    function = synthesis.logical_id(events.function)
    [mapping] = [
        m["Properties"]
        for m in synthesis.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = synthesis.template["Resources"][synthesis.logical_id(events.queue)]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] > 1


def test_only_this_state_machines_tokens_can_be_completed(synthesis):
    stack = synthesis.stack
    function = synthesis.role_statements(stack.orchestration.glue_run_events.function.role)
    sends = [s for s in function if _actions(s) & {"states:SendTaskSuccess"}]
    assert [_actions(s) for s in sends] == [{"states:SendTaskSuccess", "states:SendTaskFailure"}]
    assert _state_machine_arn(sends[0]["Resource"])
    [read] = [s for s in function if "glue:GetJobRun" in _actions(s)]
    assert _actions(read) == {"glue:GetJobRun"}
    assert synthesis.logical_id(stack.processing.silver_job) in json.dumps(read["Resource"])
    job = synthesis.role_statements(stack.processing.role)
    [token] = [s for s in job if _actions(s) & {"states:SendTaskSuccess"}]
    assert _actions(token) == {
        "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"
    }  # fmt: skip
    assert _state_machine_arn(token["Resource"])
    every = function + job + synthesis.role_statements(stack.orchestration.state_machine.role)
    assert not [s for s in every if any(a.startswith("states:SendTask") for a in _actions(s))
                and not _state_machine_arn(s["Resource"])]  # fmt: skip
