"""Monitoring box: encrypted topic, alarms on every moving part, one dashboard."""

from __future__ import annotations

import json


def test_topic_is_kms_encrypted_and_subscribed_from_context(synthesis, cdk_context):
    monitoring = synthesis.stack.monitoring
    topic = synthesis.only("AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"] == {
        "Fn::GetAtt": [synthesis.logical_id(monitoring.topic_key), "Arn"]
    }
    subscriptions = synthesis.resources("AWS::SNS::Subscription")
    email = cdk_context.get("alert_email") or ""
    assert len(subscriptions) == (1 if email else 0)


def test_topic_policy_lets_this_accounts_alarms_publish_over_tls_only(synthesis):
    (policy,) = synthesis.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allow] == [{"Service": "cloudwatch.amazonaws.com"}]
    this_account = {"Ref": "AWS::AccountId"}
    assert allow[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": this_account}}
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_topic_key_lets_cloudwatch_alarms_publish(synthesis):
    key = synthesis.template["Resources"][
        synthesis.logical_id(synthesis.stack.monitoring.topic_key)
    ]["Properties"]
    statements = key["KeyPolicy"]["Statement"]
    assert any(
        statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        and "kms:GenerateDataKey*" in statement["Action"]
        for statement in statements
    )


def test_alarms_cover_failures_errors_dead_letters_and_glue(synthesis):
    alarms = synthesis.resources("AWS::CloudWatch::Alarm")
    topic_ref = {"Ref": synthesis.logical_id(synthesis.stack.monitoring.notification_topic)}
    assert all(alarm["Properties"]["AlarmActions"] == [topic_ref] for alarm in alarms.values())
    described = json.dumps([alarm["Properties"] for alarm in alarms.values()])
    for watched in (
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "Errors",
        "ApproximateNumberOfMessagesVisible",
        "TriggeredRules",
    ):
        assert watched in described, watched
    # state machine, the silver Glue job, the two functions, their two dead-letter queues,
    # and the quarantine ratio of batch runs at the quality gate's threshold
    assert len(alarms) == 7
    [ratio] = [a["Properties"] for a in alarms.values()
               if a["Properties"].get("MetricName") == "QuarantineRatio"]  # fmt: skip
    assert ratio["Namespace"] == "SalesPipeline" and ratio["Statistic"] == "Maximum"
    assert ratio["Threshold"] == synthesis.config.quality_threshold


def test_dashboard_shows_every_box(synthesis):
    body = json.dumps(synthesis.only("AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"])
    for title in (
        "Pipeline executions",
        "Trigger Lambda",
        "Event buffer",
        "Glue silver job runs",
        "Glue run-ended Lambda",
        "Glue run-ended events",
        "Silver rows per batch run",
        "Quarantined rows by reason",
        "Alarms",
    ):
        assert title in body, title
    # the per-reason graph finds every code the job publishes (quality_metrics owns the names)
    assert "SEARCH('{SalesPipeline,Loader,Reason} MetricName=" in body
    assert "RowsQuarantinedByReason" in body
