"""Scale benchmark: one big file through the silver job, its memory and its cores.

    .venv/bin/python -m benchmarks.scale [--rows 10000000] [--small 1000000]
                                         [--batch 10000] [--skip-gold] [--job-arg K=V ...]

Each Spark run is a child process of its own (`--child`), as each Glue run is its own
JVM: its cores (`local[N]`) and driver memory are set per run, and the parent samples
the resident memory of the child's whole process tree (JVM + Python workers) from /proc
every 0.2 s. A child starts Spark, warms it with a 1k-row run, then times the job on
the file (start-up and warm-up are not in the figure). Printed in one run, with the
load average beside each figure:

  1. the job vs the DuckDB reference (benchmarks.silver_duckdb) on the big file, at
     local[2] and 4 GB: seconds, rows/s, ratio (target <= 4x);
  2. the big file at local[1] vs local[2]: speed-up (target >= 1.6x);
  3. peak resident memory of the tree for the big and the small file, the big file
     again with the driver at 2 GB (it must complete: memory is bounded by settings),
     and the small file gzip-compressed at 2 GB (one task decompresses it to disk);
  4. gold on the big silver (`benchmarks.gold --rows N --rounds 1`): full build vs
     incremental after a --batch row batch (target incremental <= 25 % of full).

Files come from the sample-data generator (cached under bench-results/silver/data, as
for `make bench-silver`). Not run in CI: the default takes the better part of an hour.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.process_tree import resident_bytes
from benchmarks.silver import FAULTS, WORK, dataset, fresh, run_job, say

RESULT = "RESULT "
TARGET_RATIO, TARGET_SPEEDUP, TARGET_GOLD = 4.0, 1.6, 0.25


def child(args) -> int:
    """One Spark run in this process: warm-up, then the timed job; prints RESULT json."""
    os.environ["SALES_PIPELINE_SPARK_MEMORY"] = args.memory
    from sales_lake.local_spark import local_spark_session

    spark = local_spark_session(app_name="bench-scale", cores=args.cores)
    warm_lake = fresh(WORK / f"scale-warm-{args.label}")
    run_job(spark, dataset(1_000, seed=1)[0], warm_lake, "warm-up")
    extra = dict(pair.split("=", 1) for pair in args.job_arg)
    seconds, metrics = run_job(
        spark, Path(args.file), fresh(WORK / f"scale-lake-{args.label}"), args.label, extra
    )
    print(RESULT + json.dumps({"seconds": seconds, "cpu": metrics["cpu_seconds"],
                               "counts": metrics["counts"],
                               "timings": metrics["timings_seconds"]}), flush=True)  # fmt: skip
    return 0


def spark_run(label: str, file: Path, cores: int, memory: str, job_args: list[str]) -> dict:
    """Run one child; its result plus the peak resident memory of its process tree."""
    command = [sys.executable, "-m", "benchmarks.scale", "--child", "--label", label,
               "--file", str(file), "--cores", str(cores), "--memory", memory]  # fmt: skip
    for pair in job_args:
        command += ["--job-arg", pair]
    say(f"{label}: local[{cores}], driver {memory}, {file.stat().st_size / 1e9:.2f} GB ...")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], resident_bytes(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    process.wait()
    sampler.join()
    found = [line for line in output.splitlines() if line.startswith(RESULT)]
    if process.returncode or not found:
        say(f"{label}: FAILED (exit {process.returncode}); peak {peak[0] / 1e9:.2f} GB")
        return {"failed": process.returncode, "peak": peak[0]}
    result = json.loads(found[-1][len(RESULT) :]) | {"peak": peak[0],
                                                     "load": os.getloadavg()[0]}  # fmt: skip
    say(f"{label}: {result['seconds']:.1f}s (cpu {result['cpu']:.1f}s), peak "
        f"{peak[0] / 1e9:.2f} GB, counts {result['counts']}")  # fmt: skip
    say(f"  phases {result['timings']}")
    return result


def gzipped(file: Path) -> Path:
    """`file` gzip-compressed (level 1), cached beside its data set folder."""
    target = file.parent.with_name(file.parent.name + "-gzip") / (file.name + ".gz")
    if not target.exists():
        say(f"compressing {file.name} ...")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        with file.open("rb") as source, gzip.open(partial, "wb", compresslevel=1) as packed:
            shutil.copyfileobj(source, packed, 1024 * 1024)
        partial.rename(target)
    return target


def duckdb_run(file: Path) -> dict:
    from benchmarks.silver_duckdb import duckdb_reference

    say(f"DuckDB reference on {file.name} ...")
    seconds, counts = duckdb_reference(file, fresh(WORK / "scale-duckdb"))
    say(f"  duckdb {seconds:.1f}s counts={counts}")
    return {"seconds": seconds, "load": os.getloadavg()[0]}


def gold_run(rows: int, batch: int) -> int:
    """benchmarks.gold at `rows`, one round: its figures print as they come."""
    say(f"gold: benchmarks.gold --rows {rows:,} --batch {batch:,} --rounds 1 ...")
    command = [sys.executable, "-m", "benchmarks.gold", "--rows", str(rows),
               "--batch", str(batch), "--rounds", "1"]  # fmt: skip
    return subprocess.run(command, check=False).returncode


def report(rows: int, small: int, runs: dict, duck: dict) -> None:
    def fig(run: dict) -> str:
        if "seconds" not in run:
            return f"FAILED (exit {run['failed']})"
        return f"{run['seconds']:.1f} s (load {run['load']:.1f})"

    big, one_core = runs["big-2-cores"], runs["big-1-core"]
    print(f"\n== silver job on one {rows:,}-row file ==")
    print(
        f"job local[2] 4g: {fig(big)}"
        + (f", {rows / big['seconds']:,.0f} rows/s" if "seconds" in big else "")
    )
    print(f"DuckDB reference: {duck['seconds']:.1f} s (load {duck['load']:.1f}), "
          f"{rows / duck['seconds']:,.0f} rows/s")  # fmt: skip
    if "seconds" in big:
        ratio = big["seconds"] / duck["seconds"]
        print(f"ratio job / DuckDB: {ratio:.2f}x (target <= {TARGET_RATIO:g}x)")
    print(f"job local[1] 4g: {fig(one_core)}")
    if "seconds" in big and "seconds" in one_core:
        speedup = one_core["seconds"] / big["seconds"]
        print(f"speed-up local[1] -> local[2]: {speedup:.2f}x (target >= {TARGET_SPEEDUP:g}x)")
    print("\n== peak resident memory of the process tree (JVM + Python workers) ==")
    for label, what in (("big-2-cores", f"{rows:,} rows, driver 4g"),
                        ("big-2g", f"{rows:,} rows, driver 2g"),
                        ("small-2-cores", f"{small:,} rows, driver 4g"),
                        ("small-gzip-2g", f"{small:,} rows gzip, driver 2g")):  # fmt: skip
        run = runs[label]
        print(f"{what}: {run['peak'] / 1e9:.2f} GB, {fig(run)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000, help="gold's incremental batch")
    parser.add_argument("--skip-gold", action="store_true")
    parser.add_argument("--job-arg", action="append", default=[], help="K=V job argument")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--cores", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--memory", default="4g", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    big, _ = dataset(args.rows, seed=42, faults=FAULTS)
    small, _ = dataset(args.small, seed=42, faults=FAULTS)
    runs = {
        "big-2-cores": spark_run("big-2-cores", big, 2, "4g", args.job_arg),
        "big-1-core": spark_run("big-1-core", big, 1, "4g", args.job_arg),
        "big-2g": spark_run("big-2g", big, 2, "2g", args.job_arg),
        "small-2-cores": spark_run("small-2-cores", small, 2, "4g", args.job_arg),
        "small-gzip-2g": spark_run("small-gzip-2g", gzipped(small), 2, "2g", args.job_arg),
    }
    duck = duckdb_run(big)
    report(args.rows, args.small, runs, duck)
    gold_failed = 0 if args.skip_gold else gold_run(args.rows, args.batch)
    print(f"load average at the end: {os.getloadavg()}")
    return 1 if gold_failed or any("failed" in run for run in runs.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
