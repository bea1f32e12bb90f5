"""Storage box: encrypted, SSL-only, private, logged buckets with the right lifecycles."""

from __future__ import annotations

from aws_cdk.assertions import Match

from cdk.stack import PROJECT_ROOT


def _bucket(synthesis, construct):
    return synthesis.template["Resources"][synthesis.logical_id(construct)]["Properties"]


def test_data_buckets_use_the_customer_managed_key(synthesis):
    key_id = synthesis.logical_id(synthesis.stack.storage.data_key)
    for bucket in (synthesis.stack.storage.raw_bucket, synthesis.stack.storage.lake_bucket):
        encryption = _bucket(synthesis, bucket)["BucketEncryption"]
        rule = encryption["ServerSideEncryptionConfiguration"][0]
        default = rule["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms"
        assert default["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert rule["BucketKeyEnabled"] is True
    synthesis.assertions.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_every_bucket_blocks_public_access_and_denies_plain_http(synthesis):
    buckets = synthesis.resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for properties in (bucket["Properties"] for bucket in buckets.values()):
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    policies = synthesis.resources("AWS::S3::BucketPolicy").values()
    ssl_denied = {
        policy["Properties"]["Bucket"]["Ref"]
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    }
    assert ssl_denied == set(buckets)


def test_only_bronze_is_versioned(synthesis):
    storage = synthesis.stack.storage
    assert _bucket(synthesis, storage.raw_bucket)["VersioningConfiguration"] == {
        "Status": "Enabled"
    }
    assert "VersioningConfiguration" not in _bucket(synthesis, storage.lake_bucket)


def test_bronze_expires_after_the_configured_retention(synthesis, cdk_context):
    rules = _bucket(synthesis, synthesis.stack.storage.raw_bucket)["LifecycleConfiguration"][
        "Rules"
    ]
    expiring = [rule for rule in rules if "ExpirationInDays" in rule]
    assert [rule["ExpirationInDays"] for rule in expiring] == [
        int(cdk_context["bronze_retention_days"])
    ]
    assert expiring[0]["Status"] == "Enabled"
    assert "NoncurrentVersionExpiration" in expiring[0]


def test_data_buckets_log_requests_to_the_access_log_bucket(synthesis):
    storage = synthesis.stack.storage
    logs_id = synthesis.logical_id(storage.access_logs_bucket)
    for bucket, prefix in ((storage.raw_bucket, "raw/"), (storage.lake_bucket, "lake/")):
        assert _bucket(synthesis, bucket)["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": logs_id},
            "LogFilePrefix": prefix,
        }


def test_bronze_sends_events_to_eventbridge_without_a_custom_resource(synthesis):
    raw = _bucket(synthesis, synthesis.stack.storage.raw_bucket)
    assert raw["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert not synthesis.resources("Custom::S3BucketNotifications")


def test_dev_context_lets_buckets_be_deleted(synthesis):
    """cdk.json is the dev environment; other environments retain (see test_config)."""
    assert synthesis.config.env_name == "dev"
    synthesis.assertions.has_resource(
        "AWS::S3::Bucket", {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
    )
    synthesis.assertions.all_resources("AWS::S3::Bucket", {"DeletionPolicy": Match.exact("Delete")})


STATEFUL_TYPES = (
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::DynamoDB::GlobalTable",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
)


def test_every_stateful_resource_follows_the_environment_removal_policy(synthesis):
    """In dev all of them go with the stack; test_config shows other names retain."""
    for resource_type in STATEFUL_TYPES:
        resources = synthesis.resources(resource_type)
        assert resources, resource_type
        for logical_id, resource in resources.items():
            assert resource.get("DeletionPolicy") == "Delete", (resource_type, logical_id)


def test_no_construct_hard_codes_destroy():
    """Only cdk/config.py decides that data may be destroyed (and only for dev)."""
    offenders = [
        path.name
        for path in (PROJECT_ROOT / "cdk").glob("*.py")
        if path.name != "config.py" and "RemovalPolicy.DESTROY" in path.read_text()
    ]
    assert offenders == []
