"""A librdkafka mock cluster shared by the streaming tests (in-process, no broker install)."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import Producer


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap servers of a mock Kafka cluster that lives as long as the test session."""
    holder = Producer({"test.mock.num.brokers": 1, "logger": logging.getLogger("mock-kafka")})
    brokers = holder.list_topics(timeout=10).brokers.values()
    yield ",".join(f"{b.host}:{b.port}" for b in brokers)
    holder.flush(1)
