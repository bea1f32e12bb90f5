"""The local S3 sink: Confluent key layout, flush/rotation, commit-after-write."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from local_twin.kafka_sink import LocalS3Sink, SinkError
from msk_connect.connector_config import default_sink_settings
from msk_connect.events import generate_events
from msk_connect.producer import connect, produce_events, producer_config

KEY = re.compile(
    r"^topics/(?P<topic>[\w-]+)/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/"
    r"(?P=topic)\+(?P<partition>\d+)\+(?P<offset>\d{10})\.json$"
)


def _committed(bootstrap: str, group: str, topic: str, partitions) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    offsets = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    consumer.close()
    return {tp.partition: tp.offset for tp in offsets}


def _produce_at(bootstrap: str, topic: str, timestamps_ms: list[int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i, ts in enumerate(timestamps_ms):
        value = json.dumps({"event_id": f"e{i}", "n": i})
        producer.produce(topic, value=value, key=b"k", partition=0, timestamp=ts)
    assert producer.flush(10) == 0


def test_layout_flush_size_and_offsets_committed_after_write(kafka_bootstrap, tmp_path):
    settings = default_sink_settings(
        topic="sink-layout", flush_size=7, rotate_schedule_interval_ms=300
    )
    events = list(generate_events(60, seed=5))
    report = produce_events(
        connect(producer_config(kafka_bootstrap), settings.topic), settings.topic, events
    )
    assert report.delivered == 60
    announced = []
    sink = LocalS3Sink(
        kafka_bootstrap,
        tmp_path / "raw-bucket",
        settings=settings,
        group_id="g-layout",
        on_object=announced.append,
    )
    stats = sink.run(idle_s=3)
    sink.close()

    assert stats.records == 60 and announced == stats.objects
    lines = []
    by_partition = defaultdict(list)
    for obj in stats.objects:
        match = KEY.match(obj.key)
        assert match, obj.key
        assert (int(match["partition"]), int(match["offset"])) == (obj.partition, obj.start_offset)
        assert obj.bucket == "raw-bucket" and obj.path == tmp_path / "raw-bucket" / obj.key
        body = obj.path.read_text().splitlines()
        assert 1 <= len(body) <= 7 and len(body) == obj.records and obj.size > 0
        lines += body
        by_partition[obj.partition].append(obj)
    assert sorted(json.loads(x)["event_id"] for x in lines) == sorted(e["event_id"] for e in events)
    ends = {}
    for partition, objs in by_partition.items():
        objs.sort(key=lambda o: o.start_offset)
        assert objs[0].start_offset == 0
        for before, after in zip(objs, objs[1:], strict=False):
            assert after.start_offset == before.end_offset + 1  # contiguous, no gap, no overlap
        ends[partition] = objs[-1].end_offset + 1
    assert _committed(kafka_bootstrap, "g-layout", settings.topic, ends) == ends


def test_rotation_by_record_time_and_hour_and_open_files_are_not_committed(
    kafka_bootstrap, tmp_path
):
    settings = default_sink_settings(
        topic="sink-rotate",
        flush_size=100,
        rotate_interval_ms=60_000,
        rotate_schedule_interval_ms=-1,
    )
    base = int(datetime(2026, 11, 26, 8, 58, 0, tzinfo=UTC).timestamp() * 1000)
    seconds = [0, 10, 50, 65, 70, 125, 130]  # rotate at +65s (interval) and +125s (new hour)
    _produce_at(kafka_bootstrap, settings.topic, [base + s * 1000 for s in seconds])
    sink = LocalS3Sink(kafka_bootstrap, tmp_path / "raw", settings=settings, group_id="g-rot")
    stats = sink.run(idle_s=2)
    sink.close()

    files = [(o.key.split("/")[5], o.start_offset, o.records) for o in stats.objects]
    assert files == [("hour=08", 0, 3), ("hour=08", 3, 2)]
    # records 5 and 6 (hour=09) are in an open file: not written, offset not committed
    assert _committed(kafka_bootstrap, "g-rot", settings.topic, [0]) == {0: 5}
    again = LocalS3Sink(
        kafka_bootstrap,
        tmp_path / "raw",
        settings=settings.with_overrides(rotate_schedule_interval_ms=200),
        group_id="g-rot",
    )
    rest = again.run(idle_s=2)
    again.close()
    assert [(o.key.split("/")[5], o.start_offset, o.records) for o in rest.objects] == [
        ("hour=09", 5, 2)
    ]


def test_crash_between_write_and_commit_rewrites_the_same_key(kafka_bootstrap, tmp_path):
    settings = default_sink_settings(
        topic="sink-crash", flush_size=4, rotate_interval_ms=-1, rotate_schedule_interval_ms=-1
    )
    _produce_at(kafka_bootstrap, settings.topic, [1_795_000_000_000 + i for i in range(8)])

    def crash(obj):
        raise RuntimeError(f"crashed after writing {obj.key}")

    first = LocalS3Sink(
        kafka_bootstrap, tmp_path / "raw", settings=settings, group_id="g-crash", on_object=crash
    )
    with pytest.raises(RuntimeError, match="crashed after writing"):
        first.run(idle_s=2)
    first.close()
    crashed_files = {
        p.relative_to(tmp_path / "raw").as_posix(): p.read_bytes()
        for p in (tmp_path / "raw").rglob("*.json")
    }
    assert len(crashed_files) == 1

    announced = []
    second = LocalS3Sink(
        kafka_bootstrap,
        tmp_path / "raw",
        settings=settings,
        group_id="g-crash",
        on_object=announced.append,
    )
    second.run(idle_s=2)
    second.close()
    [(key, body)] = crashed_files.items()
    assert [o.key for o in announced] == [key, key.replace("0000000000", "0000000004")]
    assert (tmp_path / "raw" / key).read_bytes() == body  # same key, same records
    assert _committed(kafka_bootstrap, "g-crash", settings.topic, [0]) == {0: 8}


def test_non_json_record_stops_the_sink_like_the_connector(kafka_bootstrap, tmp_path):
    settings = default_sink_settings(topic="sink-bad", flush_size=10)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(settings.topic, value=b"not json", partition=0)
    producer.flush(10)
    sink = LocalS3Sink(kafka_bootstrap, tmp_path / "raw", settings=settings, group_id="g-bad")
    with pytest.raises(SinkError, match=r"sink-bad\[0\]@0 is not JSON"):
        sink.run(idle_s=2)
    sink.close()
