"""Glue job: stream files (JSON-lines sales events from the MSK Connect S3 sink) -> silver.

Arguments (Glue `--name value`): `--run_id`, `--lake_uri`, and `--manifest_uri` or
`--source_uris` (comma-separated). In Python: `run_stream(spark, args)` returns
the metrics dict also written to `runs/<run_id>/metrics.json`.

What it guarantees (docs/contracts.md):
- each event id is applied once, whatever file or run it comes in;
- the newest event (event_time, then event_id) of a row wins, against the rows
  of this run and against silver, so late files never roll a row back;
- cancellations set is_deleted=true (soft delete, the row stays for audit);
- malformed lines go to silver/quarantine with reason codes, none are lost;
- rows read = inserted + updated + unchanged + duplicates + quarantined.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sales_lake import stream_events as events
from sales_lake.stream_io import (
    SILVER_QUARANTINE,
    SILVER_SALES,
    Source,
    ensure_tables,
    merge_into_sales,
    normalize_uri,
    read_json,
    read_sources,
    record_hash,
    replace_quarantine,
    table_uri,
    table_version,
    unique_sources,
    write_json,
)

JOB_NAME = "stream_to_silver"
COUNT_KEYS = ("read", "inserted", "updated", "unchanged", "duplicates", "quarantined")


def parse_args(argv: list[str]) -> dict[str, str]:
    """Glue passes `--name value` pairs (plus its own); keep the ones this job knows."""
    known = {"run_id", "lake_uri", "manifest_uri", "source_uris"}
    args: dict[str, str] = {}
    for flag, value in zip(argv, argv[1:], strict=False):
        name = flag.lstrip("-")
        if flag.startswith("--") and name in known:
            args[name] = value
    missing = {"run_id", "lake_uri"} - args.keys()
    if missing or not ({"manifest_uri", "source_uris"} & args.keys()):
        raise SystemExit(
            f"{JOB_NAME}: missing {sorted(missing) or ['--manifest_uri or --source_uris']}; "
            "usage: --run_id ID --lake_uri URI (--manifest_uri URI | --source_uris A,B)"
        )
    return args


def _sources(args: dict[str, str]) -> list[Source]:
    if args.get("manifest_uri"):
        manifest = read_json(args["manifest_uri"])
        objects = manifest.get("objects")
        if not isinstance(objects, list):
            raise ValueError(f"{args['manifest_uri']}: no 'objects' list (see docs/contracts.md)")
        sources = [Source.from_manifest_object(obj, args["lake_uri"]) for obj in objects]
    else:
        uris = [uri.strip() for uri in args["source_uris"].split(",") if uri.strip()]
        sources = [Source(uri=normalize_uri(uri), version=None) for uri in uris]
    return unique_sources(sources)


def _versions(sources: list[Source]) -> dict[str, str]:
    return {normalize_uri(s.uri): s.version for s in sources if s.version}


def _lineage(rows: DataFrame, sources: list[Source], run_id: str, started: datetime) -> DataFrame:
    versions = _versions(sources)
    version_map = (
        F.create_map(*[F.lit(x) for kv in versions.items() for x in kv]) if versions else None
    )
    return rows.select(
        "*",
        (version_map[F.col("source_uri")] if version_map is not None else F.lit(None))
        .cast("string")
        .alias("source_version"),
        F.col("line_number").alias("source_line"),
        F.lit("stream").alias("source_kind"),
        F.lit(run_id).alias("run_id"),
        F.lit(started).cast("timestamp").alias("ingested_at"),
        record_hash().alias("record_hash"),
    )


def _counts(outcomes: dict[str, int]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for outcome, n in outcomes.items():
        counts[events.OUTCOME_COUNT[outcome]] += n
        counts["read"] += n
    return counts


def run_stream(spark: SparkSession, args: dict[str, str]) -> dict:
    started = datetime.now(UTC)
    clock = time.monotonic()
    run_id, lake_uri = args["run_id"], args["lake_uri"]
    sources = _sources(args)
    ensure_tables(spark, lake_uri)
    files = read_sources(spark, [s.uri for s in sources])
    # Checkpoints cut the plan between stages: without them Catalyst inlines the
    # parse and the ~70 validation rules into every later step and plans for minutes.
    parsed = events.parse_json(events.explode_lines(files)).localCheckpoint()
    checked = _lineage(events.typed_rows(events.validate(parsed)), sources, run_id, started)
    checked = checked.localCheckpoint()
    t_read = time.monotonic() - clock

    valid = checked.where(F.size("reason_codes") == 0)
    silver = spark.read.format("delta").load(table_uri(lake_uri, SILVER_SALES))
    # Materialized once, before the MERGE changes silver: counts, quarantine and
    # MERGE all see the same decisions.
    classified = events.classify(events.rank_events(valid), silver).localCheckpoint()
    outcome_columns = ["source_uri", "line_number", "raw_record", "outcome"]
    every_line = classified.select(*outcome_columns, "reason_codes", "reason_detail").unionByName(
        checked.where(F.size("reason_codes") > 0)
        .withColumn("outcome", F.lit("quarantined"))
        .select(*outcome_columns, "reason_codes", "reason_detail")
    )
    to_write = classified.where(F.col("outcome").isin(*events.WRITE_OUTCOMES))
    to_write = to_write.select(*events.sales_columns())
    tally = every_line.groupBy("source_uri", "outcome").count().collect()
    t_transform = time.monotonic() - clock - t_read

    quarantine_count = sum(r["count"] for r in tally if r["outcome"] == "quarantined")
    if quarantine_count:
        replace_quarantine(
            spark,
            lake_uri,
            every_line.where("outcome = 'quarantined'"),
            _versions(sources),
            run_id,
            started,
        )
    merge_into_sales(spark, lake_uri, to_write)
    t_merge = time.monotonic() - clock - t_read - t_transform

    outcomes: dict[str, int] = {}
    per_source: dict[str, int] = {}
    for row in tally:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + row["count"]
        per_source[row["source_uri"]] = per_source.get(row["source_uri"], 0) + row["count"]
    counts = _counts(outcomes)
    metrics = {
        "run_id": run_id,
        "job": JOB_NAME,
        "status": "SUCCEEDED",
        "counts": counts,
        "quarantine_ratio": round(counts["quarantined"] / counts["read"], 6)
        if counts["read"]
        else 0.0,
        "rejected_files": [],
        "sources": [
            {
                "uri": s.uri,
                "version": s.version,
                "rows_read": per_source.get(normalize_uri(s.uri), 0),
            }
            for s in sources
        ],
        "event_outcomes": {k: outcomes.get(k, 0) for k in events.OUTCOME_COUNT},
        "delta_versions": {
            SILVER_SALES: table_version(spark, lake_uri, SILVER_SALES),
            SILVER_QUARANTINE: table_version(spark, lake_uri, SILVER_QUARANTINE),
        },
        "timings_seconds": {
            "read": round(t_read, 3),
            "transform": round(t_transform, 3),
            "merge": round(t_merge, 3),
            "total": round(time.monotonic() - clock, 3),
        },
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
    }
    write_json(f"{lake_uri.rstrip('/')}/runs/{run_id}/metrics.json", metrics)
    return metrics


def _spark() -> SparkSession:
    """Glue's session in AWS (Delta enabled by --datalake-formats); the twin's locally."""
    try:
        from awsglue.context import GlueContext
        from pyspark.context import SparkContext
    except ImportError:
        from local_twin.spark import local_spark_session

        return local_spark_session(app_name=JOB_NAME)
    return GlueContext(SparkContext.getOrCreate()).spark_session


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    metrics = run_stream(_spark(), args)
    print(f"{JOB_NAME} {args['run_id']}: {metrics['counts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
