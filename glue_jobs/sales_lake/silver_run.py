"""The silver job's frame: what one run does around its loader, once for both loaders.

One Glue job writes silver (glue_jobs/to_silver.py, which only calls `main`), and
`--source_kind` picks its loader: `sales_lake.batch.loader` (bronze CSV objects) or
`sales_lake.stream.loader` (stream event files). A run, whatever the kind:
parse the arguments (Glue's `--name value`, or the same locally) -> create the silver
tables if absent -> resolve the listed objects into present sources and missing ones
-> the loader's `load(spark, sources, paths, metrics)` parses, validates, MERGEs and
counts -> Delta versions, timings -> the run record, written only if its counts are
conserved (`RunMetrics.write`), so a run that miscounts fails instead of reporting.

A loader is a module with `KIND` (its --source_kind), `JOB` (the record's `job`),
`MISSING_FIX` (how to get a missing object loaded, for its rejected-file entry) and
`load(spark, sources, paths, metrics, options)` (`options`: `load_options.LoadOptions`
from the job's optional arguments), which fills counts, sources, rejected files and
the read/transform/merge timings of `metrics` and returns the extra fields of its
record.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from types import ModuleType

from sales_lake import delta_tables, job_session, maintenance, quality_metrics
from sales_lake.batch import loader as batch_loader
from sales_lake.lake_layout import QUARANTINE_TABLE, SALES_TABLE
from sales_lake.load_options import ARGUMENTS as OPTION_ARGS
from sales_lake.load_options import LoadOptions
from sales_lake.run_metrics import RunMetrics
from sales_lake.run_sources import Source, resolve_sources
from sales_lake.stream import loader as stream_loader
from sales_lake.task_token import TaskToken

SOURCE_KIND_ARG = "--source_kind"
LOADERS: dict[str, ModuleType] = {loader.KIND: loader for loader in (batch_loader, stream_loader)}
JOB_ARGS = ("run_id", "lake_uri")
SOURCE_ARGS = ("manifest_uri", "source_uris")
# Where the run's data-quality metrics go (CloudWatch namespace); none: not published.
OPTIONAL_JOB_ARGS = (quality_metrics.ARGUMENT,)


class SourceKindError(ValueError):
    """--source_kind is missing or names no loader; the message says what to pass."""


def loader(kind: str | None) -> ModuleType:
    """The loader module of a source kind."""
    if kind not in LOADERS:
        raise SourceKindError(
            f"{SOURCE_KIND_ARG} is {kind!r}: pass one of {sorted(LOADERS)} "
            "(the state machine sets it from the execution input's `kind`)"
        )
    return LOADERS[kind]


def split_source_kind(argv: list[str]) -> tuple[str, list[str]]:
    """(source kind, argv without it); a missing or unknown kind raises SourceKindError."""
    kind, rest = _without_source_kind(argv)
    return loader(kind).KIND, rest


def _without_source_kind(argv: list[str]) -> tuple[str | None, list[str]]:
    """(the --source_kind given, unchecked; argv without it)."""
    rest: list[str] = []
    kind = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == SOURCE_KIND_ARG:
            kind = argv[i + 1] if i + 1 < len(argv) else None
            i += 2
            continue
        if arg.startswith(SOURCE_KIND_ARG + "="):
            kind = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return kind, rest


def parse_args(argv: list[str]) -> dict[str, str]:
    """`--name value` pairs as Glue passes them (ignoring Glue's own, e.g. --JOB_NAME)."""
    parser = argparse.ArgumentParser(
        prog="to_silver", description=__doc__.splitlines()[0], allow_abbrev=False
    )
    for name in JOB_ARGS:
        parser.add_argument(f"--{name}", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    for name in SOURCE_ARGS:
        group.add_argument(f"--{name}")
    for name in (*OPTION_ARGS, *OPTIONAL_JOB_ARGS):
        parser.add_argument(f"--{name}")
    known, _glue_own = parser.parse_known_args(argv)
    return {k: v for k, v in vars(known).items() if v is not None}


def job_args(argv: list[str]) -> dict[str, str]:
    """The run's arguments from a script's argv: Glue's own resolver on Glue."""
    if not job_session.on_glue():
        return parse_args(argv[1:])
    from awsglue.utils import getResolvedOptions

    optional = (*SOURCE_ARGS, *OPTION_ARGS, *OPTIONAL_JOB_ARGS)
    present = [name for name in optional if f"--{name}" in argv]
    return getResolvedOptions(argv, [*JOB_ARGS, *present])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sources_of(args: dict[str, str], chosen: ModuleType) -> tuple[list[Source], list[dict]]:
    """The run's present sources and a rejected-file entry per missing object."""
    return resolve_sources(args, chosen.KIND, chosen.MISSING_FIX)


def run(spark, chosen: ModuleType, args: dict[str, str]) -> dict:
    """One run of `chosen` loader; returns (and writes) the run record."""
    clock = time.monotonic()
    lake_uri = args["lake_uri"].rstrip("/")
    options = LoadOptions.from_args(args)
    metrics = RunMetrics(run_id=args["run_id"], started_at=_now(), job=chosen.JOB)
    release = options.accept_quality_breach
    metrics.quality = {
        "policy": options.quality_policy,
        "max_quarantine_ratio": options.max_quarantine_ratio,
        # Who released held objects by rerunning with accept_quality_breach, and when.
        "released": {"at": metrics.started_at, **release} if release else None,
    }
    paths = delta_tables.prepare_silver(spark, lake_uri)
    sources, missing = sources_of(args, chosen)
    metrics.rejected_files.extend(missing)
    extra = chosen.load(spark, sources, paths, metrics, options)
    metrics.sources.extend(
        {"uri": m["uri"], "version": None, "rows_read": 0, "outcome": "missing",
         "notes": [m["detail"]]}
        for m in missing
    )  # fmt: skip
    metrics.delta_versions = {
        SALES_TABLE: delta_tables.table_version(spark, paths["sales"]),
        QUARANTINE_TABLE: delta_tables.table_version(spark, paths["quarantine"]),
    }
    metrics.finished_at = _now()
    metrics.timings_seconds["total"] = time.monotonic() - clock
    record = metrics.write(lake_uri, **extra)
    if args.get(quality_metrics.ARGUMENT):
        quality_metrics.publish(record, args[quality_metrics.ARGUMENT])
    return record


def run_silver(spark, args: dict[str, str]) -> dict:
    """In-process entry (local twin, tests, benchmarks): `args` holds `source_kind` plus
    the run's arguments; returns the run record."""
    rest = {k: v for k, v in args.items() if k != "source_kind"}
    return run(spark, loader(args.get("source_kind")), rest)


def run_maintenance(argv: list[str]) -> dict:
    """`--source_kind maintenance --lake_uri …`: compact and vacuum silver."""
    parser = argparse.ArgumentParser(prog="to_silver maintenance", allow_abbrev=False)
    parser.add_argument("--lake_uri", required=True)
    parser.add_argument("--retain_hours", type=float, default=None)
    known, _glue_own = parser.parse_known_args(argv[1:])
    spark = job_session.job_spark_session("silver_maintenance")
    return maintenance.maintain(spark, known.lake_uri, known.retain_hours)


def main(argv: list[str] | None = None) -> int:
    """The job script's entry: Glue's argv (script name first)."""
    argv = sys.argv if argv is None else argv
    if _without_source_kind(argv)[0] == maintenance.KIND:  # not a loader: no run record
        print(json.dumps(run_maintenance(argv)))
        return 0
    kind, rest = split_source_kind(argv)
    chosen = LOADERS[kind]
    token, job_run_id = TaskToken.of(argv)

    def work() -> dict:
        return run(job_session.job_spark_session(chosen.JOB), chosen, job_args(rest))

    # The state machine waits on the token: completing it is the run's last act.
    record = token.report(work, job_run_id)
    print(json.dumps({"run_id": record["run_id"], "counts": record["counts"]}))
    return 0
