"""Gold-layer benchmark: full build vs incremental build of the dbt project (local target).

    .venv/bin/python -m benchmarks.gold [--rows 1000000] [--batch 10000] [--rounds 3] [--keep DIR]
                                         [--verify]

Silver is built the production way: generated landing CSVs through the real Glue batch
job (local Spark). Then, timed:
  1. a full build from scratch (`python dbt/entrypoint.py`, the ECS task command);
  2. a 10k-row batch of newer orders through the batch job, then an incremental build.
Prints both wall times, their ratio (target: incremental <= 25% of full), the time of a
rerun without new data (what any build costs), and the slowest dbt nodes of each build
from run_results.json. --verify then rebuilds with
--full-refresh and checks that every gold table equals the incremental result.
--rounds N repeats the three timed builds N times, each round on a copy of the first
silver (a shared machine is noisy), and prints the medians.

The dbt processes run with compiled bytecode, as in the ECS image (pip writes .pyc
files at install). This environment sets PYTHONDONTWRITEBYTECODE, so a venv without
.pyc files would make every dbt process compile dbt-core, pyarrow and friends from
source (~1,400 modules, 1.5-2 s per process). The benchmark keeps the bytecode in
a cache of its own (PYTHONPYCACHEPREFIX), filled by an untimed first full build; the
timed full build then starts from scratch again (new DuckDB file, new target folder, so
a full parse), with the bytecode the image would have.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO_ROOT / "dbt" / "entrypoint.py"
TARGET_RATIO = 0.25


def say(message: str) -> None:
    print(f"[gold bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_silver(spark, lake: Path, files: list[Path], run_id: str) -> float:
    from sales_lake.silver_run import run_silver

    started = time.perf_counter()
    uris = ",".join(path.as_uri() for path in files)
    metrics = run_silver(spark, {"source_kind": "batch", "run_id": run_id,
                                 "lake_uri": lake.as_uri(), "source_uris": uris})  # fmt: skip
    seconds = time.perf_counter() - started
    say(f"silver {run_id}: {metrics['counts']} in {seconds:.1f}s")
    return seconds


def python_env(work: Path) -> dict[str, str]:
    """The dbt processes' environment: bytecode cached under <work>/pycache (see above)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def from_scratch(env: dict[str, str]) -> None:
    """Forget every gold build: the DuckDB file and dbt's target folder (partial parse)."""
    Path(env["DUCKDB_PATH"]).unlink(missing_ok=True)
    shutil.rmtree(env["DBT_TARGET_PATH"], ignore_errors=True)


def dbt_build(base_env: dict[str, str], run_id: str, lake: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ENTRYPOINT)],
        cwd=ENTRYPOINT.parent,
        env={**base_env, "RUN_ID": run_id},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt task {run_id} failed:\n{result.stdout[-3000:]}\n{result.stderr}")
    run_results = json.loads((lake / "runs" / run_id / "dbt" / "run_results.json").read_text())
    return seconds, run_results


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def slowest(run_results: dict, count: int = 6) -> str:
    nodes = run_results["results"]
    ranked = sorted(nodes, key=lambda node: node["execution_time"], reverse=True)[:count]
    return ", ".join(
        f"{node['unique_id'].split('.')[-1]} {node['execution_time']:.2f}s" for node in ranked
    )


def node_time(run_results: dict, name: str) -> float:
    return next(
        node["execution_time"] for node in run_results["results"] if node["unique_id"] == name
    )


def phase_time(run_results: dict, prefix: str) -> float:
    """Summed execution time of the models (prefix 'model.') or data tests ('test.')."""
    return sum(
        node["execution_time"]
        for node in run_results["results"]
        if node["unique_id"].startswith(prefix)
    )


GOLD_TABLES = (
    "dim_customer", "dim_product", "dim_store", "dim_date", "fact_sales",
    "agg_sales_by_month_market_category", "agg_customer_summary", "dq_quarantine_by_run_reason",
)  # fmt: skip


