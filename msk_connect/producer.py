"""Produce sales events to Kafka: MSK Serverless (IAM) in AWS, plaintext locally.

    python -m msk_connect.producer --bootstrap-servers b-1...:9098 --auth iam \
        --region eu-west-1 --events 10000 --rate 500

Events are keyed by order id, so all events of one order land in one partition
and keep their order. The producer is idempotent (`enable.idempotence`,
`acks=all`): librdkafka retries never duplicate or reorder a partition. A
bootstrap that cannot be reached fails within `--connect-timeout` seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, Producer

from msk_connect.connector_config import default_sink_settings
from msk_connect.events import generate_events

LOG = logging.getLogger("msk_connect.producer")
# librdkafka retries a dead bootstrap every few ms and logs each attempt;
# the producer turns that into one clear error instead.
LIBRDKAFKA_LOG = logging.getLogger("msk_connect.librdkafka")

MSK_IAM_PORT = 9098


class ProducerConfigError(RuntimeError):
    """The producer cannot start; the message says what to fix."""


@dataclass
class DeliveryReport:
    """Delivery callbacks counted per outcome, so the caller knows nothing was lost."""

    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    partitions: dict[int, int] = field(default_factory=dict)

    def __call__(self, err, msg) -> None:
        if err is not None:
            self.failed += 1
            if len(self.errors) < 10:
                self.errors.append(str(err))
            return
        self.delivered += 1
        self.partitions[msg.partition()] = self.partitions.get(msg.partition(), 0) + 1


def iam_oauth_callback(region: str) -> Callable[[str], tuple[str, float]]:
    """OAUTHBEARER token callback signing with the default AWS credentials (MSK IAM)."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    def callback(_oauth_config: str) -> tuple[str, float]:
        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return token, expiry_ms / 1000

    return callback


def producer_config(
    bootstrap_servers: str,
    *,
    auth: str = "plaintext",
    region: str | None = None,
    message_timeout_ms: int = 30_000,
    extra: dict | None = None,
) -> dict:
    """librdkafka settings: idempotent, acks=all, bounded timeouts, the chosen auth."""
    if not bootstrap_servers:
        raise ProducerConfigError("no bootstrap servers: pass --bootstrap-servers host:port[,..]")
    config = {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "compression.type": "lz4",
        "message.timeout.ms": message_timeout_ms,
        "socket.connection.setup.timeout.ms": min(message_timeout_ms, 10_000),
        "client.id": "sales-events-producer",
        "logger": LIBRDKAFKA_LOG,
    }
    if auth == "iam":
        if not region:
            raise ProducerConfigError("--auth iam needs --region (the MSK cluster's AWS region)")
        if f":{MSK_IAM_PORT}" not in bootstrap_servers:
            LOG.warning(
                "MSK Serverless IAM listeners use port %s; got %s", MSK_IAM_PORT, bootstrap_servers
            )
        config.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "OAUTHBEARER",
                "oauth_cb": iam_oauth_callback(region),
            }
        )
    elif auth != "plaintext":
        raise ProducerConfigError(f"unknown --auth {auth!r}: use 'iam' (MSK) or 'plaintext'")
    config.update(extra or {})
    return config


def connect(
    config: dict, topic: str, timeout_s: float = 10.0, create_partitions: int = 0
) -> Producer:
    """A producer that has reached the cluster and sees `topic`, or a clear error.

    MSK Serverless topics cannot be declared in CloudFormation, so with
    `create_partitions` > 0 a missing topic is created (needs kafka-cluster:CreateTopic).
    """
    try:
        producer = Producer(config)
    except KafkaException as exc:
        raise ProducerConfigError(f"invalid producer configuration: {exc.args[0].str()}") from exc
    producer.poll(0)  # serves the first OAUTHBEARER token request on older clients
    try:
        metadata = producer.list_topics(topic, timeout=timeout_s)
    except KafkaException as exc:
        error: KafkaError = exc.args[0]
        raise ProducerConfigError(
            f"cannot reach Kafka at {config['bootstrap.servers']} within {timeout_s:.0f}s "
            f"({error.str()}). Check the bootstrap servers, the security group / network path, "
            "and for MSK Serverless --auth iam with the cluster's region."
        ) from exc
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        if not create_partitions:
            raise ProducerConfigError(
                f"topic {topic!r} is not available at {config['bootstrap.servers']} "
                f"({found.error.str() if found is not None and found.error else 'missing'}); "
                "create it, or pass --create-topic PARTITIONS"
            )
        _create_topic(config, topic, create_partitions, timeout_s)
    return producer


