"""Glue job: bronze CSV objects -> silver/sales and silver/quarantine (Delta) + run metrics.

Arguments (Glue `--name value`): --run_id, --lake_uri, and --source_uris
(comma-separated) or --manifest_uri. Runs unchanged on Glue 5.0 (awsglue present,
s3:// URIs, `sales_lake` shipped with --extra-py-files) and locally:

    .venv/bin/python glue_jobs/batch_to_silver.py --run_id r1 \
        --lake_uri file:///tmp/lake --source_uris file:///path/a.csv

This module only wires arguments and I/O; the transforms live in `sales_lake`.
Order of effects: create tables (idempotent) -> parse and validate (cached once) ->
MERGE silver/sales -> MERGE silver/quarantine -> write metrics. Each MERGE is one
atomic Delta commit and a rerun changes nothing, so a failure anywhere is fixed by
rerunning the same run id; metrics.json appears only when the run completed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from pyspark import StorageLevel
from pyspark.sql import functions as F
from sales_lake import delta_tables, job_session, silver_frames, uris
from sales_lake.bronze_csv import parse_file
from sales_lake.bronze_reader import Source, read_bronze
from sales_lake.run_metrics import RunMetrics

JOB_ARGS = ("run_id", "lake_uri")
SOURCE_ARGS = ("source_uris", "manifest_uri")


def _now() -> datetime:
    return datetime.now(UTC)


def resolve_sources(args: dict) -> tuple[list[Source], list[dict]]:
    """The run's objects in order, and a rejected-file entry for each one that is missing."""
    lake_uri = args["lake_uri"]
    if args.get("manifest_uri"):
        manifest = json.loads(uris.read_text(args["manifest_uri"]))
        if manifest.get("kind", "batch") != "batch":
            raise ValueError(
                f"manifest {args['manifest_uri']} is kind={manifest.get('kind')!r}: "
                "batch_to_silver only loads batch CSV objects (stream files go to the stream job)"
            )
        wanted = [
            (uris.object_uri(lake_uri, o["bucket"], o["key"]), o.get("version_id") or o.get("etag"))
            for o in manifest.get("objects", [])
        ]
    elif args.get("source_uris"):
        wanted = [(u.strip(), None) for u in args["source_uris"].split(",") if u.strip()]
    else:
        raise ValueError("pass --source_uris (comma-separated) or --manifest_uri")
    sources: list[Source] = []
    missing: list[dict] = []
    seen: set[str] = set()
    for uri, version in wanted:
        if uris.normalize(uri) in seen:
            continue
        seen.add(uris.normalize(uri))
        info = uris.object_info(uri)
        if not info.exists:
            missing.append(
                {
                    "uri": uri,
                    "reason": "missing_object",
                    "detail": f"{uri} does not exist (deleted or not yet uploaded): nothing "
                    "was read from it; upload it again to load it",
                }
            )
            continue
        sources.append(Source(len(sources), uri, version or info.version, info.size, info.modified))
    return sources, missing


def _lookup(values: dict[int, str | None]):
    pairs = [x for k, v in values.items() for x in (F.lit(k), F.lit(v))]
    return F.element_at(F.create_map(*pairs), F.col("source_index"))


