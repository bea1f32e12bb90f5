"""Benchmark the bronze -> silver batch job.

    .venv/bin/python -m benchmarks.silver [--sizes 100000,1000000] [--incremental 10000]
                                          [--repeats 3]

1. Generated landing files (sample-data generator, ~0.5% faulty lines, cached under
   bench-results/silver/) are loaded by the real job (`run_silver`, Spark + Delta
   MERGE) and by a DuckDB reference doing the same parsing, validation, hashing and
   de-duplication and writing Parquet; rows/s of both and their ratio.
   JVM start-up and a warm-up run are timed and reported apart.
2. A 10k-row file (1k corrections of the most recent rows + 9k new rows) MERGEd into
   (a copy of) silver holding the 1M rows vs. the same file into an empty table,
   repeated (default 3) and compared by medians: single runs of a few seconds are noisy.

Figures are wall-clock on whatever else the machine is doing; the load average is
printed next to them so they can be read honestly.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import time
from pathlib import Path
from statistics import median

from benchmarks.process_tree import cpu_seconds
from benchmarks.silver_duckdb import duckdb_reference
from local_twin.paths import REPO_ROOT

WORK = REPO_ROOT / "bench-results" / "silver"
FAULTS = {"malformed": 0.001, "bad_date": 0.001, "wrong_type": 0.001, "duplicate": 0.002}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:4.1f}] {message}", flush=True)


def dataset(rows: int, **options) -> tuple[Path, int]:
    """Generate (or reuse) one landing file; returns (file, next_row_id)."""
    from local_twin.progress import Progress
    from sales_data_generator import write_dataset

    key = "-".join(f"{k}={v}" for k, v in sorted(options.items()))
    out = WORK / "data" / f"rows-{rows}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    marker = out / "done"
    if marker.exists():
        name, next_row_id = marker.read_text().split()
        return out / name, int(next_row_id)
    shutil.rmtree(out, ignore_errors=True)
    say(f"generating {rows:,} rows (seed {options.get('seed', 'default')}) ...")
    with Progress().bar("generating", rows) as done:
        report = write_dataset(out, rows=rows, files=1, progress=done, **options)
    marker.write_text(f"{report.files[0].name} {report.next_row_id}")
    return report.files[0], report.next_row_id


def run_job(
    spark, source: Path, lake: Path, run_id: str, extra: dict[str, str] | None = None
) -> tuple[float, dict]:
    """Wall seconds of one job run (`extra`: more job arguments); metrics get a
    `cpu_seconds` (JVM + Python workers)."""
    from sales_lake.silver_run import run_silver

    jvm_pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
    cpu = cpu_seconds(jvm_pid) + time.process_time()
    started = time.perf_counter()
    metrics = run_silver(
        spark,
        {"source_kind": "batch", "run_id": run_id, "lake_uri": lake.as_uri(),
         "source_uris": source.as_uri(), **(extra or {})},
    )  # fmt: skip
    metrics["cpu_seconds"] = cpu_seconds(jvm_pid) + time.process_time() - cpu
    return time.perf_counter() - started, metrics


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--incremental", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="incremental runs (median)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    files = {rows: dataset(rows, seed=42, faults=FAULTS) for rows in sizes}
    largest = max(sizes)
    next_row_id = files[largest][1]
    increment, _ = dataset(
        args.incremental, seed=7, first_row_id=max(1, next_row_id - args.incremental // 10)
    )

    say("starting the JVM (local Spark + Delta) ...")
    started = time.perf_counter()
    from sales_lake.local_spark import local_spark_session

    spark = local_spark_session(app_name="bench-silver")
    spark.range(1).count()
    jvm = time.perf_counter() - started
    say(f"JVM start-up: {jvm:.1f}s (reported apart, excluded from rows/s)")
    # Warm both write paths: a first load (append) and a load over it (MERGE with updates).
    warm_lake = fresh(WORK / "lake-warmup")
    warm = sum(
        run_job(spark, dataset(1_000, seed=seed)[0], warm_lake, f"warmup-{seed}")[0]
        for seed in (1, 2)
    )
    say(f"warm-up runs (2 x 1k rows, JIT + Delta classes): {warm:.1f}s")

    results = []
    for rows in sizes:
        source = files[rows][0]
        say(f"Spark job on {rows:,} rows ({source.stat().st_size / 1e6:.0f} MB) ...")
        spark_s, metrics = run_job(spark, source, fresh(WORK / f"lake-{rows}"), f"bench-{rows}")
        cpu = metrics["cpu_seconds"]
        say(f"  spark {spark_s:.1f}s (cpu {cpu:.1f}s) counts={metrics['counts']}")
        say(f"  phases {metrics['timings_seconds']}")
        say(f"DuckDB reference on {rows:,} rows ...")
        duck_cpu = time.process_time()
        duck_s, duck_counts = duckdb_reference(source, fresh(WORK / f"duckdb-{rows}"))
        duck_cpu = time.process_time() - duck_cpu
        say(f"  duckdb {duck_s:.1f}s (cpu {duck_cpu:.1f}s) counts={duck_counts}")
        results.append((rows, spark_s, duck_s, metrics["cpu_seconds"], duck_cpu))

    # Each repeat starts from the same state: a copy of the 1M-row silver, a new empty one.
    into_full, into_empty = [], []
    for repeat in range(1, args.repeats + 1):
        say(f"MERGE {args.incremental:,} rows into silver holding {largest:,} rows ({repeat}) ...")
        lake = fresh(WORK / "lake-incremental")
        shutil.copytree(WORK / f"lake-{largest}", lake, dirs_exist_ok=True)
        into_full.append(run_job(spark, increment, lake, f"bench-incremental-{repeat}"))
        say(f"  {into_full[-1][0]:.1f}s phases={into_full[-1][1]['timings_seconds']}")
        say(f"MERGE the same {args.incremental:,} rows into an empty table ({repeat}) ...")
        empty_lake = fresh(WORK / "lake-empty")
        into_empty.append(run_job(spark, increment, empty_lake, f"bench-empty-{repeat}"))
        say(f"  {into_empty[-1][0]:.1f}s phases={into_empty[-1][1]['timings_seconds']}")
    say(f"  counts into {largest:,}: {into_full[-1][1]['counts']}")
    say(f"  counts into empty: {into_empty[-1][1]['counts']}")

    print(f"\n== bronze -> silver (excluding JVM start-up {jvm:.1f}s, warm-up {warm:.1f}s) ==")
    print(f"{'rows':>10} {'spark s':>8} {'spark rows/s':>13} {'duckdb s':>9} "
          f"{'duckdb rows/s':>14} {'ratio':>6} {'spark cpu':>10} {'duckdb cpu':>11} "
          f"{'cpu ratio':>9}")  # fmt: skip
    for rows, spark_s, duck_s, spark_cpu, duck_cpu in results:
        print(f"{rows:>10,} {spark_s:>8.1f} {rows / spark_s:>13,.0f} {duck_s:>9.1f} "
              f"{rows / duck_s:>14,.0f} {spark_s / duck_s:>5.1f}x {spark_cpu:>10.1f} "
              f"{duck_cpu:>11.1f} {spark_cpu / max(duck_cpu, 1e-9):>8.1f}x")  # fmt: skip
    job_full, job_empty = (median(s for s, _ in runs) for runs in (into_full, into_empty))
    merge_full, merge_empty = (
        median(m["timings_seconds"]["merge"] for _, m in runs) for runs in (into_full, into_empty)
    )
    print(f"\n== incremental MERGE of {args.incremental:,} rows (median of {args.repeats}) ==")
    for label, runs in ((f"into {largest:,} rows", into_full), ("into empty table", into_empty)):
        jobs = ", ".join(f"{s:.1f}" for s, _ in runs)
        merges = ", ".join(f"{m['timings_seconds']['merge']:.1f}" for _, m in runs)
        print(f"{label}: job {jobs} s; merge phase {merges} s")
    print(f"ratio of medians: job {job_full / job_empty:.2f}x, merge phase "
          f"{merge_full / merge_empty:.2f}x (target <= 1.5x)")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
