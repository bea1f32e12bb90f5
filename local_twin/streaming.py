"""The streaming path in the local twin: mock Kafka -> producer -> local S3 sink -> pipeline.

librdkafka's in-process mock cluster plays MSK; `msk_connect.producer` sends the
events as it would to MSK; `local_twin.kafka_sink` writes the files MSK Connect
would write, and each file is put through the twin's raw bucket so moto emits the
same S3 event; from there the twin runs the real trigger, state machine, stream
Glue job and dbt, exactly as for a dropped CSV.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from confluent_kafka import Producer

from local_twin.kafka_sink import LocalS3Sink, SinkObject
from local_twin.progress import Progress, quiet
from local_twin.workspace import RAW_BUCKET, Workspace
from msk_connect.connector_config import SinkSettings, default_sink_settings
from msk_connect.events import STREAM_ROW_ID_BASE, EventMix, generate_events
from msk_connect.producer import connect, produce_events, producer_config

# The twin closes open files after 1 s of quiet instead of MSK Connect's 5 minutes,
# so a command ends with every event in a file (flush.size and paths as in AWS).
TWIN_ROTATE_SCHEDULE_MS = 1000


class MockKafka:
    """An in-process Kafka-protocol cluster (librdkafka's mock) for one twin session."""

    def __init__(self, brokers: int = 1) -> None:
        self._holder = Producer(
            {"test.mock.num.brokers": brokers, "logger": logging.getLogger("twin.mock-kafka")}
        )
        found = self._holder.list_topics(timeout=10).brokers.values()
        self.bootstrap_servers = ",".join(f"{b.host}:{b.port}" for b in found)

    def close(self) -> None:
        self._holder.flush(1)
        self._holder = None


@dataclass
class StreamRun:
    """What one `twin stream` did, for the summary and the benchmark."""

    events: int = 0
    delivered: int = 0
    produce_seconds: float = 0.0
    last_event_produced_at: float = 0.0
    sink_seconds: float = 0.0
    objects: list[SinkObject] = field(default_factory=list)
    executions: list[dict] = field(default_factory=list)
    pipeline_seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.delivered / self.produce_seconds if self.produce_seconds else 0.0

    @property
    def last_event_to_gold_seconds(self) -> float | None:
        ends = [r.get("stopped_at_epoch") for r in self.executions if r.get("stopped_at_epoch")]
        return max(ends) - self.last_event_produced_at if ends else None


_STREAM_FILE = re.compile(r"\+(\d+)\+(\d{10})\.json$")


def offset_bases(workspace: Workspace, settings: SinkSettings) -> dict[int, int]:
    """Next free offset per partition, from the stream files already in the raw bucket.

    The mock cluster starts every session at offset 0, where a real cluster keeps
    counting; shifting by what bronze already holds keeps keys from earlier sessions
    intact (a real connector never reuses an offset range for new records).
    """
    root = workspace.bucket_path(RAW_BUCKET) / settings.topics_dir / settings.topic
    bases: dict[int, int] = {}
    for path in root.rglob(f"{settings.topic}+*.json") if root.exists() else []:
        match = _STREAM_FILE.search(path.name)
        if match:
            partition, start = int(match[1]), int(match[2])
            with path.open("rb") as handle:
                end = start + sum(1 for _ in handle)
            bases[partition] = max(bases.get(partition, 0), end)
    return bases


def next_row_id(workspace: Workspace, settings: SinkSettings) -> int:
    """Row ids for new order lines continue after earlier sessions' (events are per line)."""
    return STREAM_ROW_ID_BASE + 10 * sum(offset_bases(workspace, settings).values())


def stream_events(
    twin,
    *,
    events: int,
    seed: int,
    rate: float | None = None,
    mix: EventMix | None = None,
    flush_size: int | None = None,
    progress: Progress | None = None,
) -> StreamRun:
    """Produce `events` to a fresh mock cluster and let them flow through `twin` to gold."""
    progress = progress or quiet()
    settings = default_sink_settings(
        flush_size=flush_size, rotate_schedule_interval_ms=TWIN_ROTATE_SCHEDULE_MS
    )
    workspace: Workspace = twin.workspace
    bases = offset_bases(workspace, settings)
    run = StreamRun(events=events)
    kafka = MockKafka()
    try:
        producer = connect(producer_config(kafka.bootstrap_servers), settings.topic)
        progress(f"producing {events:,} events to {settings.topic} (mock Kafka, seed {seed})")
        started = time.time()
        with progress.bar("producing", events, unit="events") as done:
            report = produce_events(
                producer,
                settings.topic,
                generate_events(
                    events, seed=seed, mix=mix, first_row_id=next_row_id(workspace, settings)
                ),
                rate=rate,
                progress=done,
            )
            done(report.delivered)
        run.last_event_produced_at = time.time()
        run.produce_seconds = run.last_event_produced_at - started
        run.delivered = report.delivered
        if report.failed:
            raise RuntimeError(f"{report.failed} event(s) not delivered: {report.errors[:3]}")

        def announce(obj: SinkObject) -> None:
            twin.put_raw_file(obj.key, obj.path)
            run.objects.append(obj)
            progress.detail(f"  sink wrote {obj.key} ({obj.records} events)")

        sink = LocalS3Sink(
            kafka.bootstrap_servers,
            workspace.bucket_path(RAW_BUCKET),
            bucket=RAW_BUCKET,
            settings=settings,
            on_object=announce,
            offset_base=bases,
        )
        try:
            sink.run(idle_s=2.0)
        finally:
            sink.close()
        run.sink_seconds = time.time() - run.last_event_produced_at
        progress(f"sink wrote {len(run.objects)} file(s) under topics/{settings.topic}/")
    finally:
        kafka.close()
    arns = twin.deliver_events()
    run.executions = twin.executions.wait(arns, dropped_at=run.last_event_produced_at)
    for record in run.executions:
        end = record.get("drop_to_end_seconds")
        if end is not None:
            record["stopped_at_epoch"] = run.last_event_produced_at + end
    run.pipeline_seconds = time.time() - run.last_event_produced_at
    return run
