"""Read msk_connect/connector.json once, for both AWS (CDK) and the local sink.

Keeping one file as the source of truth means the local twin writes exactly the
key layout, file sizes and rotation that MSK Connect will write in AWS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template

CONNECTOR_FILE = Path(__file__).with_name("connector.json")
WORKER_FILE = Path(__file__).with_name("worker.properties")

# Joda-time tokens used by the Confluent TimeBasedPartitioner -> strftime.
_JODA_TOKENS = {"YYYY": "%Y", "yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M"}
_JODA_PART = re.compile(r"'([^']*)'|(YYYY|yyyy|MM|dd|HH|mm)|(.)")


class ConnectorConfigError(ValueError):
    """connector.json is unusable; the message names the key and the fix."""


def load_connector_config(
    substitutions: dict[str, str] | None = None, path: Path = CONNECTOR_FILE
) -> dict[str, str]:
    """The connector configuration as strings, `${Placeholders}` substituted if given."""
    text = path.read_text(encoding="utf-8")
    if substitutions is not None:
        text = Template(text).substitute(substitutions)
    config = json.loads(text)
    bad = [k for k, v in config.items() if not isinstance(v, str)]
    if bad:
        raise ConnectorConfigError(
            f"{path}: values of {bad} must be strings (MSK Connect takes a string map); quote them"
        )
    return config


def load_worker_properties(path: Path = WORKER_FILE) -> str:
    """worker.properties as text (MSK Connect wants it base64-encoded as-is)."""
    return path.read_text(encoding="utf-8")


def joda_to_strftime(path_format: str) -> str:
    """`'year'=YYYY/'month'=MM` -> `year=%Y/month=%m` (the subset the partitioner needs)."""
    out = []
    for literal, token, other in _JODA_PART.findall(path_format):
        if token:
            out.append(_JODA_TOKENS[token])
        elif other:
            if other.isalpha():
                raise ConnectorConfigError(
                    f"path.format {path_format!r}: unsupported Joda letter {other!r}; "
                    "quote literal text ('year') and use YYYY, MM, dd, HH or mm"
                )
            out.append(other.replace("%", "%%"))
        else:
            out.append(literal.replace("%", "%%"))
    return "".join(out)


@dataclass(frozen=True)
class SinkSettings:
    """The connector settings that decide S3 keys and file boundaries."""

    topic: str
    topics_dir: str
    path_format: str
    flush_size: int
    rotate_interval_ms: int
    rotate_schedule_interval_ms: int

    @classmethod
    def from_config(cls, config: dict[str, str], **overrides) -> SinkSettings:
        if config.get("partitioner.class", "").rsplit(".", 1)[-1] != "TimeBasedPartitioner":
            raise ConnectorConfigError("connector.json: the local sink models TimeBasedPartitioner")
        if config.get("timezone", "UTC") != "UTC":
            raise ConnectorConfigError("connector.json: timezone must be UTC (keys use UTC hours)")
        settings = cls(
            topic=config["topics"],
            topics_dir=config.get("topics.dir", "topics"),
            path_format=joda_to_strftime(config["path.format"]),
            flush_size=int(config["flush.size"]),
            rotate_interval_ms=int(config.get("rotate.interval.ms", "-1")),
            rotate_schedule_interval_ms=int(config.get("rotate.schedule.interval.ms", "-1")),
        )
        return settings.with_overrides(**overrides)

    def with_overrides(self, **overrides) -> SinkSettings:
        values = {**self.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        if int(values["flush_size"]) < 1:
            raise ConnectorConfigError("flush.size must be >= 1")
        return SinkSettings(**values)

    def object_key(self, partition: int, start_offset: int, timestamp_ms: int) -> str:
        """The Confluent S3 sink key of a file whose first record has this timestamp."""
        when = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
        encoded = when.strftime(self.path_format)
        name = f"{self.topic}+{partition}+{start_offset:010d}.json"
        return f"{self.topics_dir}/{self.topic}/{encoded}/{name}"

    def encoded_partition(self, timestamp_ms: int) -> str:
        return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).strftime(self.path_format)


def default_sink_settings(**overrides) -> SinkSettings:
    """Settings from connector.json (placeholders need no values for these keys)."""
    config = load_connector_config({"RawBucketName": "local", "AwsRegion": "local"})
    return SinkSettings.from_config(config, **overrides)
