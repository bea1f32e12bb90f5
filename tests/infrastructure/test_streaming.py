"""cdk/streaming.py in the real stack, enabled by the connector plugin in context: the
session synthesis's NonDevStreaming stage (conftest.py), which cdk-nag and cfn-lint
check with the rest (test_lint_and_nag.py). The same synthesis's main stack is built
from cdk.json, whose plugin keys are empty: streaming off, said at synthesis."""

from __future__ import annotations

import base64
import json

import pytest

from cdk import outputs as names
from cdk.streaming import (
    CONNECT_NAMESPACE,
    ERRORED_TASKS,
    MSK_IAM_PORT,
    PLUGIN_KEYS,
    STREAMING_OFF,
    StreamingConfigError,
    plugin_from_context,
)
from msk_connect.connector_config import load_connector_config

INFO = "aws:cdk:info"  # the metadata type of Annotations.add_info in the cloud assembly


@pytest.fixture(scope="module")
def synthesized(synthesis):
    non_dev = synthesis.non_dev
    return {"template": non_dev.template, "streaming": non_dev.stack.streaming,
            "stack": non_dev.stack}  # fmt: skip


def _one(template: dict, resource_type: str) -> dict:
    found = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    assert len(found) == 1, resource_type
    return found[0]["Properties"]


class Node:
    """A construct node's context, as `plugin_from_context` reads it."""

    def __init__(self, **context):
        self.context = context

    def try_get_context(self, key):
        return self.context.get(key)


def _assembly_messages(stack_synthesis, message_type: str) -> list[str]:
    """The stack's messages in the cloud assembly manifest, which `cdk synth` and `cdk
    deploy` print. Read from the session's synthesis: Annotations.from_stack would
    synthesize the app again (and fail on the NagCanary stage)."""
    folder = stack_synthesis.template_file.parent
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    artifact = manifest["artifacts"][stack_synthesis.stack.artifact_id]
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:  # where recent CDK versions write it
        extra = (folder / artifact["additionalMetadataFile"]).read_text(encoding="utf-8")
        metadata.update(json.loads(extra))
    return [
        entry["data"]
        for entries in metadata.values()
        for entry in entries
        if entry["type"] == message_type
    ]


