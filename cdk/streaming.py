"""Streaming box: MSK Serverless (IAM auth) -> MSK Connect S3 sink -> raw bucket `topics/`.

The sink writes stream files into the raw bucket, where the ingestion rule already
sees them (kind "stream"); from there the pipeline is the batch one, with the one
silver Glue job running its stream loader (`--source_kind stream`). The connector
configuration is msk_connect/connector.json, the same file the local twin's sink reads.

The connector's code (the Confluent S3 sink zip) is not on Maven Central, so the
user supplies it (msk_connect/README.md): context `s3SinkPluginZip` (a local zip,
uploaded as an asset) or `s3SinkPluginBucket` + `s3SinkPluginKey` (already in S3).
The three keys live in cdk.json, empty meaning "streaming off": a value given only
with `-c` on one deploy would be missing from the next, and that deploy would delete
the cluster and the connector. Without a plugin the stack has no streaming resources
and synthesis prints an info naming the keys to set (`add_streaming`).

MSK Serverless topics cannot be declared in CloudFormation (AWS::MSK::Topic is for
provisioned clusters): the producer creates the topic on first use with the
permissions of `producer_policy`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Annotations, Aws, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kafkaconnect as kafkaconnect
from aws_cdk import aws_logs as logs
from aws_cdk import aws_msk as msk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from cdk.config import PipelineConfig
from cdk.monitoring import ALARM_PERIOD
from cdk.storage import STREAM_TOPICS_PREFIX, Storage
from msk_connect.connector_config import load_connector_config, load_worker_properties

MSK_IAM_PORT = 9098
KAFKA_CONNECT_VERSION = "3.7.x"
# Prefix of the topics and groups MSK Connect creates for its own bookkeeping.
CONNECT_INTERNAL = "__amazon_msk_connect_"
# Construct id of the singleton Lambda behind every AwsCustomResource in a stack.
AWS_CUSTOM_RESOURCE_PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"
# MSK Connect's CloudWatch metrics: this namespace, one `ConnectorName` dimension.
CONNECT_NAMESPACE = "AWS/KafkaConnect"
ERRORED_TASKS = "ErroredTaskCount"
RUNNING_TASKS = "RunningTaskCount"

# The context keys of the connector plugin (cdk.json; empty = streaming off).
PLUGIN_ZIP = "s3SinkPluginZip"
PLUGIN_BUCKET = "s3SinkPluginBucket"
PLUGIN_KEY = "s3SinkPluginKey"
PLUGIN_KEYS = (PLUGIN_ZIP, PLUGIN_BUCKET, PLUGIN_KEY)
STREAMING_OFF = (
    "Streaming is off (no MSK Serverless cluster, no S3 sink connector): to deploy it, set "
    f'"{PLUGIN_ZIP}" (a local confluentinc-kafka-connect-s3 zip) or "{PLUGIN_BUCKET}" + '
    f'"{PLUGIN_KEY}" (the zip in S3) in the "context" of cdk.json, not with -c '
    "(msk_connect/README.md)."
)


@dataclass(frozen=True, kw_only=True)
class PluginSource:
    """Where the S3 sink connector zip comes from: a local file or an S3 object."""

    zip_path: str | None = None
    bucket_name: str | None = None
    key: str | None = None


class StreamingConfigError(ValueError):
    """Streaming context is inconsistent; the message names the keys and the fix."""


def _context_text(node, key: str) -> str:
    """A context value as text; absent, null and blank are all "" (cdk.json ships "")."""
    value = node.try_get_context(key)
    return "" if value is None else str(value).strip()


def plugin_from_context(node) -> PluginSource | None:
    """The plugin location from CDK context, or None (streaming not deployed)."""
    zip_path, bucket, key = (_context_text(node, name) for name in PLUGIN_KEYS)
    if zip_path:
        if bucket or key:
            raise StreamingConfigError(
                f"set either {PLUGIN_ZIP} or {PLUGIN_BUCKET} + {PLUGIN_KEY} in cdk.json, "
                "not both: empty the ones you do not use"
            )
        if not Path(zip_path).is_file():
            raise StreamingConfigError(
                f"context {PLUGIN_ZIP}={zip_path!r} is not a file: download "
                "confluentinc-kafka-connect-s3-<version>.zip (msk_connect/README.md)"
            )
        return PluginSource(zip_path=zip_path)
    if bucket or key:
        if not (bucket and key):
            raise StreamingConfigError(
                f"set both {PLUGIN_BUCKET} and {PLUGIN_KEY} in cdk.json (the S3 sink plugin zip)"
            )
        return PluginSource(bucket_name=bucket, key=key)
    return None


class Streaming(Construct):
    """MSK Serverless cluster, S3 sink connector (plugin, worker config, role, logs), and
    what a producer needs: its policy and its security group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        storage: Storage,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        plugin: PluginSource,
    ) -> None:
        super().__init__(scope, construct_id)
        raw = storage.raw_bucket
        self.raw_bucket_cfn = raw.node.default_child
        self.connector_config = load_connector_config(
            {"RawBucketName": raw.bucket_name, "AwsRegion": Aws.REGION}
        )
        self.topic = self.connector_config["topics"]
        self.connector_name = f"sales-{config.env_name}-s3-sink"
        subnet_ids = vpc.select_subnets(
            subnet_type=subnets.subnet_type, subnet_group_name=subnets.subnet_group_name
        ).subnet_ids

        self._network(vpc)
        self.cluster = msk.CfnServerlessCluster(
            self,
            "Cluster",
            cluster_name=f"sales-{config.env_name}-events",
            client_authentication={"sasl": {"iam": {"enabled": True}}},
            vpc_configs=[
                {
                    "subnetIds": subnet_ids,
                    "securityGroups": [self.cluster_security_group.security_group_id],
                }
            ],
        )
        self.bootstrap_servers = self._bootstrap_servers()
        self.log_group = logs.LogGroup(
            self,
            "ConnectorLogs",
            retention=config.log_retention,
            removal_policy=config.data_removal_policy,
        )
        self.role = self._service_role(storage)
        self.custom_plugin = self._plugin(plugin)
        self.worker_configuration = kafkaconnect.CfnWorkerConfiguration(
            self,
            "WorkerConfiguration",
            name=f"sales-{config.env_name}-s3-sink-worker",
            description="String keys, schemaless JSON values (msk_connect/worker.properties)",
            properties_file_content=base64.b64encode(load_worker_properties().encode()).decode(),
        )
        self.connector = kafkaconnect.CfnConnector(
            self,
            "S3SinkConnector",
            connector_name=self.connector_name,
            connector_description=f"Kafka topic {self.topic} -> s3://raw/{STREAM_TOPICS_PREFIX}",
            kafka_connect_version=KAFKA_CONNECT_VERSION,
            connector_configuration=self.connector_config,
            capacity={
                "autoScaling": {
                    "mcuCount": 1,
                    "minWorkerCount": 1,
                    "maxWorkerCount": 2,
                    "scaleInPolicy": {"cpuUtilizationPercentage": 20},
                    "scaleOutPolicy": {"cpuUtilizationPercentage": 80},
                }
            },
            kafka_cluster={
                "apacheKafkaCluster": {
                    "bootstrapServers": self.bootstrap_servers,
                    "vpc": {
                        "securityGroups": [self.connector_security_group.security_group_id],
                        "subnets": subnet_ids,
                    },
                }
            },
            kafka_cluster_client_authentication={"authenticationType": "IAM"},
            kafka_cluster_encryption_in_transit={"encryptionType": "TLS"},
            plugins=[
                {
                    "customPlugin": {
                        "customPluginArn": self.custom_plugin.attr_custom_plugin_arn,
                        "revision": self.custom_plugin.attr_revision,
                    }
                }
            ],
            worker_configuration={
                "workerConfigurationArn": self.worker_configuration.attr_worker_configuration_arn,
                "revision": self.worker_configuration.attr_revision,
            },
            service_execution_role_arn=self.role.role_arn,
            log_delivery={
                "workerLogDelivery": {
                    "cloudWatchLogs": {"enabled": True, "logGroup": self.log_group.log_group_name}
                }
            },
        )
        # The role's permissions must exist before MSK Connect validates them.
        self.connector.node.add_dependency(self.role)
        self.producer_policy = self._producer_policy()

    # -- health -----------------------------------------------------------------------------

    def connector_metric(self, metric_name: str) -> cloudwatch.Metric:
        """One of MSK Connect's per-connector metrics, worst value of each alarm period."""
        return cloudwatch.Metric(
            namespace=CONNECT_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"ConnectorName": self.connector_name},
            statistic="Maximum",
            period=ALARM_PERIOD,
        )

    # -- pieces ---------------------------------------------------------------------------

    def _network(self, vpc: ec2.IVpc) -> None:
        self.cluster_security_group = ec2.SecurityGroup(
            self,
            "ClusterSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="MSK Serverless: IAM/TLS clients on 9098 from the connector",
        )
        self.connector_security_group = self._broker_client(
            vpc,
            "ConnectorSecurityGroup",
            "MSK Connect S3 sink: out to the cluster (9098) and S3 (443)",
            "connector to brokers",
        )
        self.connector_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "S3 (gateway endpoint) and AWS APIs"
        )
        # The brokers are only reachable inside the VPC: a producer there (an EC2
        # instance, a CloudShell VPC environment) gets this group next to its own.
        self.producer_security_group = self._broker_client(
            vpc,
            "ProducerSecurityGroup",
            "Producers of sales events: out to the MSK Serverless brokers (9098)",
            "producers to brokers",
        )

    def _broker_client(
        self, vpc: ec2.IVpc, id_: str, description: str, label: str
    ) -> ec2.SecurityGroup:
        """A security group whose members reach the brokers on 9098 (and only that)."""
        group = ec2.SecurityGroup(
            self, id_, vpc=vpc, allow_all_outbound=False, description=description
        )
        self.cluster_security_group.add_ingress_rule(group, ec2.Port.tcp(MSK_IAM_PORT), label)
        group.add_egress_rule(
            self.cluster_security_group, ec2.Port.tcp(MSK_IAM_PORT), "to brokers (IAM, TLS)"
        )
        return group

    def _bootstrap_servers(self) -> str:
        """MSK Serverless exposes no bootstrap attribute: ask the Kafka API at deploy time."""
        call = cr.AwsSdkCall(
            service="Kafka",
            action="getBootstrapBrokers",
            parameters={"ClusterArn": self.cluster.attr_arn},
            physical_resource_id=cr.PhysicalResourceId.of(self.cluster.attr_arn),
            output_paths=["BootstrapBrokerStringSaslIam"],
        )
        lookup = cr.AwsCustomResource(
            self,
            "BootstrapBrokers",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["kafka:GetBootstrapBrokers"], resources=[self.cluster.attr_arn]
                    )
                ]
            ),
        )
        self.bootstrap_lookup = lookup
        return lookup.get_response_field("BootstrapBrokerStringSaslIam")

    def _kafka_arn(self, kind: str, name: str) -> str:
        """A topic or group ARN: arn:...:kafka:<region>:<account>:<kind>/<cluster>/<uuid>/<name>."""
        cluster_path = Fn.select(1, Fn.split(":cluster/", self.cluster.attr_arn))
        return (
            f"arn:{Aws.PARTITION}:kafka:{Aws.REGION}:{Aws.ACCOUNT_ID}:{kind}/{cluster_path}/{name}"
        )

    def _service_role(self, storage: Storage) -> iam.Role:
        connector_arn = (
            f"arn:{Aws.PARTITION}:kafkaconnect:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"connector/{self.connector_name}/*"
        )
        role = iam.Role(
            self,
            "ServiceExecutionRole",
            description="MSK Connect S3 sink: reads the sales topic, writes raw topics/",
            assumed_by=iam.ServicePrincipal(
                "kafkaconnect.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": connector_arn},
                },
            ),
        )
        statements = [
            (["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"], [self.cluster.attr_arn]),
            (
                ["kafka-cluster:ReadData", "kafka-cluster:DescribeTopic"],
                [self._kafka_arn("topic", self.topic)],
            ),
            (
                [
                    "kafka-cluster:CreateTopic",
                    "kafka-cluster:WriteData",
                    "kafka-cluster:ReadData",
                    "kafka-cluster:DescribeTopic",
                ],
                [self._kafka_arn("topic", f"{CONNECT_INTERNAL}*")],
            ),
            (
                ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                [
                    self._kafka_arn("group", f"connect-{self.connector_name}"),
                    self._kafka_arn("group", f"{CONNECT_INTERNAL}*"),
                ],
            ),
        ]
        for actions, resources in statements:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        prefix = f"{STREAM_TOPICS_PREFIX}{self.topic}/"
        storage.grant_write_objects(role, storage.raw_bucket, prefix)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListMultipartUploadParts"],
                resources=[storage.raw_bucket.arn_for_objects(f"{prefix}*")],
            )
        )
        # The sink checks the bucket with HeadBucket (s3:ListBucket, no prefix to scope by).
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[storage.raw_bucket.bucket_arn],
            )
        )
        return role

    def _plugin(self, plugin: PluginSource) -> kafkaconnect.CfnCustomPlugin:
        if plugin.zip_path:
            asset = s3_assets.Asset(self, "S3SinkPluginZip", path=plugin.zip_path)
            bucket, key = asset.bucket, asset.s3_object_key
        else:
            bucket = s3.Bucket.from_bucket_name(self, "PluginBucket", plugin.bucket_name)
            key = plugin.key
        # MSK Connect fetches the plugin with the connector's role.
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(key)])
        )
        return kafkaconnect.CfnCustomPlugin(
            self,
            "S3SinkPlugin",
            name=f"{self.connector_name}-plugin",
            description="Confluent S3 sink connector (confluentinc-kafka-connect-s3)",
            content_type="ZIP",
            location={"s3Location": {"bucketArn": bucket.bucket_arn, "fileKey": key}},
        )

    def _producer_policy(self) -> iam.ManagedPolicy:
        """What a producer (msk_connect/producer.py --auth iam) needs: attach it to its role."""
        return iam.ManagedPolicy(
            self,
            "ProducerPolicy",
            description=f"Produce sales events to {self.topic} on the MSK Serverless cluster",
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "kafka-cluster:Connect",
                        "kafka-cluster:DescribeCluster",
                        "kafka-cluster:WriteDataIdempotently",
                    ],
                    resources=[self.cluster.attr_arn],
                ),
                iam.PolicyStatement(
                    actions=[
                        "kafka-cluster:CreateTopic",
                        "kafka-cluster:DescribeTopic",
                        "kafka-cluster:WriteData",
                    ],
                    resources=[self._kafka_arn("topic", self.topic)],
                ),
            ],
        )


def add_streaming(
    stack: Stack,
    *,
    config: PipelineConfig,
    storage: Storage,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
) -> Streaming | None:
    """The Streaming construct when the plugin is configured in context, else None.

    When off, synthesis says so with the keys to set (`cdk synth` and `cdk deploy` print
    it): otherwise a typo'd or forgotten key deploys a stack without streaming and
    nothing tells. An info, not a warning: batch only is a valid choice, and
    `cdk synth --strict` fails on warnings.
    """
    plugin = plugin_from_context(stack.node)
    if plugin is None:
        Annotations.of(stack).add_info(STREAMING_OFF)
        return None
    return Streaming(
        stack, "Streaming", config=config, storage=storage, vpc=vpc, subnets=subnets, plugin=plugin
    )


def accepted_findings(streaming: Streaming) -> list[tuple[IConstruct, str, str]]:
    """(construct, cdk-nag finding, reason) accepted for this construct.

    Data only: cdk/nag_acknowledgments.py applies them (the one module that
    acknowledges), so the reasons of this optional construct stay next to it.
    """
    stack = Stack.of(streaming)
    cluster_id = stack.resolve(stack.get_logical_id(streaming.cluster))
    raw_id = stack.resolve(stack.get_logical_id(streaming.raw_bucket_cfn))
    cluster_path = (
        '{"Fn::Select":[1,{"Fn::Split":[":cluster/",{"Fn::GetAtt":["' + cluster_id + '","Arn"]}]}]}'
    )
    kafka = "arn:<AWS::Partition>:kafka:<AWS::Region>:<AWS::AccountId>"
    role_findings = {
        f"{kafka}:topic/{cluster_path}/{CONNECT_INTERNAL}*": (
            "MSK Connect creates and names its own internal topics under this prefix."
        ),
        f"{kafka}:group/{cluster_path}/{CONNECT_INTERNAL}*": (
            "MSK Connect creates and names its own internal consumer groups under this prefix."
        ),
        f"<{raw_id}.Arn>/{STREAM_TOPICS_PREFIX}{streaming.topic}/*": (
            "The S3 sink writes one object per rotated file under topics/<topic>/ only; "
            "object keys are only known at run time."
        ),
    }
    accepted = [
        (streaming.role, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        for resource, reason in role_findings.items()
    ]
    # AwsCustomResource's provider function (one per stack) runs the GetBootstrapBrokers call.
    provider = stack.node.try_find_child(AWS_CUSTOM_RESOURCE_PROVIDER_ID)
    if provider is not None:
        accepted.append(
            (
                provider,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "The CDK AwsCustomResource provider (bootstrap broker lookup at deploy time) logs "
                "with the AWS managed basic execution policy; it holds no data permissions.",
            )
        )
    return accepted
