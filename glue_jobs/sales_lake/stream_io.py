"""I/O of the stream job: manifests, stream files, silver tables, metrics.

Kept apart from the pure transforms in stream_events.py. URIs are `s3://` in
Glue and `file://` in the local twin (`<workspace>/s3/<bucket>/<key>`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sales_lake.schema import BUSINESS_COLUMNS, QUARANTINE_COLUMNS, SALES_COLUMNS, ddl

SILVER_SALES = "silver/sales"
SILVER_QUARANTINE = "silver/quarantine"


def table_uri(lake_uri: str, table: str) -> str:
    return f"{lake_uri.rstrip('/')}/{table}"


def normalize_uri(uri: str) -> str:
    """One spelling per local file: Spark reports `file:/x`, manifests say `file:///x`, and
    `Path.as_uri()` percent-encodes `=`/`+` (Hadoop would read `%3D` literally)."""
    if uri.startswith("file:"):
        return "file:///" + unquote(uri[len("file:") :].lstrip("/"))
    return uri


def object_uri(bucket: str, key: str, lake_uri: str) -> str:
    """Where a Glue job reads an object of `bucket`: s3 in AWS, a sibling folder locally."""
    if lake_uri.startswith("file:"):
        buckets_dir = Path(urlparse(normalize_uri(lake_uri)).path).parent
        return f"file://{buckets_dir / bucket / key}"
    return f"s3://{bucket}/{key}"


@dataclass(frozen=True)
class Source:
    uri: str
    version: str | None

    @classmethod
    def from_manifest_object(cls, obj: dict, lake_uri: str) -> Source:
        try:
            uri = object_uri(obj["bucket"], obj["key"], lake_uri)
        except KeyError as exc:
            raise ValueError(
                f"manifest object {obj} lacks {exc}: each needs bucket and key"
            ) from exc
        return cls(uri=uri, version=obj.get("version_id") or obj.get("etag"))


def unique_sources(sources: list[Source]) -> list[Source]:
    """A rewritten key can be listed twice; S3 serves its latest version, so read it once."""
    latest = {normalize_uri(s.uri): s for s in sources}
    return list(latest.values())


def _s3():
    import boto3

    return boto3.client("s3")


def read_json(uri: str) -> dict:
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        body = _s3().get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
        return json.loads(body)
    return json.loads(Path(urlparse(normalize_uri(uri)).path).read_text(encoding="utf-8"))


def write_json(uri: str, data: dict) -> None:
    body = json.dumps(data, indent=2, sort_keys=False, default=str).encode()
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        _s3().put_object(
            Bucket=parsed.netloc,
            Key=parsed.path.lstrip("/"),
            Body=body,
            ContentType="application/json",
        )
        return
    path = Path(urlparse(normalize_uri(uri)).path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def read_sources(spark: SparkSession, uris: list[str]) -> DataFrame:
    """One row per file: (source_uri, text). Stream files are small (flush.size lines)."""
    if not uris:
        return spark.createDataFrame([], "source_uri STRING, text STRING")
    files = spark.read.text(uris, wholetext=True)
    uri = F.regexp_replace(F.input_file_name(), r"^file:/+", "file:///")
    return files.select(uri.alias("source_uri"), F.col("value").alias("text"))


def _create_if_missing(spark: SparkSession, uri: str, columns) -> None:
    """CREATE TABLE IF NOT EXISTS by path (a LOCATION clause trips over file:/ spellings)."""
    spark.sql(f"CREATE TABLE IF NOT EXISTS delta.`{uri}` ({ddl(columns)}) USING delta")


def ensure_tables(spark: SparkSession, lake_uri: str) -> None:
    _create_if_missing(spark, table_uri(lake_uri, SILVER_SALES), SALES_COLUMNS)
    _create_if_missing(spark, table_uri(lake_uri, SILVER_QUARANTINE), QUARANTINE_COLUMNS)


def record_hash() -> Column:
    """sha256 over the typed business columns (NULL spelled out), order fixed by schema.py."""
    parts = [
        F.coalesce(F.col(name).cast("string"), F.lit("\u2400")) for name, _t, _n in BUSINESS_COLUMNS
    ]
    return F.sha2(F.concat_ws("\u001f", *parts), 256)


MERGE_GUARD = (
    "t.event_time IS NULL OR s.event_time > t.event_time"
    " OR (s.event_time = t.event_time AND s.event_id > coalesce(t.event_id, ''))"
)


def merge_into_sales(spark: SparkSession, lake_uri: str, rows: DataFrame) -> None:
    """Upsert by row_id; the guard re-checks event order so an older event never wins."""
    from delta.tables import DeltaTable

    if rows.isEmpty():
        return
    target = DeltaTable.forPath(spark, table_uri(lake_uri, SILVER_SALES))
    (
        target.alias("t")
        .merge(rows.alias("s"), "t.row_id = s.row_id")
        .whenMatchedUpdateAll(condition=MERGE_GUARD)
        .whenNotMatchedInsertAll()
        .execute()
    )


def replace_quarantine(
    spark: SparkSession,
    lake_uri: str,
    lines: DataFrame,
    sources_versions: dict,
    run_id: str,
    quarantined_at: datetime,
) -> None:
    """Replace this run's quarantine rows, so a rerun of the run id leaves one copy."""
    version_map = (
        F.create_map(*[F.lit(x) for kv in sources_versions.items() for x in kv])
        if sources_versions
        else None
    )
    rows = lines.select(
        F.lit(run_id).alias("run_id"),
        "source_uri",
        (version_map[F.col("source_uri")] if version_map is not None else F.lit(None))
        .cast("string")
        .alias("source_version"),
        F.lit("stream").alias("source_kind"),
        F.col("line_number").cast("bigint").alias("line_number"),
        "raw_record",
        "reason_codes",
        "reason_detail",
        F.lit(quarantined_at).cast("timestamp").alias("quarantined_at"),
    )
    (
        rows.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"run_id = '{run_id.replace(chr(39), '')}'")
        .save(table_uri(lake_uri, SILVER_QUARANTINE))
    )


def table_version(spark: SparkSession, lake_uri: str, table: str) -> int:
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, table_uri(lake_uri, table)).history(1)
    return int(history.select("version").first()[0])
