"""Context -> PipelineConfig: typed values, safe removal outside dev, clear errors."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy
from sales_lake.rules import RULES

from cdk.config import ConfigError, PipelineConfig


def test_cdk_json_context_is_a_valid_configuration(cdk_context):
    config = PipelineConfig.from_context(cdk_context)
    assert config.env_name == cdk_context["env_name"]
    assert config.snowflake.external_id == cdk_context["snowflake_external_id"]


def test_command_line_strings_are_converted(cdk_context):
    """`cdk synth -c glue_number_of_workers=5` passes every value as text."""
    overrides = {"glue_number_of_workers": "5", "quality_threshold": "0.2", "nat_gateways": "2"}
    config = PipelineConfig.from_context({**cdk_context, **overrides})
    assert config.glue_number_of_workers == 5
    assert config.quality_threshold == 0.2
    assert config.nat_gateways == 2


def test_the_gate_threshold_defaults_to_the_jobs_rules_file(cdk_context):
    """cdk.json leaves `quality_threshold` out: sales_lake/rules.toml is its one owner."""
    assert "quality_threshold" not in cdk_context
    config = PipelineConfig.from_context({**cdk_context, "quality_threshold": ""})
    assert config.quality_threshold == RULES.max_quarantine_ratio


@pytest.mark.parametrize(
    ("env_name", "expected"),
    [
        ("dev", RemovalPolicy.DESTROY),
        ("prod", RemovalPolicy.RETAIN),
        ("staging", RemovalPolicy.RETAIN),
    ],
)
def test_data_is_only_destroyable_in_dev(cdk_context, env_name, expected):
    config = PipelineConfig.from_context({**cdk_context, "env_name": env_name})
    assert config.data_removal_policy == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("glue_number_of_workers", "one", "'glue_number_of_workers' = 'one' is invalid"),
        ("glue_number_of_workers", 1, "an integer >= 2"),
        ("quality_threshold", 1.5, "between 0.0 and 1.0"),
        ("on_quality_breach", "ignore", "one of stop, continue"),
        ("glue_worker_type", "G.025X", "one of G.1X"),
        ("alert_email", "not-an-address", "'alert_email'"),
        ("log_retention_days", 31, "not a CloudWatch retention period"),
        ("snowflake_aws_iam_user_arn", "arn:aws:s3:::bucket", "snowflake_aws_iam_user_arn"),
        ("snowflake_account", "", "'snowflake_account' is missing"),
    ],
)
def test_bad_values_name_the_key_and_the_fix(cdk_context, key, value, message):
    with pytest.raises(ConfigError, match=message) as raised:
        PipelineConfig.from_context({**cdk_context, key: value})
    assert "cdk.json" in str(raised.value) or "use one of" in str(raised.value)
