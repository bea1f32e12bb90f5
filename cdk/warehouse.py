"""Warehouse box: network, the dbt Fargate task, Snowflake secrets and Snowflake's lake role.

Networking: dbt must reach Snowflake's public endpoint over HTTPS (and certificate
revocation services over HTTP, below), so private subnets egress through a NAT
gateway (one by default; `nat_gateways` in context).
Lake traffic stays on the free S3 gateway endpoint. Interface endpoints for ECR,
Logs and Secrets Manager would cost more per month than the NAT data they save
for a few short dbt runs a day, so they are deliberately not created.

Secrets: connection settings come from context into one CDK-managed secret; the
private key lives in a second secret that CDK creates with a random placeholder and
never overwrites, so the operator sets the PEM once (docs/deploy.md).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, SecretValue
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk.artifacts import require
from cdk.config import PipelineConfig
from cdk.storage import RUNS_PREFIX, SILVER_PREFIX, Storage

DBT_PROJECT_DIR = Path("dbt")
DBT_CONTAINER_NAME = "dbt"
HTTPS = ec2.Port.tcp(443)
# Snowflake's drivers check each TLS certificate's revocation status (OCSP responders,
# Snowflake's OCSP cache, CRL distribution points), and those endpoints answer plain
# HTTP on port 80: SYSTEM$ALLOWLIST lists them with port 80. Blocked, every connection
# waits for the check to time out, and a driver set to fail closed cannot connect.
CERTIFICATE_STATUS_HTTP = ec2.Port.tcp(80)

# ECS's maximum for Fargate: the dbt task turns SIGTERM into a cancel, then uploads.
STOP_TIMEOUT = Duration.seconds(120)
# The private key's container variable (contracts.md); dbt/entrypoint.py explains the name.
PRIVATE_KEY_VARIABLE = "DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"

# Settings stored in the connection secret -> container variable names (contracts.md).
CONNECTION_FIELDS = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "schema": "SNOWFLAKE_SCHEMA",
}


class Warehouse(Construct):
    """VPC, ECS cluster, dbt task definition, Snowflake secrets and the Snowflake role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        storage: Storage,
        project_root: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self._build_network(config=config)
        self._build_secrets(config=config)
        self._build_dbt_task(config=config, storage=storage, project_root=project_root)
        self._build_snowflake_role(config=config, storage=storage)

    def _build_network(self, *, config: PipelineConfig) -> None:
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=config.log_retention,
            removal_policy=config.data_removal_policy,
        )
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs)
        )
        self.task_subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.task_security_group = ec2.SecurityGroup(
            self,
            "DbtTaskSecurityGroup",
            vpc=self.vpc,
            # Unchanged since port 80 was added: a new description would replace the group.
            description="dbt task: no inbound; HTTPS out to Snowflake, ECR, S3, Logs",
            allow_all_outbound=False,
        )
        self.task_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), HTTPS, "HTTPS to Snowflake and AWS APIs"
        )
        self.task_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), CERTIFICATE_STATUS_HTTP,
            "HTTP to certificate status services (OCSP, CRL) the Snowflake driver checks",
        )  # fmt: skip

    def _build_secrets(self, *, config: PipelineConfig) -> None:
        settings = config.snowflake
        self.connection_secret = secretsmanager.Secret(
            self,
            "SnowflakeConnection",
            description="Snowflake connection settings for the dbt task (from CDK context)",
            secret_object_value={
                field: SecretValue.unsafe_plain_text(getattr(settings, field))
                for field in CONNECTION_FIELDS
            },
            removal_policy=config.data_removal_policy,
        )
        self.private_key_secret = secretsmanager.Secret(
            self,
            "SnowflakePrivateKey",
            description="PEM private key of the Snowflake dbt user; set it once after "
            "the first deploy (docs/deploy.md). CDK never overwrites it.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=32
            ),
            removal_policy=config.data_removal_policy,
        )

    def _build_dbt_task(
        self, *, config: PipelineConfig, storage: Storage, project_root: Path
    ) -> None:
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "DbtTask",
            cpu=1024,
            memory_limit_mib=2048,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task_logs = logs.LogGroup(
            self,
            "DbtLogs",
            retention=config.log_retention,
            removal_policy=config.data_removal_policy,
        )
        secrets = {
            variable: ecs.Secret.from_secrets_manager(self.connection_secret, field)
            for field, variable in CONNECTION_FIELDS.items()
        }
        # A name with dbt's secret prefix: dbt scrubs its value from logs (dbt/entrypoint.py).
        secrets[PRIVATE_KEY_VARIABLE] = ecs.Secret.from_secrets_manager(self.private_key_secret)
        self.container = self.task_definition.add_container(
            "Dbt",
            container_name=DBT_CONTAINER_NAME,
            image=ecs.ContainerImage.from_asset(
                str(
                    require(
                        project_root,
                        DBT_PROJECT_DIR / "Dockerfile",
                        produced_by="the dbt project (dbt/)",
                    ).parent
                ),
                platform=ecr_assets.Platform.LINUX_AMD64,
                exclude=["target", "logs", "dbt_packages", "**/__pycache__", ".user.yml"],
            ),
            # Non-secret settings only; RUN_ID is overridden per execution by the
            # state machine and never carries credentials (contracts.md).
            environment={
                "DBT_TARGET": "prod",
                "LAKE_URI": storage.lake_uri,
                "RUN_ID": "manual",
            },
            secrets=secrets,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="dbt", log_group=task_logs),
            # SIGTERM (StopTask, the state's timeout) -> SIGKILL after this: time for dbt
            # to cancel its Snowflake queries and upload its artifacts (ECS maximum).
            stop_timeout=STOP_TIMEOUT,
        )
        # dbt reads silver through Snowflake; from S3 it only stores its run
        # artifacts under runs/<run_id>/dbt/ (contracts.md).
        task_role = self.task_definition.task_role
        storage.grant_write_objects(task_role, storage.lake_bucket, RUNS_PREFIX)

    def _build_snowflake_role(self, *, config: PipelineConfig, storage: Storage) -> None:
        """The role Snowflake assumes to read silver Delta tables (Delta Direct)."""
        settings = config.snowflake
        trusted: iam.IPrincipal = (
            iam.ArnPrincipal(settings.aws_iam_user_arn)
            if settings.aws_iam_user_arn
            # Before Snowflake has told us its IAM user, trust only this account;
            # the external id still gates the role (docs/deploy.md, step 2).
            else iam.AccountRootPrincipal()
        )
        self.snowflake_role = iam.Role(
            self,
            "SnowflakeLakeReader",
            assumed_by=trusted,
            external_ids=[settings.external_id],
            description="Assumed by Snowflake to read silver Delta tables for Delta Direct",
            max_session_duration=Duration.hours(1),
        )
        # What Snowflake documents for a read-only external volume on S3.
        storage.grant_read_objects(
            self.snowflake_role, storage.lake_bucket, SILVER_PREFIX, versions=True
        )
        storage.grant_list(self.snowflake_role, storage.lake_bucket, SILVER_PREFIX)
        self.snowflake_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation"], resources=[storage.lake_bucket.bucket_arn]
            )
        )