def _create_topic(config: dict, topic: str, partitions: int, timeout_s: float) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin_config = {k: v for k, v in config.items() if k in _ADMIN_KEYS or k.startswith("sasl")}
    futures = AdminClient(admin_config).create_topics(
        [NewTopic(topic, num_partitions=partitions)], request_timeout=timeout_s
    )
    try:
        futures[topic].result(timeout=timeout_s)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise ProducerConfigError(
                f"cannot create topic {topic!r}: {exc.args[0].str()}"
            ) from exc
    LOG.info("created topic %s with %d partitions", topic, partitions)


_ADMIN_KEYS = {
    "bootstrap.servers",
    "security.protocol",
    "oauth_cb",
    "client.id",
    "logger",
    "socket.connection.setup.timeout.ms",
}


def produce_events(
    producer: Producer,
    topic: str,
    events: Iterable[dict],
    *,
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
    flush_timeout_s: float = 60.0,
) -> DeliveryReport:
    """Send events keyed by order id; at most `rate` events/s; wait for every report."""
    report = DeliveryReport()
    started = time.monotonic()
    sent = 0
    for sent, event in enumerate(events, start=1):
        payload = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        key = str(event.get("order_line", {}).get("order_id", "")).encode()
        while True:
            try:
                producer.produce(topic, value=payload, key=key, on_delivery=report)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
        if rate:
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        if progress and sent % 10_000 == 0:
            progress(sent)
    remaining = producer.flush(flush_timeout_s)
    if remaining:
        report.failed += remaining
        report.errors.append(f"{remaining} message(s) still queued after {flush_timeout_s}s")
    return report


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    settings = default_sink_settings()
    parser = argparse.ArgumentParser(
        prog="python -m msk_connect.producer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", default=settings.topic)
    parser.add_argument("--auth", choices=("iam", "plaintext"), default="plaintext")
    parser.add_argument("--region", help="AWS region of the MSK cluster (with --auth iam)")
    parser.add_argument("--events", type=int, default=1000, help="how many events to send")
    parser.add_argument("--rate", type=float, help="events/s (default: as fast as possible)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="generator seed")
    parser.add_argument("--connect-timeout", type=float, default=10.0, help="seconds")
    parser.add_argument(
        "--create-topic",
        type=int,
        default=0,
        metavar="PARTITIONS",
        help="create the topic with this many partitions if it is missing",
    )
    parser.add_argument("--message-timeout-ms", type=int, default=30_000)
    parser.add_argument("-v", "--verbose", action="store_true", help="show librdkafka logs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    LIBRDKAFKA_LOG.setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    try:
        config = producer_config(
            args.bootstrap_servers,
            auth=args.auth,
            region=args.region,
            message_timeout_ms=args.message_timeout_ms,
        )
        producer = connect(config, args.topic, args.connect_timeout, args.create_topic)
    except ProducerConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    report = produce_events(
        producer,
        args.topic,
        generate_events(args.events, seed=args.seed),
        rate=args.rate,
        progress=lambda n: print(f"  sent {n}/{args.events}", flush=True),
    )
    elapsed = time.monotonic() - started
    print(
        f"delivered {report.delivered}/{args.events} events to {args.topic} in {elapsed:.1f}s "
        f"({report.delivered / max(elapsed, 1e-9):.0f} events/s), failed {report.failed}"
    )
    for error in report.errors:
        print(f"  delivery error: {error}", file=sys.stderr)
    return 0 if report.failed == 0 and report.delivered == args.events else 1


if __name__ == "__main__":
    raise SystemExit(main())
