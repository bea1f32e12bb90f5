"""The local stand-in for MSK Connect's Confluent S3 sink.

It consumes the sales topic and writes the same objects the connector writes
in AWS, into the local raw bucket folder `<workspace>/s3/<raw bucket>/`:

    topics/<topic>/year=YYYY/month=MM/day=dd/hour=HH/<topic>+<partition>+<start:010d>.json

with the connector's semantics, read from msk_connect/connector.json:
- one file per (partition, run of consecutive offsets), JSON lines, values unchanged;
- a file is committed when it holds `flush.size` records, when a record's
  timestamp is `rotate.interval.ms` past the file's first record (that record
  starts the next file), when the hour (the encoded partition) changes, or at
  each `rotate.schedule.interval.ms` wall-clock boundary;
- consumer offsets are committed only after the file is written and announced,
  so a crash in between re-reads the same records and rewrites the same key:
  (topic, partition, start offset) is the file's idempotency key;
- stopping discards open (uncommitted) files, as a stopped connector task does.

`on_object` is called once per written object, before the offset commit, so the
twin can emit the S3 ObjectCreated event that S3 would emit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from msk_connect.connector_config import SinkSettings, default_sink_settings

LOG = logging.getLogger("local_twin.kafka_sink")
LIBRDKAFKA_LOG = logging.getLogger("local_twin.kafka_sink.librdkafka")
LIBRDKAFKA_LOG.setLevel(logging.CRITICAL)


class SinkError(RuntimeError):
    """The sink cannot go on (as a failed connector task); the message says why and the fix."""


@dataclass(frozen=True)
class SinkObject:
    """One object written to the raw bucket, as S3 would report it."""

    bucket: str
    key: str
    path: Path
    size: int
    etag: str
    partition: int
    start_offset: int
    end_offset: int  # last offset in the file (inclusive)

    @property
    def records(self) -> int:
        return self.end_offset - self.start_offset + 1


@dataclass
class _OpenFile:
    start_offset: int
    encoded_partition: str
    base_timestamp_ms: int
    opened_wall_ms: int
    lines: list[bytes] = field(default_factory=list)
    last_offset: int = -1


@dataclass
class SinkStats:
    records: int = 0
    objects: list[SinkObject] = field(default_factory=list)


def _wall_ms() -> int:
    return int(time.time() * 1000)


class LocalS3Sink:
    """Consume `settings.topic` and write Confluent-S3-sink-shaped files into a folder."""

    def __init__(
        self,
        bootstrap_servers: str,
        raw_bucket_dir: Path,
        *,
        bucket: str | None = None,
        settings: SinkSettings | None = None,
        group_id: str = "connect-sales-s3-sink",
        on_object: Callable[[SinkObject], None] | None = None,
        offset_base: dict[int, int] | None = None,
    ) -> None:
        self.settings = settings or default_sink_settings()
        # Added to Kafka offsets in object keys (the twin's mock cluster restarts at 0).
        self.offset_base = dict(offset_base or {})
        self.raw_bucket_dir = Path(raw_bucket_dir)
        self.bucket = bucket or self.raw_bucket_dir.name
        self.on_object = on_object
        self.stats = SinkStats()
        self._open: dict[int, _OpenFile] = {}
        self._eof: set[int] = set()
        self._consumer = Consumer({
            "bootstrap.servers": bootstrap_servers,
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
            "socket.connection.setup.timeout.ms": 5000,
            "logger": LIBRDKAFKA_LOG,
        })  # fmt: skip
        self._partitions = self._assign(bootstrap_servers)

    def _assign(self, bootstrap_servers: str) -> list[int]:
        """Own every partition (one task), resuming from the group's committed offsets."""
        topic = self.settings.topic
        try:
            metadata = self._consumer.list_topics(topic, timeout=10)
        except KafkaException as exc:
            raise SinkError(
                f"cannot reach Kafka at {bootstrap_servers} for topic {topic!r}: "
                f"{exc.args[0].str()}; start the broker (twin stream starts a mock cluster)"
            ) from exc
        topic_md = metadata.topics.get(topic)
        if topic_md is None or topic_md.error is not None or not topic_md.partitions:
            raise SinkError(
                f"topic {topic!r} has no partitions at {bootstrap_servers}: "
                f"{getattr(topic_md, 'error', 'missing')}; produce to it first"
            )
        partitions = sorted(topic_md.partitions)
        committed = self._consumer.committed(
            [TopicPartition(topic, p) for p in partitions], timeout=10
        )
        self._consumer.assign(committed)  # OFFSET_INVALID -> auto.offset.reset=earliest
        return partitions

    # -- the loop ---------------------------------------------------------------------------

    def poll(self, timeout_s: float = 0.2) -> int:
        """Consume one batch, rotate files as the connector would; returns records read."""
        messages = self._consumer.consume(num_messages=1000, timeout=timeout_s)
        read = 0
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._eof.add(message.partition())
                    continue
                raise SinkError(f"consumer error on {self.settings.topic}: {error.str()}")
            self._eof.discard(message.partition())
            self._add(message)
            read += 1
        self.stats.records += read
        self._rotate_on_schedule(_wall_ms())
        return read

    def run(self, *, idle_s: float = 2.0, max_seconds: float = 600.0) -> SinkStats:
        """Poll until every partition is at its end and no file is open (or idle/timeout)."""
        deadline = time.monotonic() + max_seconds
        last_record = time.monotonic()
        while time.monotonic() < deadline:
            if self.poll():
                last_record = time.monotonic()
            drained = self._eof.issuperset(self._partitions) and not self._open
            idle = time.monotonic() - last_record > idle_s
            waiting_forever = self.settings.rotate_schedule_interval_ms <= 0
            if drained or (idle and (not self._open or waiting_forever)):
                break
        return self.stats

    def close(self) -> None:
        """Stop like a connector task: open files are dropped, their records re-read later."""
        self._open.clear()
        self._consumer.close()

    # -- files ------------------------------------------------------------------------------

    def _add(self, message) -> None:
        partition, offset = message.partition(), message.offset()
        _ts_type, timestamp_ms = message.timestamp()
        if timestamp_ms is None or timestamp_ms < 0:
            timestamp_ms = _wall_ms()
        value = message.value()
        if value is None:  # behavior.on.null.values=ignore (tombstones)
            return
        try:
            json.loads(value)
        except ValueError as exc:
            raise SinkError(
                f"{self.settings.topic}[{partition}]@{offset} is not JSON ({exc}); the S3 sink's "
                "JsonConverter fails the task on it (errors.tolerance=none): fix the producer"
            ) from exc
        encoded = self.settings.encoded_partition(timestamp_ms)
        current = self._open.get(partition)
        if current is not None:
            interval = self.settings.rotate_interval_ms
            too_old = interval > 0 and timestamp_ms - current.base_timestamp_ms >= interval
            if encoded != current.encoded_partition or too_old:
                self._commit(partition)
                current = None
        if current is None:
            current = _OpenFile(offset, encoded, timestamp_ms, _wall_ms())
            self._open[partition] = current
        current.lines.append(value.rstrip(b"\r\n") + b"\n")
        current.last_offset = offset
        if len(current.lines) >= self.settings.flush_size:
            self._commit(partition)

    def _rotate_on_schedule(self, now_ms: int) -> None:
        interval = self.settings.rotate_schedule_interval_ms
        if interval <= 0:
            return
        for partition, open_file in list(self._open.items()):
            next_boundary = (open_file.opened_wall_ms // interval + 1) * interval
            if now_ms >= next_boundary:
                self._commit(partition)

    def _commit(self, partition: int) -> None:
        """Write the file, announce it, then (only then) commit the consumer offset."""
        open_file = self._open.pop(partition)
        shift = self.offset_base.get(partition, 0)
        key = self.settings.object_key(
            partition, shift + open_file.start_offset, open_file.base_timestamp_ms
        )
        # The key's hour comes from the first record, as the partitioner encodes it.
        body = b"".join(open_file.lines)
        path = self.raw_bucket_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(body)
        os.replace(temporary, path)
        written = SinkObject(
            bucket=self.bucket, key=key, path=path, size=len(body),
            etag=hashlib.md5(body, usedforsecurity=False).hexdigest(), partition=partition,
            start_offset=shift + open_file.start_offset, end_offset=shift + open_file.last_offset,
        )  # fmt: skip
        if self.on_object is not None:
            self.on_object(written)
        self._consumer.commit(
            offsets=[TopicPartition(self.settings.topic, partition, open_file.last_offset + 1)],
            asynchronous=False,
        )
        self.stats.objects.append(written)
        LOG.debug("wrote %s (%d records)", key, written.records)
