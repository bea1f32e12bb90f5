"""The batch loader: bronze CSV objects -> silver/sales and silver/quarantine (Delta).

Run by the silver job's frame (`sales_lake.silver_run`, `--source_kind batch`), which
resolves the sources and writes the run record; this module parses, validates and
MERGEs, and counts. Order of effects: parse and validate (cached once) -> MERGE
silver/sales -> MERGE silver/quarantine. Each MERGE is one atomic Delta commit and a
rerun changes nothing, so a failure anywhere is fixed by rerunning the same run id.

Each count is taken where its rows are decided, never as what is left over, so the
frame's conservation check (read = inserted + updated + unchanged + duplicates +
quarantined + blank + held) can fail: `read` is the CSV parser's record and blank-row
count, `blank` its blank rows, `held` the records of objects the per-object quality
gate keeps out (`sales_lake.quality_gate`, decided from the file summaries before any
write), `duplicates` the copies of a row_id the de-duplication drops, `unchanged` the
matched rows the MERGE guard holds back, `inserted`/`updated` what the MERGE commit
reports, and `quarantined` the records the quarantine write took in.
"""

from __future__ import annotations

import json
import time

from pyspark import StorageLevel
from pyspark.sql import functions as F

from sales_lake import delta_tables, quality_gate
from sales_lake.batch import silver_frames
from sales_lake.batch.bronze_csv import parse_file
from sales_lake.batch.bronze_objects import read_bronze
from sales_lake.batch.bronze_reader import dropped_sources
from sales_lake.batch.byte_ranges import added_reasons, merge_summaries
from sales_lake.load_options import LoadOptions
from sales_lake.reasons import most_frequent_first
from sales_lake.run_metrics import RunMetrics
from sales_lake.run_sources import Source
from sales_lake.silver_rows import is_valid, lookup, quarantine_rows

KIND = "batch"
JOB = "batch_to_silver"  # the run record's `job`
MISSING_FIX = "upload it again to load it"


def _lineage(sources: list[Source], metrics: RunMetrics) -> dict:
    by_index = {
        "source_uri": {s.index: s.uri for s in sources},
        "source_version": {s.index: s.version for s in sources},
        # A file's rows are as of the moment the object was written (docs/contracts.md).
        "event_time": {s.index: s.modified.isoformat() if s.modified else None for s in sources},
    }
    return {
        "source_uri": lookup(by_index["source_uri"], "source_index").cast("string"),
        "source_version": lookup(by_index["source_version"], "source_index").cast("string"),
        "source_kind": F.lit(KIND),
        "run_id": F.lit(metrics.run_id),
        "ingested_at": F.lit(metrics.started_at).cast("timestamp"),
        "event_time": lookup(by_index["event_time"], "source_index").cast("timestamp"),
    }


def _write(
    spark, sources: list[Source], paths: dict[str, str], metrics: RunMetrics, options: LoadOptions
) -> dict:
    """Parse, validate and MERGE the sources; fills counts and timings; returns the
    file summaries by source index."""
    clock = time.monotonic()
    lineage = _lineage(sources, metrics)
    # One pass parses, validates and caches; counts, summaries and MERGEs read the cache.
    # On local disk, not in the heap: held in memory, the cached batches (large arrays)
    # outgrew a 2 GB driver on 10M rows, and reading them back from disk costs less
    # than it saves (docs/silver.md, bench-scale).
    conformed = read_bronze(spark, sources, options).persist(StorageLevel.DISK_ONLY)
    try:
        # Every object's summary first (a few rows); they say which objects' rows must not
        # load at all (unreadable, held). The totals are one pass over the records, taken
        # again without those objects only when there are some. (The summaries are not
        # collected inside that aggregate: next to its count-distinct, a collect_list
        # turns it into an object aggregate keyed by row_id, whose per-key buffers ran a
        # 2 GB driver out of heap on 10M rows.)
        is_record = F.col("row_kind") == "record"
        files = conformed.where(F.col("row_kind") == "file").select("source_index", "file_summary")
        parts: dict[int, list[dict]] = {}
        for f in files.collect():
            parts.setdefault(f.source_index, []).append(json.loads(f.file_summary))
        summaries = {index: merge_summaries(found) for index, found in parts.items()}
        breached = quality_gate.breaches(summaries, options)
        if breached:
            uri_of = {s.index: s.uri for s in sources}
            reasons = {b.index: summaries[b.index].get("reasons", {}) for b in breached}
            metrics.quality["breached_files"] = [
                _breach_entry(b, uri_of[b.index], most_frequent_first(reasons[b.index]),
                              options.max_quarantine_ratio)
                for b in breached
            ]  # fmt: skip
        held = quality_gate.held_sources(breached)
        for index in held:
            summaries[index]["outcome"] = quality_gate.HELD  # parsed, none of it written
        kept_out = sorted(dropped_sources(summaries) | held)
        metrics.quarantine_reasons = most_frequent_first(
            added_reasons(s.get("reasons", {}) for i, s in summaries.items() if i not in kept_out)
        )
        if kept_out:
            is_record = is_record & ~F.col("source_index").isin(kept_out)
        totals = conformed.agg(*_totals(is_record)).first()
        metrics.timings_seconds["read"] = time.monotonic() - clock
        clock = time.monotonic()
        records = conformed.where(is_record)
        metrics.timings_seconds["transform"] = time.monotonic() - clock
        clock = time.monotonic()
        merged, unchanged, quarantined = delta_tables.MergeCounts(0, 0), 0, 0
        if totals["valid"]:
            # Range-partitioning first serves both the dedupe window and the file layout;
            # lineage and the hash are added after it, so the shuffle carries less.
            valid_rows = silver_frames.valid_rows(records).repartitionByRange(
                delta_tables.range_partitions(totals["valid"]), "row_id"
            )
            latest = silver_frames.latest_per_row_id(valid_rows)
            rows = silver_frames.silver_rows(latest, lineage)
            row_ids = (totals["min_row_id"], totals["max_row_id"])
            unchanged = delta_tables.held_back(spark, paths["sales"], rows, row_ids)
            with delta_tables.source_not_materialized(spark):
                merged = delta_tables.merge_sales(spark, paths["sales"], rows, row_ids)
        if totals["rejected"]:
            rejected = quarantine_rows(records, lineage)
            uris = [s.uri for s in sources]
            quarantined = delta_tables.merge_quarantine(spark, paths["quarantine"], rejected, uris)
        metrics.timings_seconds["merge"] = time.monotonic() - clock
    finally:
        conformed.unpersist()
    metrics.counts.update(
        read=sum(s.get("records", 0) + s.get("blank", 0) for s in summaries.values()),
        blank=sum(s.get("blank", 0) for s in summaries.values()),
        held=sum(summaries[i].get("records", 0) for i in held),
        inserted=merged.inserted,
        updated=merged.updated,
        unchanged=unchanged,
        duplicates=int(totals["duplicates"]),
        quarantined=quarantined,
    )
    return summaries