def verify_against_full_refresh(base_env: dict[str, str], lake: Path) -> None:
    """Keep the incremental result, rebuild with --full-refresh, compare table by table."""
    import duckdb

    gold = Path(base_env["DUCKDB_PATH"])
    incremental = gold.with_name("gold-incremental.duckdb")
    shutil.copyfile(gold, incremental)
    say("verify: --full-refresh on the same silver")
    result = subprocess.run(
        [sys.executable, str(ENTRYPOINT), "--full-refresh"], cwd=ENTRYPOINT.parent,
        env={**base_env, "RUN_ID": "bench-verify"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"full refresh failed:\n{result.stdout[-3000:]}\n{result.stderr}")
    with duckdb.connect() as connection:
        connection.execute(f"attach '{incremental}' as incremental (read_only)")
        connection.execute(f"attach '{gold}' as refreshed (read_only)")
        differences = {
            table: connection.sql(
                f"select count(*) from ((select * from incremental.main.{table} except all "
                f"select * from refreshed.main.{table}) union all (select * from "
                f"refreshed.main.{table} except all select * from incremental.main.{table}))"
            ).fetchone()[0]
            for table in GOLD_TABLES
        }
    different = {table: rows for table, rows in differences.items() if rows}
    print(f"incremental == full refresh  {'yes' if not different else f'NO: {different}'}")
    if different:
        raise SystemExit(1)


@dataclass
class Round:
    """One round's figures: wall seconds and run_results of each timed build."""

    full: float
    incremental: float
    rerun: float
    full_results: dict
    incremental_results: dict
    rerun_results: dict

    @property
    def ratio(self) -> float:
        return self.incremental / self.full


def one_round(spark, args, lake: Path, base_env: dict[str, str], batch_files: list[Path]) -> Round:
    """Full build from scratch on the first silver, the batch, incremental, rerun."""
    from_scratch(base_env)
    say(f"full build (from scratch), load average {load_average()}")
    full_seconds, full_results = dbt_build(base_env, "bench-full", lake)
    say(f"full build: {full_seconds:.1f}s; slowest: {slowest(full_results)}")
    load_silver(spark, lake, batch_files, "bench-silver-2")
    say(f"incremental build after {args.batch:,} new rows, load average {load_average()}")
    incremental_seconds, incremental_results = dbt_build(base_env, "bench-incremental", lake)
    say(f"incremental: {incremental_seconds:.1f}s; slowest: {slowest(incremental_results)}")
    say(f"rerun without new data (the fixed cost of a build), load average {load_average()}")
    rerun_seconds, rerun_results = dbt_build(base_env, "bench-rerun", lake)
    say(f"rerun: {rerun_seconds:.1f}s")
    return Round(full_seconds, incremental_seconds, rerun_seconds,
                 full_results, incremental_results, rerun_results)  # fmt: skip


def median_round(rounds: list[Round]) -> Round:
    """The round whose ratio is the median (its figures stay consistent together)."""
    return sorted(rounds, key=lambda figures: figures.ratio)[len(rounds) // 2]


def print_figures(args, rounds: list[Round]) -> None:
    shown = median_round(rounds)
    print()
    if len(rounds) > 1:
        print(f"{len(rounds)} rounds; medians, then the figures of the round with the median ratio")
        for label in ("full", "incremental", "rerun"):
            walls = sorted(getattr(figures, label) for figures in rounds)
            listed = ", ".join(f"{wall:.1f}" for wall in walls)
            print(f"  {label:<11} median {walls[len(walls) // 2]:>5.1f} s   all {listed}")
        ratios = sorted(figures.ratio for figures in rounds)
        print(f"  ratio       median {ratios[len(ratios) // 2]:>5.1%}")
    print(f"silver rows                 {args.rows:>10,}   new batch {args.batch:,}")
    print(f"full build (wall)           {shown.full:>10.1f} s")
    print(f"incremental build (wall)    {shown.incremental:>10.1f} s")
    print(f"ratio incremental / full    {shown.ratio:>10.1%}   target <= {TARGET_RATIO:.0%}")
    nodes = len(shown.rerun_results["results"])
    print(
        f"rerun, no new data (wall)   {shown.rerun:>10.1f} s   "
        f"{shown.rerun / shown.full:.1%} of full, {nodes} dbt nodes"
    )
    builds = (("full", shown.full, shown.full_results),
              ("incremental", shown.incremental, shown.incremental_results))  # fmt: skip
    for label, wall, results in builds:
        models, tests = phase_time(results, "model."), phase_time(results, "test.")
        print(
            f"{label:<12} dbt elapsed {results['elapsed_time']:>6.1f} s: models {models:.1f} s"
            f", tests {tests:.1f} s"
        )
        print(
            f"{'':<12} outside dbt's timer (process start, imports, parse, artifacts) "
            f"{wall - results['elapsed_time']:.1f} s"
        )
    fact_full = node_time(shown.full_results, "model.sales_gold.fact_sales")
    fact_incremental = node_time(shown.incremental_results, "model.sales_gold.fact_sales")
    print(f"fact_sales model full       {fact_full:>10.2f} s")
    print(f"fact_sales model incr.      {fact_incremental:>10.2f} s")
    print(f"fact_sales ratio            {fact_incremental / fact_full:>10.1%}")
    versions_full = phase_time(shown.full_results, "model.sales_gold.int_")
    versions_incremental = phase_time(shown.incremental_results, "model.sales_gold.int_")
    print(f"SCD2 period models full     {versions_full:>10.2f} s")
    print(f"SCD2 period models incr.    {versions_incremental:>10.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="repeat full / incremental / rerun on the same silver, print medians",
    )  # fmt: skip
    parser.add_argument(
        "--verify", action="store_true", help="then check incremental == --full-refresh"
    )
    args = parser.parse_args(argv)

    from sales_lake.local_spark import local_spark_session

    from sales_data_generator import write_dataset

    with tempfile.TemporaryDirectory(prefix="gold-bench-") as temporary:
        work = args.keep or Path(temporary)
        lake = work / "s3" / "lake-bucket"
        env = {
            "DBT_TARGET": "local",
            "LAKE_URI": lake.as_uri(),
            "DUCKDB_PATH": str(work / "gold.duckdb"),
            "DBT_TARGET_PATH": str(work / "dbt_target"),
        }

        say(f"generating {args.rows:,} rows")
        report = write_dataset(work / "landing", rows=args.rows, files=10, seed=2026,
                               date_format="iso", changes=True)  # fmt: skip
        say(f"generated {report.rows_written:,} rows in {len(report.files)} files; starting Spark")
        spark = local_spark_session(app_name="gold-benchmark")
        load_silver(spark, lake, report.files, "bench-silver-1")
        batch = write_dataset(
            work / "landing-2", rows=args.batch, files=1, seed=2027, date_format="iso",
            changes=True, start_date=date(2016, 1, 1), days=31, first_row_id=report.next_row_id,
        )  # fmt: skip

        base_env = {**python_env(work), **env}
        warm_up_seconds, _results = dbt_build(base_env, "bench-warm-up", lake)
        say(f"untimed warm-up full build (fills the bytecode cache): {warm_up_seconds:.1f}s")
        first_silver = work / "silver-after-first-load"
        if args.rounds > 1:
            shutil.copytree(lake / "silver", first_silver)
        rounds = []
        for number in range(1, args.rounds + 1):
            if number > 1:  # the first silver again, in a new folder (Spark caches Delta logs)
                lake = work / f"round-{number}" / "s3" / "lake-bucket"
                shutil.copytree(first_silver, lake / "silver")
                base_env = {**base_env, "LAKE_URI": lake.as_uri()}
            say(f"round {number} of {args.rounds}")
            rounds.append(one_round(spark, args, lake, base_env, batch.files))
        print_figures(args, rounds)
        spark.stop()
        if args.verify:
            verify_against_full_refresh(base_env, lake)
    return 0


if __name__ == "__main__":
    sys.exit(main())
