"""Deployment settings read from CDK context (cdk.json or `-c key=value`).

Everything an operator may change per environment lives here, validated once,
so constructs receive typed values and a bad value fails synthesis with a message
that names the key and the fix instead of surfacing as a CloudFormation error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from aws_cdk import RemovalPolicy
from aws_cdk.aws_logs import RetentionDays
from sales_lake.load_options import DATE_ORDERS, HEADER_POLICIES, MIN_SPLIT_BYTES, QUALITY_POLICIES
from sales_lake.rules import RULES

# Environments whose data may be destroyed with the stack. Everything else keeps
# buckets, keys, tables and secrets when the stack (or a resource) is deleted.
DISPOSABLE_ENVIRONMENTS = frozenset({"dev"})

# For resources that hold nothing but what this code declares (catalog metadata,
# service settings) and need a fixed name: deleted with the stack in every
# environment, since a retained copy would make the next deploy of the same
# environment fail on the name.
RECREATABLE_REMOVAL_POLICY = RemovalPolicy.DESTROY

# G.025X is for streaming jobs only, so it is not offered for the batch job.
GLUE_WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")

# CloudWatch Logs accepts only these retention periods (days -> CDK enum).
LOG_RETENTION_CHOICES = {
    1: RetentionDays.ONE_DAY,
    3: RetentionDays.THREE_DAYS,
    5: RetentionDays.FIVE_DAYS,
    7: RetentionDays.ONE_WEEK,
    14: RetentionDays.TWO_WEEKS,
    30: RetentionDays.ONE_MONTH,
    60: RetentionDays.TWO_MONTHS,
    90: RetentionDays.THREE_MONTHS,
    120: RetentionDays.FOUR_MONTHS,
    150: RetentionDays.FIVE_MONTHS,
    180: RetentionDays.SIX_MONTHS,
    365: RetentionDays.ONE_YEAR,
    400: RetentionDays.THIRTEEN_MONTHS,
    545: RetentionDays.EIGHTEEN_MONTHS,
    731: RetentionDays.TWO_YEARS,
    1096: RetentionDays.THREE_YEARS,
    1827: RetentionDays.FIVE_YEARS,
    3653: RetentionDays.TEN_YEARS,
}

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IAM_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(user|role)/.+$")


class ContextSource(Protocol):
    """Anything with `get(key)`: a dict, or an adapter over a construct node."""

    def get(self, key: str, /) -> Any: ...


class _NodeContext:
    def __init__(self, node: Any) -> None:
        self._node = node

    def get(self, key: str, /) -> Any:
        return self._node.try_get_context(key)


class ConfigError(ValueError):
    """A context value is missing or invalid; the message says which and how to fix it."""


@dataclass(frozen=True, kw_only=True)
class SnowflakeSettings:
    """Connection settings for the dbt task and the trust for Snowflake's IAM user."""

    account: str
    user: str
    role: str
    warehouse: str
    database: str
    schema: str
    external_id: str
    aws_iam_user_arn: str  # empty until Snowflake created its external volume (docs/deploy.md)


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Typed view of the project's CDK context."""

    env_name: str
    alert_email: str
    snowflake: SnowflakeSettings
    quality_threshold: float
    on_quality_breach: str
    header_policy: str  # how the silver job maps CSV headers (docs/ingest.md)
    date_order: str  # the order of ambiguous dates when a file does not tell
    split_bytes: int  # a bigger uncompressed object is read as byte ranges of this size
    glue_worker_type: str
    glue_number_of_workers: int
    glue_timeout_minutes: int
    bronze_retention_days: int
    log_retention_days: int
    nat_gateways: int
    trigger_max_concurrency: int

    @property
    def is_disposable(self) -> bool:
        return self.env_name in DISPOSABLE_ENVIRONMENTS

    @property
    def data_removal_policy(self) -> RemovalPolicy:
        """DESTROY only in dev; data and keys survive a deleted stack anywhere else."""
        return RemovalPolicy.DESTROY if self.is_disposable else RemovalPolicy.RETAIN

    @property
    def log_retention(self) -> RetentionDays:
        return LOG_RETENTION_CHOICES[self.log_retention_days]

    @classmethod
    def from_node(cls, node: Any) -> PipelineConfig:
        """Build from a construct node's context (cdk.json, `-c`, or App(context=...))."""
        return cls.from_context(_NodeContext(node))

    @classmethod
    def from_context(cls, context: ContextSource) -> PipelineConfig:
        """Build from a context mapping (values from `-c` arrive as strings)."""
        reader = _ContextReader(context)
        config = cls(
            env_name=reader.text("env_name", pattern=_NAME_PATTERN),
            alert_email=reader.text("alert_email", pattern=_EMAIL_PATTERN, optional=True),
            snowflake=SnowflakeSettings(
                account=reader.text("snowflake_account"),
                user=reader.text("snowflake_user"),
                role=reader.text("snowflake_role"),
                warehouse=reader.text("snowflake_warehouse"),
                database=reader.text("snowflake_database"),
                schema=reader.text("snowflake_schema"),
                external_id=reader.text("snowflake_external_id"),
                aws_iam_user_arn=reader.text(
                    "snowflake_aws_iam_user_arn", pattern=_IAM_ARN_PATTERN, optional=True
                ),
            ),
            # Empty or absent: the default of the job's rules file (sales_lake/rules.toml).
            quality_threshold=reader.number(
                "quality_threshold",
                minimum=0.0,
                maximum=1.0,
                default=RULES.max_quarantine_ratio,
            ),
            on_quality_breach=reader.choice("on_quality_breach", QUALITY_POLICIES),
            header_policy=reader.choice("header_policy", HEADER_POLICIES),
            date_order=reader.choice("date_order", DATE_ORDERS),
            split_bytes=reader.integer("split_bytes", minimum=MIN_SPLIT_BYTES),
            glue_worker_type=reader.choice("glue_worker_type", GLUE_WORKER_TYPES),
            glue_number_of_workers=reader.integer("glue_number_of_workers", minimum=2),
            glue_timeout_minutes=reader.integer("glue_timeout_minutes", minimum=1),
            bronze_retention_days=reader.integer("bronze_retention_days", minimum=1),
            log_retention_days=reader.integer("log_retention_days", minimum=1),
            nat_gateways=reader.integer("nat_gateways", minimum=1, maximum=2),
            trigger_max_concurrency=reader.integer("trigger_max_concurrency", minimum=2),
        )
        if config.log_retention_days not in LOG_RETENTION_CHOICES:
            raise ConfigError(
                f"context 'log_retention_days' = {config.log_retention_days} is not a CloudWatch "
                "retention period; use one of " + ", ".join(map(str, LOG_RETENTION_CHOICES))
            )
        return config


