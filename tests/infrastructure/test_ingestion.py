"""Ingestion box: S3 events -> EventBridge -> SQS (+DLQ) -> trigger Lambda."""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib.metadata import version

import pytest
from moto.events.models import EventPattern

from cdk.ingestion import (
    BATCHING_WINDOW_SECONDS,
    LEDGER_CLAIM_LEASE_SECONDS,
    LEDGER_KEY_ATTRIBUTE,
    LEDGER_TTL_ATTRIBUTE,
    POWERTOOLS_PACKAGE,
    POWERTOOLS_PARTITIONS,
    TRIGGER_TIMEOUT_SECONDS,
)
from cdk.locked_versions import locked_version
from cdk.stack import PROJECT_ROOT


def _trigger_settings():
    """lambdas/trigger/trigger_settings.py, the owner of the trigger's variable names."""
    folder = str(PROJECT_ROOT / "lambdas" / "trigger")
    if folder not in sys.path:
        sys.path.append(folder)  # the trigger's modules import each other by plain name
    import trigger_settings

    return trigger_settings


TRIGGER_ENVIRONMENT = {
    *_trigger_settings().REQUIRED,
    *_trigger_settings().OPTIONAL,
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
}


RAW_BUCKET = "sales-raw-under-test"
# Keys the trigger accepts (checked below with its own rules), whatever their case.
INPUT_KEYS = (
    "landing/sales/orders.csv",
    "landing/sales/SALES.CSV",
    "landing/sales/2026/11/x.Csv.Gz",
    "topics/sales-events/year=2026/month=01/day=05/sales-events+0+0000000042.json",
    "topics/sales-events/year=2026/month=01/day=05/sales-events+1+0000001000.json.gz",
)
OTHER_KEYS = ("other/x.csv", "landing/x.csv", "manifests/run.json")


def _function(synthesis):
    return synthesis.template["Resources"][synthesis.logical_id(synthesis.stack.ingestion.function)]


def _rule(synthesis):
    rule = synthesis.stack.ingestion.rule
    return synthesis.template["Resources"][synthesis.logical_id(rule)]["Properties"]


def _trigger_input_rules():
    """lambdas/trigger/pipeline_objects.py, loaded by path (it is not a package)."""
    path = PROJECT_ROOT / "lambdas" / "trigger" / "pipeline_objects.py"
    spec = importlib.util.spec_from_file_location("trigger_pipeline_objects", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while executing
    spec.loader.exec_module(module)
    return module


def _object_created(key: str, bucket: str = RAW_BUCKET, detail_type: str = "Object Created"):
    """An S3 event as EventBridge delivers it (only the fields a pattern can test)."""
    return {
        "version": "0",
        "id": "5c0f1d3e-0000-0000-0000-000000000000",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-01-05T10:00:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 1024, "etag": "abc", "sequencer": "0001"},
            "reason": "PutObject",
        },
    }


def _deployed_pattern(synthesis) -> EventPattern:
    """The synthesized pattern with the raw bucket's Ref resolved to RAW_BUCKET."""
    raw_ref = {"Ref": synthesis.logical_id(synthesis.stack.storage.raw_bucket)}
    text = json.dumps(_rule(synthesis)["EventPattern"]).replace(
        json.dumps(raw_ref), json.dumps(RAW_BUCKET)
    )
    assert "Ref" not in text, text
    return EventPattern.load(text)


def test_moto_matches_wildcards_case_sensitively_like_eventbridge():
    """Premise of the next test: with a case-blind matcher it could not catch `*.csv`."""
    pattern = EventPattern.load(json.dumps({"key": [{"wildcard": "*.csv"}]}))
    assert pattern.matches_event({"key": "x.csv"})
    assert not pattern.matches_event({"key": "X.CSV"})


def test_every_key_the_trigger_accepts_reaches_the_queue_in_any_case(synthesis):
    pattern = _deployed_pattern(synthesis)
    trigger = _trigger_input_rules()
    for key in INPUT_KEYS:
        assert trigger.kind_of(trigger.S3ObjectRef(bucket=RAW_BUCKET, key=key)), key
        assert pattern.matches_event(_object_created(key)), f"rule drops {key}"


@pytest.mark.parametrize(
    "event",
    [
        _object_created(INPUT_KEYS[0], bucket="another-bucket"),
        _object_created(INPUT_KEYS[0], detail_type="Object Deleted"),
        *(_object_created(key) for key in OTHER_KEYS),
    ],
)
def test_rule_ignores_other_buckets_events_and_prefixes(synthesis, event):
    assert not _deployed_pattern(synthesis).matches_event(event)


def test_rule_sends_to_the_queue_with_the_dead_letter_queue(synthesis):
    ingestion = synthesis.stack.ingestion
    rule = _rule(synthesis)
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synthesis.logical_id(ingestion.queue), "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": [synthesis.logical_id(ingestion.dead_letter_queue), "Arn"]
    }