def _load(spark, sources: list[Source], paths: dict[str, str], metrics: RunMetrics) -> None:
    """Parse, validate and MERGE the sources; fills counts, sources and timings."""
    clock = time.monotonic()
    lineage = {
        "source_uri": _lookup({s.index: s.uri for s in sources}),
        "source_version": _lookup({s.index: s.version for s in sources}).cast("string"),
        "run_id": F.lit(metrics.run_id),
        "ingested_at": F.lit(metrics.started_at).cast("timestamp"),
        # A file's rows are as of the moment the object was written (docs/contracts.md).
        "event_time": _lookup(
            {s.index: s.modified.isoformat() if s.modified else None for s in sources}
        ).cast("timestamp"),
    }
    # One pass parses, validates and caches; counts, summaries and MERGEs read the cache.
    conformed = read_bronze(spark, sources).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        is_record = F.col("row_kind") == "record"
        valid = is_record & silver_frames.is_valid()
        totals = conformed.agg(
            F.count(F.when(is_record, 1)).alias("read"),
            F.count(F.when(is_record & ~silver_frames.is_valid(), 1)).alias("quarantined"),
            F.count(F.when(valid, 1)).alias("valid"),
            F.min(F.when(valid, F.col("row_id"))).alias("min_row_id"),
            F.max(F.when(valid, F.col("row_id"))).alias("max_row_id"),
        ).first()
        metrics.timings_seconds["read"] = time.monotonic() - clock
        clock = time.monotonic()
        file_rows = conformed.where(~is_record).select("source_index", "file_summary")
        summaries = {r.source_index: json.loads(r.file_summary) for r in file_rows.collect()}
        records = conformed.where(is_record)
        metrics.timings_seconds["transform"] = time.monotonic() - clock
        clock = time.monotonic()
        merged = delta_tables.MergeCounts(0, 0, 0)
        if totals["valid"]:
            # Range-partitioning first serves both the dedupe window and the file layout;
            # lineage and the hash are added after it, so the shuffle carries less.
            valid_rows = silver_frames.valid_rows(records).repartitionByRange(
                delta_tables.range_partitions(totals["valid"]), "row_id"
            )
            latest = silver_frames.latest_per_row_id(valid_rows)
            with delta_tables.source_not_materialized(spark):
                merged = delta_tables.merge_sales(
                    spark,
                    paths["sales"],
                    silver_frames.silver_rows(latest, lineage),
                    (totals["min_row_id"], totals["max_row_id"]),
                )
        if totals["quarantined"]:
            with delta_tables.source_not_materialized(spark):
                delta_tables.merge_quarantine(
                    spark,
                    paths["quarantine"],
                    silver_frames.quarantine_rows(records, lineage),
                    [s.uri for s in sources],
                )
        metrics.timings_seconds["merge"] = time.monotonic() - clock
    finally:
        conformed.unpersist()

    distinct_valid = merged.source_rows  # rows left after de-duplication
    metrics.counts.update(
        read=int(totals["read"]),
        inserted=merged.inserted,
        updated=merged.updated,
        unchanged=distinct_valid - merged.inserted - merged.updated,
        duplicates=int(totals["valid"]) - distinct_valid,
        quarantined=int(totals["quarantined"]),
    )
    for source in sources:
        summary = summaries.get(source.index, {})
        metrics.sources.append(
            {
                "uri": source.uri,
                "version": source.version,
                "rows_read": summary.get("records", 0),
                "date_format": summary.get("date_format"),
                "encoding": summary.get("encoding"),
                "compression": summary.get("compression"),
                "outcome": summary.get("outcome"),
                "notes": summary.get("notes", []),
            }
        )
        if summary.get("outcome") == "rejected":
            metrics.rejected_files.append(
                {
                    "uri": source.uri,
                    "reason": "header_mismatch",
                    "detail": f"{source.uri}: {summary.get('header_detail')}",
                }
            )


def run_batch(spark, args: dict) -> dict:
    """Load one run's bronze objects into silver; returns (and writes) the metrics record."""
    clock = time.monotonic()
    lake_uri = args["lake_uri"].rstrip("/")
    metrics = RunMetrics(run_id=args["run_id"], started_at=_now().isoformat(timespec="seconds"))
    paths = delta_tables.prepare_silver(spark, lake_uri)
    sources, missing = resolve_sources(args)
    metrics.rejected_files.extend(missing)
    # Spark's file sources skip zero-byte files: say what they are here instead.
    readable = [s for s in sources if s.size > 0]
    if readable:
        _load(spark, readable, paths, metrics)
    empty = parse_file(b"").summary
    metrics.sources.extend(
        {"uri": s.uri, "version": s.version, "rows_read": 0, "date_format": None,
         "encoding": None, "compression": None, "outcome": empty.outcome, "notes": empty.notes}
        for s in sources if s.size == 0
    )  # fmt: skip
    metrics.sources.extend(
        {"uri": m["uri"], "version": None, "rows_read": 0, "date_format": None,
         "encoding": None, "compression": None, "outcome": "missing", "notes": [m["detail"]]}
        for m in missing
    )  # fmt: skip
    metrics.delta_versions = {
        delta_tables.SALES_TABLE: delta_tables.table_version(spark, paths["sales"]),
        delta_tables.QUARANTINE_TABLE: delta_tables.table_version(spark, paths["quarantine"]),
    }
    metrics.finished_at = _now().isoformat(timespec="seconds")
    metrics.timings_seconds["total"] = time.monotonic() - clock
    return metrics.write(lake_uri)


def _glue_args(argv: list[str]) -> dict:
    from awsglue.utils import getResolvedOptions

    present = [name for name in SOURCE_ARGS if f"--{name}" in argv]
    return getResolvedOptions(argv, [*JOB_ARGS, *present])


def _local_args(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in JOB_ARGS:
        parser.add_argument(f"--{name}", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    for name in SOURCE_ARGS:
        group.add_argument(f"--{name}")
    return vars(parser.parse_args(argv[1:]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = _glue_args(argv) if job_session.on_glue() else _local_args(argv)
    metrics = run_batch(job_session.job_spark_session("batch_to_silver"), args)
    print(json.dumps({"run_id": metrics["run_id"], "counts": metrics["counts"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