def _totals(is_record) -> list:
    """What the MERGE plan needs of the records `is_record` selects."""
    valid = is_record & is_valid()
    return [
        F.count(F.when(is_record & ~is_valid(), 1)).alias("rejected"),
        F.count(F.when(valid, 1)).alias("valid"),
        silver_frames.duplicates(F.when(valid, F.col("row_id"))).alias("duplicates"),
        F.min(F.when(valid, F.col("row_id"))).alias("min_row_id"),
        F.max(F.when(valid, F.col("row_id"))).alias("max_row_id"),
    ]


def _breach_entry(breach: quality_gate.Breach, uri: str, reasons: dict, threshold: float) -> dict:
    """One breaching object in the record: counts, top reasons and a one-line message."""
    top = ", ".join(f"{code} ×{n}" for code, n in list(reasons.items())[:3])
    what = {
        quality_gate.HELD: "held: none of its rows were loaded; fix the file and upload "
        "it again, or rerun the execution with accept_quality_breach to load it as it is",
        quality_gate.RELEASED: "released by accept_quality_breach: loaded as it is",
        quality_gate.LOADED: "loaded (quality policy continue)",
    }[breach.action]
    return {
        "uri": uri,
        "records": breach.records,
        "quarantined": breach.quarantined,
        "ratio": round(breach.ratio, 6),
        "action": breach.action,
        "reasons": reasons,
        "detail": f"{uri}: {breach.quarantined} of {breach.records} rows failed a rule "
        f"({top}): ratio {breach.ratio:.4g} is over the threshold {threshold:g}; {what}",
    }


def _source_entry(source: Source, summary: dict) -> dict:
    return {
        "uri": source.uri,
        "version": source.version,
        "rows_read": summary.get("records", 0) + summary.get("blank", 0),
        "blank": summary.get("blank", 0),
        "quarantined": summary.get("rejected", 0),
        "rescued_columns": summary.get("rescued_columns", []),
        "rescued_rows": summary.get("rescued_rows", 0),
        "date_format": summary.get("date_format"),
        "encoding": summary.get("encoding"),
        "compression": summary.get("compression"),
        "outcome": summary.get("outcome"),
        "notes": summary.get("notes", []),
    }


def load(
    spark,
    sources: list[Source],
    paths: dict[str, str],
    metrics: RunMetrics,
    options: LoadOptions | None = None,
) -> dict:
    """Load the run's bronze objects into silver; fills counts, sources, rejected files
    and timings of `metrics`. Returns no extra record fields."""
    # Spark's file sources skip zero-byte files: say what they are here instead.
    readable = [s for s in sources if s.size > 0]
    options = options or LoadOptions()
    summaries = _write(spark, readable, paths, metrics, options) if readable else {}
    empty = parse_file(b"").summary
    for source in sources:
        summary = summaries.get(source.index, {})
        if not source.size:
            summary = {"outcome": empty.outcome, "notes": empty.notes}
        metrics.sources.append(_source_entry(source, summary))
        if summary.get("outcome") == "rejected":
            metrics.rejected_files.append(
                {
                    "uri": source.uri,
                    "reason": summary.get("reject_reason"),
                    "detail": f"{source.uri}: {summary.get('reject_detail')}",
                }
            )
    return {}