def test_serverless_cluster_uses_iam_auth_in_private_subnets(synthesized):
    cluster = _one(synthesized["template"], "AWS::MSK::ServerlessCluster")
    assert cluster["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    assert len(cluster["VpcConfigs"][0]["SubnetIds"]) == 2


def test_connector_runs_the_repository_configuration_with_iam_and_tls(synthesized):
    connector = _one(synthesized["template"], "AWS::KafkaConnect::Connector")
    expected = load_connector_config({"RawBucketName": "x", "AwsRegion": "y"})
    configured = connector["ConnectorConfiguration"]
    assert set(configured) == set(expected)
    for key in ("topics", "flush.size", "rotate.interval.ms", "path.format", "partitioner.class"):
        assert configured[key] == expected[key]
    assert configured["s3.bucket.name"]["Ref"].startswith("StorageRawBucket")
    assert connector["KafkaClusterClientAuthentication"] == {"AuthenticationType": "IAM"}
    assert connector["KafkaClusterEncryptionInTransit"] == {"EncryptionType": "TLS"}
    assert connector["KafkaConnectVersion"].startswith("3.7")
    assert connector["LogDelivery"]["WorkerLogDelivery"]["CloudWatchLogs"]["Enabled"] is True
    assert "AutoScaling" in connector["Capacity"]
    bootstrap = connector["KafkaCluster"]["ApacheKafkaCluster"]["BootstrapServers"]
    assert "BootstrapBrokerStringSaslIam" in json.dumps(bootstrap)


def test_plugin_and_worker_configuration_come_from_the_user_and_the_repository(synthesized):
    plugin = _one(synthesized["template"], "AWS::KafkaConnect::CustomPlugin")
    assert plugin["ContentType"] == "ZIP"
    given = synthesized["stack"].node.try_get_context("s3SinkPluginKey")
    assert plugin["Location"]["S3Location"]["FileKey"] == given
    worker = _one(synthesized["template"], "AWS::KafkaConnect::WorkerConfiguration")
    text = base64.b64decode(worker["PropertiesFileContent"]).decode()
    assert "value.converter.schemas.enable=false" in text


def test_service_role_is_scoped_to_the_topic_and_the_raw_prefix(synthesized):
    template = synthesized["template"]
    role_id = synthesized["stack"].resolve(
        synthesized["stack"].get_logical_id(synthesized["streaming"].role.node.default_child)
    )
    trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "kafkaconnect.amazonaws.com"}
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    text = json.dumps(statements)
    assert '"*"' not in text  # no unscoped resource or action
    writes = [s for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    assert len(writes) == 1
    assert json.dumps(writes[0]["Resource"]).endswith('/topics/sales-order-lines/*"]]}')
    read_topic = [
        s
        for s in statements
        if s["Action"] == ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    ]
    assert "/sales-order-lines" in json.dumps(read_topic)


def test_plugin_context_is_required_and_validated(tmp_path):
    assert plugin_from_context(Node()) is None  # streaming stays out of the stack
    with pytest.raises(StreamingConfigError, match="set both s3SinkPluginBucket"):
        plugin_from_context(Node(s3SinkPluginBucket="b", s3SinkPluginKey=""))
    with pytest.raises(StreamingConfigError, match="is not a file"):
        plugin_from_context(Node(s3SinkPluginZip="/nonexistent/plugin.zip"))
    plugin_zip = tmp_path / "plugin.zip"
    plugin_zip.write_bytes(b"PK")
    with pytest.raises(StreamingConfigError, match="not both"):
        plugin_from_context(Node(s3SinkPluginZip=str(plugin_zip), s3SinkPluginBucket="b"))
    assert plugin_from_context(Node(s3SinkPluginZip=str(plugin_zip))).zip_path == str(plugin_zip)


def test_cdk_json_holds_the_plugin_keys_empty(cdk_context):
    """In cdk.json, not only on a `-c` command line: a deploy without the `-c` would
    otherwise delete the cluster and the connector. Empty: streaming off by default."""
    assert {key: cdk_context.get(key) for key in PLUGIN_KEYS} == dict.fromkeys(PLUGIN_KEYS, "")


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_empty_plugin_keys_mean_streaming_off(blank):
    assert plugin_from_context(Node(**dict.fromkeys(PLUGIN_KEYS, blank))) is None


def test_the_stack_of_cdk_json_has_no_streaming_and_says_which_keys_turn_it_on(synthesis):
    assert synthesis.stack.streaming is None
    assert not synthesis.resources("AWS::MSK::ServerlessCluster")
    infos = [info for info in _assembly_messages(synthesis, INFO) if "Streaming is off" in info]
    assert infos == [STREAMING_OFF]
    for key in (*PLUGIN_KEYS, "cdk.json"):
        assert f"{key}" in infos[0]
    assert STREAMING_OFF not in _assembly_messages(synthesis.non_dev, INFO)


def test_outputs_give_a_producer_the_bootstrap_servers_topic_policy_and_network(synthesized):
    template, streaming = synthesized["template"], synthesized["streaming"]
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert set(names.ALL) | set(names.STREAMING) <= set(outputs)
    # MSK Serverless has no bootstrap attribute: the output is the connector's own lookup.
    lookup_id, attribute = outputs[names.STREAMING_BOOTSTRAP_SERVERS]["Fn::GetAtt"]
    assert attribute == "BootstrapBrokerStringSaslIam"
    assert streaming.bootstrap_servers == streaming.bootstrap_lookup.get_response_field(attribute)
    lookup = template["Resources"][lookup_id]
    assert lookup["Type"] == "Custom::AWS"
    call = lookup["Properties"]["Create"]["Fn::Join"][1][0]  # the SDK call, as JSON text
    assert call.startswith('{"action":"getBootstrapBrokers","service":"Kafka"')
    connector = _one(template, "AWS::KafkaConnect::Connector")
    assert outputs[names.STREAMING_TOPIC] == connector["ConnectorConfiguration"]["topics"]
    policy = outputs[names.STREAMING_PRODUCER_POLICY]["Ref"]
    assert template["Resources"][policy]["Type"] == "AWS::IAM::ManagedPolicy"
    group = outputs[names.STREAMING_PRODUCER_SECURITY_GROUP]["Fn::GetAtt"][0]
    assert template["Resources"][group]["Type"] == "AWS::EC2::SecurityGroup"
    to_brokers = [
        rule["Properties"]
        for rule in template["Resources"].values()
        if rule["Type"] == "AWS::EC2::SecurityGroupIngress"
        and rule["Properties"].get("SourceSecurityGroupId") == {"Fn::GetAtt": [group, "GroupId"]}
    ]
    assert [(r["FromPort"], r["ToPort"]) for r in to_brokers] == [(MSK_IAM_PORT, MSK_IAM_PORT)]


def test_the_stack_without_streaming_has_no_streaming_outputs(synthesis):
    assert set(synthesis.template["Outputs"]) == set(names.ALL)


def test_a_failed_sink_task_alarms_the_notification_topic(synthesized):
    template, stack = synthesized["template"], synthesized["stack"]
    alarms = [
        alarm["Properties"]
        for alarm in template["Resources"].values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm"
        and alarm["Properties"].get("Namespace") == CONNECT_NAMESPACE
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    connector = _one(template, "AWS::KafkaConnect::Connector")
    assert alarm["MetricName"] == ERRORED_TASKS
    assert alarm["Dimensions"] == [{"Name": "ConnectorName", "Value": connector["ConnectorName"]}]
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Maximum", 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    topic_id = stack.resolve(
        stack.get_logical_id(stack.monitoring.notification_topic.node.default_child)
    )
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_the_connector_alarm_and_tasks_are_on_the_dashboard(synthesized):
    stack = synthesized["stack"]
    alarm = next(a for a in stack.monitoring.alarms if a.node.id == "ConnectorTaskErrorsAlarm")
    alarm_id = stack.resolve(stack.get_logical_id(alarm.node.default_child))
    parts = _one(synthesized["template"], "AWS::CloudWatch::Dashboard")["DashboardBody"]
    parts = parts["Fn::Join"][1]
    assert {"Fn::GetAtt": [alarm_id, "Arn"]} in parts  # in the alarm overview widget
    text = "".join(part for part in parts if isinstance(part, str))
    for metric in ("RunningTaskCount", ERRORED_TASKS):
        assert f'"{CONNECT_NAMESPACE}","{metric}","ConnectorName"' in text
