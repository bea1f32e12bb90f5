"""I/O of the stream job that the shared silver modules do not cover.

Tables, quarantine MERGE, metrics and small-object I/O come from
`delta_tables`, `run_metrics` and `uris` (shared with the batch job); this adds
reading stream files (typed in the executors by `event_conform`) and the
event-ordered MERGE into silver/sales.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession

from sales_lake import delta_tables, uris
from sales_lake.bronze_reader import hadoop_paths, source_of
from sales_lake.event_conform import conform_events, split_lines
from sales_lake.schema import BUSINESS_COLUMNS, ddl


@dataclass(frozen=True)
class Source:
    uri: str
    version: str | None


def manifest_sources(manifest_uri: str, lake_uri: str) -> list[Source]:
    manifest = json.loads(uris.read_text(manifest_uri))
    if manifest.get("kind", "stream") != "stream":
        raise ValueError(
            f"manifest {manifest_uri} is kind={manifest.get('kind')!r}: stream_to_silver reads "
            "stream files (topics/...); batch CSV objects go to batch_to_silver"
        )
    objects = manifest.get("objects")
    if not isinstance(objects, list):
        raise ValueError(f"manifest {manifest_uri} has no 'objects' list (docs/contracts.md)")
    sources = []
    for obj in objects:
        if "bucket" not in obj or "key" not in obj:
            raise ValueError(f"manifest {manifest_uri}: object {obj} needs 'bucket' and 'key'")
        uri = uris.object_uri(lake_uri, obj["bucket"], obj["key"])
        sources.append(Source(uri, obj.get("version_id") or obj.get("etag")))
    return sources


def present_sources(sources: list[Source]) -> tuple[list[Source], list[dict]]:
    """Each object once (a rewritten key may be listed twice; S3 serves its latest
    version), and a rejected-file entry for each object that no longer exists."""
    latest: dict[str, Source] = {}
    for source in sources:
        latest[uris.normalize(source.uri)] = source
    present, missing = [], []
    for source in latest.values():
        exists, found_version = uris.object_version(source.uri)
        if exists:
            present.append(Source(source.uri, source.version or found_version))
        else:
            missing.append(
                {
                    "uri": source.uri,
                    "reason": "missing_object",
                    "detail": f"{source.uri} does not exist (expired or deleted): nothing was read "
                    "from it; replay its offsets from Kafka to load those events",
                }
            )
    return present, missing


EVENT_ROWS_SCHEMA = ", ".join(
    [
        "source_uri STRING, line_number BIGINT, raw_record STRING",
        ddl(BUSINESS_COLUMNS, not_null=False),
        "event_id STRING, event_time TIMESTAMP, is_deleted BOOLEAN",
        "reason_codes ARRAY<STRING>, reason_detail STRING",
    ]
)


def event_batches(
    batches: Iterable[pa.RecordBatch], uri_by_path: dict[str, str]
) -> Iterator[pa.RecordBatch]:
    """The executor side: (path, content) rows of `binaryFile` -> typed event rows, the
    raw line kept only where it is rejected (only quarantine shows it)."""
    for batch in batches:
        for path, content in zip(
            batch.column("path").to_pylist(), batch.column("content"), strict=True
        ):
            numbers, lines = split_lines(content.as_py())
            typed = conform_events(lines)
            size = len(lines)
            yield pa.RecordBatch.from_pydict(
                {
                    "source_uri": pa.array([source_of(path, uri_by_path)] * size, pa.string()),
                    "line_number": numbers,
                    "raw_record": pc.if_else(typed.valid, None, lines),
                    **typed.columns,
                    "reason_codes": typed.reason_codes,
                    "reason_detail": typed.reason_detail,
                }
            )


def read_events(spark: SparkSession, sources: list[Source]) -> DataFrame:
    """One row per non-blank line of `sources` (EVENT_ROWS_SCHEMA), typed and validated
    in the task that reads the file (`event_conform`); source_uri as listed in the run."""
    if not sources:
        return spark.createDataFrame([], EVENT_ROWS_SCHEMA)
    uri_by_path = {uris.normalize(s.uri): s.uri for s in sources}
    files = spark.read.format("binaryFile").load(hadoop_paths(s.uri for s in sources))
    return files.select("path", "content").mapInArrow(
        partial(event_batches, uri_by_path=uri_by_path), EVENT_ROWS_SCHEMA
    )


MERGE_GUARD = (
    "t.event_time IS NULL OR s.event_time > t.event_time"
    " OR (s.event_time = t.event_time AND s.event_id > coalesce(t.event_id, ''))"
)


def merge_stream_sales(spark: SparkSession, path: str, rows: DataFrame, row_ids) -> None:
    """Upsert the newest event of each row. The guard repeats the ordering rule inside
    the MERGE, so an older event never wins even if silver moved since classification;
    row_id pruning and the append shortcut are the batch loader's (`merge_sales`)."""
    delta_tables.merge_sales(spark, path, rows, row_ids, update_when=MERGE_GUARD)