def test_queue_redrives_to_the_dead_letter_queue_and_outlives_the_function(synthesis):
    ingestion = synthesis.stack.ingestion
    queue = synthesis.template["Resources"][synthesis.logical_id(ingestion.queue)]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [synthesis.logical_id(ingestion.dead_letter_queue), "Arn"]
    }
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 3
    timeout = _function(synthesis)["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    for props in synthesis.resources("AWS::SQS::Queue").values():
        assert props["Properties"]["SqsManagedSseEnabled"] is True


def test_trigger_function_runs_the_handler_with_tracing_and_reserved_concurrency(synthesis):
    properties = _function(synthesis)["Properties"]
    assert properties["Runtime"] == "python3.11"
    assert properties["Handler"] == "app.lambda_handler"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert set(properties["Environment"]["Variables"]) == TRIGGER_ENVIRONMENT
    assert properties["ReservedConcurrentExecutions"] == synthesis.config.trigger_max_concurrency


def test_trigger_layer_is_the_powertools_release_the_tests_run_with(synthesis):
    """Resolved at deploy time from Powertools' public SSM parameter for that release."""
    properties = _function(synthesis)["Properties"]
    (layer,) = properties["Layers"]
    parameter = synthesis.template["Parameters"][layer["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    tested = version(POWERTOOLS_PACKAGE)
    assert locked_version(PROJECT_ROOT, POWERTOOLS_PACKAGE) == tested
    (architecture,) = properties["Architectures"]
    runtime = properties["Runtime"]  # e.g. python3.11, as the parameter path spells it
    assert parameter["Default"] == (
        f"/aws/service/powertools/python/{architecture}/{runtime}/{tested}"
    )


def test_the_stack_targets_only_partitions_where_powertools_publishes_its_parameters(
    cdk_context,
):
    assert set(cdk_context["@aws-cdk/core:target-partitions"]) <= set(POWERTOOLS_PARTITIONS)
    assert "powertools_layer_version" not in cdk_context  # the version comes from uv.lock


def test_trigger_code_is_the_lambda_folder_without_docker_bundling(synthesis):
    code = _function(synthesis)["Properties"]["Code"]
    asset_hash = code["S3Key"].removesuffix(".zip")
    staged = synthesis.outdir / f"asset.{asset_hash}"  # copied as-is, zipped on publish
    assert (staged / "app.py").is_file()
    assert not any(staged.rglob("__pycache__"))
    manifest = (synthesis.outdir / f"{synthesis.stack.stack_name}.assets.json").read_text()
    assert '"executable"' not in manifest  # no bundling/build command for file assets


def test_mapping_batches_a_window_and_reports_partial_failures(synthesis):
    function = synthesis.logical_id(synthesis.stack.ingestion.function)
    [mapping] = [
        m["Properties"]
        for m in synthesis.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumBatchingWindowInSeconds"] == BATCHING_WINDOW_SECONDS
    assert mapping["BatchSize"] > 10
    assert mapping["ScalingConfig"] == {
        "MaximumConcurrency": synthesis.config.trigger_max_concurrency
    }


def test_object_ledger_is_on_demand_with_ttl_and_pitr(synthesis):
    ledger = synthesis.stack.ingestion.object_ledger
    table = synthesis.template["Resources"][synthesis.logical_id(ledger)]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": LEDGER_KEY_ATTRIBUTE, "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": LEDGER_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    (replica,) = table["Replicas"]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_trigger_may_claim_in_the_ledger_and_check_executions(synthesis):
    ingestion = synthesis.stack.ingestion
    variables = _function(synthesis)["Properties"]["Environment"]["Variables"]
    ledger_ref = {"Ref": synthesis.logical_id(ingestion.object_ledger)}
    assert variables["OBJECT_LEDGER_TABLE"] == ledger_ref
    # The claim lease must outlive the function: a claim that old has no live claimant.
    assert int(variables["LEDGER_CLAIM_LEASE_SECONDS"]) == LEDGER_CLAIM_LEASE_SECONDS
    assert LEDGER_CLAIM_LEASE_SECONDS > TRIGGER_TIMEOUT_SECONDS
    role_id = synthesis.logical_id(ingestion.function.role)
    statements = [
        statement
        for policy in synthesis.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    ledger_arn = {"Fn::GetAtt": [synthesis.logical_id(ingestion.object_ledger), "Arn"]}
    [ledger] = [s for s in statements if s["Resource"] == ledger_arn]
    assert sorted(ledger["Action"]) == [
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
    ]
    [describe] = [s for s in statements if s["Action"] == "states:DescribeExecution"]
    name = synthesis.stack.orchestration.state_machine_name
    assert json.dumps(describe["Resource"]).endswith(f':execution:{name}:*"]]}}')
