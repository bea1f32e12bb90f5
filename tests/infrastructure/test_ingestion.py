"""Ingestion box: S3 events -> EventBridge -> SQS (+DLQ) -> trigger Lambda."""

from __future__ import annotations

import json

from cdk.ingestion import (
    BATCHING_WINDOW_SECONDS,
    LEDGER_CLAIM_LEASE_SECONDS,
    LEDGER_KEY_ATTRIBUTE,
    LEDGER_TTL_ATTRIBUTE,
    POWERTOOLS_LAYER_ACCOUNT,
    POWERTOOLS_LAYER_NAME,
    TRIGGER_TIMEOUT_SECONDS,
    WATCHED_KEY_PATTERNS,
)

TRIGGER_ENVIRONMENT = {
    "STATE_MACHINE_ARN",
    "LAKE_BUCKET",
    "RAW_BUCKET",
    "OBJECT_LEDGER_TABLE",
    "LEDGER_CLAIM_LEASE_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
}


def _function(synthesis):
    return synthesis.template["Resources"][synthesis.logical_id(synthesis.stack.ingestion.function)]


def test_rule_matches_new_pipeline_objects_in_the_raw_bucket_only(synthesis):
    ingestion = synthesis.stack.ingestion
    rule = synthesis.template["Resources"][synthesis.logical_id(ingestion.rule)]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [
        {"Ref": synthesis.logical_id(synthesis.stack.storage.raw_bucket)}
    ]
    keys = pattern["detail"]["object"]["key"]
    assert sorted(matcher["wildcard"] for matcher in keys) == sorted(WATCHED_KEY_PATTERNS)
    assert all(p.startswith(("landing/sales/", "topics/")) for p in WATCHED_KEY_PATTERNS)
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


def test_trigger_function_runs_the_handler_with_the_pinned_powertools_layer(synthesis):
    properties = _function(synthesis)["Properties"]
    assert properties["Runtime"] == "python3.11"
    assert properties["Handler"] == "app.lambda_handler"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert set(properties["Environment"]["Variables"]) == TRIGGER_ENVIRONMENT
    (layer,) = properties["Layers"]
    arn = json.dumps(layer)
    version = synthesis.config.powertools_layer_version
    assert f":{POWERTOOLS_LAYER_ACCOUNT}:layer:{POWERTOOLS_LAYER_NAME}:{version}" in arn
    assert "AWS::Partition" in arn and "AWS::Region" in arn  # no hard-coded region
    assert properties["ReservedConcurrentExecutions"] == synthesis.config.trigger_max_concurrency


def test_trigger_code_is_the_lambda_folder_without_docker_bundling(synthesis):
    code = _function(synthesis)["Properties"]["Code"]
    asset_hash = code["S3Key"].removesuffix(".zip")
    staged = synthesis.outdir / f"asset.{asset_hash}"  # copied as-is, zipped on publish
    assert (staged / "app.py").is_file()
    assert not any(staged.rglob("__pycache__"))
    manifest = (synthesis.outdir / f"{synthesis.stack.stack_name}.assets.json").read_text()
    assert '"executable"' not in manifest  # no bundling/build command for file assets


def test_mapping_batches_a_window_and_reports_partial_failures(synthesis):
    mapping = synthesis.only("AWS::Lambda::EventSourceMapping")["Properties"]
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
