"""I/O of the stream job that the shared silver modules do not cover.

Tables, quarantine MERGE, metrics and small-object I/O come from
`delta_tables`, `run_metrics` and `uris` (shared with the batch job); this adds
reading stream files and the event-ordered MERGE into silver/sales.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sales_lake import delta_tables, uris
from sales_lake.bronze_reader import escape_glob


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
        uri = uris.spark_uri(uris.object_uri(lake_uri, obj["bucket"], obj["key"]))
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


def read_sources(spark: SparkSession, sources: list[Source]) -> DataFrame:
    """One row per file: (source_uri as listed in the run, text). Stream files are small
    (at most flush.size lines), so a whole file per row is cheap and keeps line numbers."""
    if not sources:
        return spark.createDataFrame([], "source_uri STRING, text STRING")
    files = spark.read.text([escape_glob(s.uri) for s in sources], wholetext=True)
    by_path = {uris.normalize(s.uri): s.uri for s in sources}
    path_map = F.create_map(*[F.lit(x) for kv in by_path.items() for x in kv])
    read_as = F.regexp_replace(F.input_file_name(), r"^file:/+", "file:///")
    return files.select(
        F.coalesce(path_map[read_as], read_as).alias("source_uri"), F.col("value").alias("text")
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
