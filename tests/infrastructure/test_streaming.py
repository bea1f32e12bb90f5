"""cdk/streaming.py in the real stack, enabled by the connector plugin in context: the
session synthesis's NonDevStreaming stage (conftest.py), which cdk-nag and cfn-lint
check with the rest (test_lint_and_nag.py). Without the plugin context the stack has no
streaming resources (test_config.py, test_storage.py)."""

from __future__ import annotations

import base64
import json

import pytest

from cdk.streaming import StreamingConfigError, plugin_from_context
from msk_connect.connector_config import load_connector_config


@pytest.fixture(scope="module")
def synthesized(synthesis):
    non_dev = synthesis.non_dev
    return {"template": non_dev.template, "streaming": non_dev.stack.streaming,
            "stack": non_dev.stack}  # fmt: skip


def _one(template: dict, resource_type: str) -> dict:
    found = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    assert len(found) == 1, resource_type
    return found[0]["Properties"]


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


def test_plugin_context_is_required_and_validated():
    class Node:
        def __init__(self, **context):
            self.context = context

        def try_get_context(self, key):
            return self.context.get(key)

    assert plugin_from_context(Node()) is None  # streaming stays out of the stack
    with pytest.raises(StreamingConfigError, match="set both"):
        plugin_from_context(Node(s3SinkPluginBucket="b"))
    with pytest.raises(StreamingConfigError, match="is not a file"):
        plugin_from_context(Node(s3SinkPluginZip="/nonexistent/plugin.zip"))