class _ContextReader:
    """Reads one key at a time and turns bad values into ConfigError with a fix."""

    def __init__(self, context: ContextSource) -> None:
        self._context = context

    def _raw(self, key: str, *, optional: bool = False) -> Any:
        value = self._context.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if optional:
                return ""
            raise ConfigError(
                f"context '{key}' is missing: set it in cdk.json or pass -c {key}=<value>"
            )
        return value.strip() if isinstance(value, str) else value

    def _fail(self, key: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(
            f"context '{key}' = {value!r} is invalid: expected {expected} "
            f"(fix it in cdk.json or pass -c {key}=<value>)"
        )

    def text(
        self, key: str, *, pattern: re.Pattern[str] | None = None, optional: bool = False
    ) -> str:
        value = self._raw(key, optional=optional)
        if not isinstance(value, str):
            raise self._fail(key, value, "a string")
        if value and pattern is not None and not pattern.match(value):
            raise self._fail(key, value, f"a value matching {pattern.pattern}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._raw(key)
        if value not in allowed:
            raise self._fail(key, value, "one of " + ", ".join(allowed))
        return value

    def integer(self, key: str, *, minimum: int, maximum: int | None = None) -> int:
        value = self._raw(key)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise self._fail(key, value, "an integer") from None
        if (
            isinstance(value, float)
            or number < minimum
            or (maximum is not None and number > maximum)
        ):
            bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise self._fail(key, value, f"an integer {bound}")
        return number

    def number(
        self, key: str, *, minimum: float, maximum: float, default: float | None = None
    ) -> float:
        value = self._raw(key, optional=default is not None)
        if value == "":
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self._fail(key, value, "a number") from None
        if not minimum <= number <= maximum:
            raise self._fail(key, value, f"a number between {minimum} and {maximum}")
        return number
