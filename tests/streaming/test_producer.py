"""The sales event producer against librdkafka's mock cluster."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from confluent_kafka import Consumer, TopicPartition

from msk_connect.events import EVENT_TYPES, generate_events
from msk_connect.producer import (
    ProducerConfigError,
    connect,
    iam_oauth_callback,
    produce_events,
    producer_config,
)


def _consume_all(bootstrap: str, topic: str, expected: int) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    messages = []
    for _ in range(100):
        messages += [m for m in consumer.consume(500, timeout=0.5) if m.error() is None]
        if len(messages) >= expected:
            break
    consumer.close()
    return messages


def test_every_event_is_delivered_keyed_by_order_id_in_order(kafka_bootstrap):
    topic = "producer-test"
    events = list(generate_events(400, seed=3))
    producer = connect(producer_config(kafka_bootstrap), topic)
    report = produce_events(producer, topic, events, rate=None)
    assert (report.delivered, report.failed) == (400, 0)
    assert sum(report.partitions.values()) == 400 and len(report.partitions) > 1

    messages = _consume_all(kafka_bootstrap, topic, 400)
    assert len(messages) == 400
    partitions_of_order = defaultdict(set)
    sent_order = {e["event_id"]: i for i, e in enumerate(events)}
    last_seen: dict[str, int] = {}
    for message in sorted(messages, key=lambda m: (m.partition(), m.offset())):
        event = json.loads(message.value())
        order_id = event["order_line"]["order_id"]
        assert message.key().decode() == order_id
        assert event["event_type"] in EVENT_TYPES
        partitions_of_order[order_id].add(message.partition())
        # within an order (one key, one partition) events keep production order
        assert sent_order[event["event_id"]] > last_seen.get(order_id, -1)
        last_seen[order_id] = sent_order[event["event_id"]]
    assert all(len(p) == 1 for p in partitions_of_order.values())


def test_rate_option_spaces_out_sends(kafka_bootstrap):
    producer = connect(producer_config(kafka_bootstrap), "producer-rate")
    report = produce_events(producer, "producer-rate", generate_events(20, seed=4), rate=2000.0)
    assert report.delivered == 20


def test_configuration_is_idempotent_with_acks_all_and_bounded_timeouts():
    config = producer_config("localhost:9092", message_timeout_ms=5000)
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["message.timeout.ms"] == 5000
    assert config["socket.connection.setup.timeout.ms"] <= 5000
    assert "security.protocol" not in config  # plaintext locally


def test_iam_auth_uses_sasl_ssl_oauthbearer_with_a_signed_token(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    config = producer_config("b-1.example:9098", auth="iam", region="eu-west-1")
    assert (config["security.protocol"], config["sasl.mechanisms"]) == ("SASL_SSL", "OAUTHBEARER")
    token, expiry = config["oauth_cb"]("")
    assert token and expiry > 0
    assert iam_oauth_callback("eu-west-1")("")[0]
    with pytest.raises(ProducerConfigError, match="needs --region"):
        producer_config("b-1.example:9098", auth="iam")


def test_unreachable_bootstrap_is_a_clear_error_not_a_hang():
    config = producer_config("127.0.0.1:1", message_timeout_ms=2000)
    with pytest.raises(
        ProducerConfigError, match=r"cannot reach Kafka at 127\.0\.0\.1:1 within 2s"
    ):
        connect(config, "sales-order-lines", timeout_s=2)


def test_invalid_setting_is_reported_by_name():
    config = producer_config("127.0.0.1:1", extra={"no.such.setting": "1"})
    with pytest.raises(ProducerConfigError, match="no.such.setting"):
        connect(config, "sales-order-lines", timeout_s=1)
    with pytest.raises(ProducerConfigError, match="no bootstrap servers"):
        producer_config("")
