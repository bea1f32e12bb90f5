"""Storage box: the bronze (raw) and silver (lake) buckets and their encryption key.

Both data buckets are KMS-encrypted with one customer-managed key (rotation on),
reject plain HTTP, block public access and log requests to a separate bucket.
Only bronze is versioned: it is the immutable record of what arrived. The lake
holds Delta tables whose own log gives time travel; S3 versioning there would
keep every vacuumed file forever.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

# The key layout (docs/contracts.md, "Buckets and keys") has one owner, the job's library;
# the other boxes import these names from here.
from sales_lake.lake_layout import (  # noqa: F401 (re-exported for the other boxes)
    BATCH_LANDING_PREFIX,
    MANIFESTS_PREFIX,
    RUN_METRICS_FILE,
    RUN_SUMMARY_FILE,
    RUNS_PREFIX,
    SILVER_PREFIX,
    STREAM_TOPICS_PREFIX,
)

from cdk.config import PipelineConfig

ACCESS_LOG_RETENTION_DAYS = 365
NONCURRENT_VERSION_RETENTION_DAYS = 30
INCOMPLETE_UPLOAD_DAYS = 7


class Storage(Construct):
    """Raw and lake buckets, their KMS key and the access-log bucket.

    Exposed for later boxes (e.g. the streaming sink writes to `raw_bucket`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig) -> None:
        super().__init__(scope, construct_id)
        removal = config.data_removal_policy

        self.data_key = kms.Key(
            self,
            "DataKey",
            description="Encrypts the sales pipeline's raw and lake buckets",
            enable_key_rotation=True,
            removal_policy=removal,
        )

        # Server access logs can only be delivered to SSE-S3 buckets, hence no KMS here.
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(ACCESS_LOG_RETENTION_DAYS),
                )
            ],
            removal_policy=removal,
        )

        self.raw_bucket = s3.Bucket(
            self,
            "RawBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="raw/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-bronze",
                    expiration=Duration.days(config.bronze_retention_days),
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                    expired_object_delete_marker=False,
                )
            ],
            removal_policy=removal,
        )

        # S3 -> EventBridge set natively on the bucket. (`event_bridge_enabled=True`
        # would deploy a notification custom-resource Lambda for the same thing.)
        raw_bucket_resource = self.raw_bucket.node.default_child
        raw_bucket_resource.notification_configuration = (
            s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
        )

        self.lake_bucket = s3.Bucket(
            self,
            "LakeBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="lake/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                )
            ],
            removal_policy=removal,
        )

    # Grants with exact actions (the CDK's grant_read/grant_write use action
    # wildcards such as s3:GetObject* and kms:GenerateDataKey*).

    def grant_read_objects(
        self,
        grantee: iam.IGrantable,
        bucket: s3.IBucket,
        *prefixes: str,
        versions: bool | None = None,
    ) -> None:
        """GetObject (+ GetObjectVersion, by default on versioned bronze) under `prefixes`."""
        actions = ["s3:GetObject"]
        if bucket is self.raw_bucket if versions is None else versions:
            actions.append("s3:GetObjectVersion")
        self._allow(grantee, actions, [bucket.arn_for_objects(f"{p}*") for p in prefixes])
        self.data_key.grant(grantee, "kms:Decrypt")

    def grant_write_objects(
        self, grantee: iam.IGrantable, bucket: s3.IBucket, *prefixes: str, delete: bool = False
    ) -> None:
        """PutObject (multipart included) and optionally DeleteObject under `prefixes`."""
        actions = ["s3:PutObject", "s3:AbortMultipartUpload"]
        if delete:
            actions.append("s3:DeleteObject")
        self._allow(grantee, actions, [bucket.arn_for_objects(f"{p}*") for p in prefixes])
        self.data_key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt")

    def grant_list(self, grantee: iam.IGrantable, bucket: s3.IBucket, *prefixes: str) -> None:
        """ListBucket limited to `prefixes` (also turns 403s for missing keys into 404s)."""
        self._allow(
            grantee,
            ["s3:ListBucket"],
            [bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
        )

    @staticmethod
    def _allow(
        grantee: iam.IGrantable,
        actions: list[str],
        resources: list[str],
        conditions: dict | None = None,
    ) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions)
        )

    @property
    def lake_uri(self) -> str:
        """`s3://<lake bucket>`: the form the Glue job and dbt task take (contracts.md)."""
        return f"s3://{self.lake_bucket.bucket_name}"
