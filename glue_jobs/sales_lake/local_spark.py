"""The one local Spark session factory: the jobs' local mode, the local twin, the tests
and the benchmarks all use it.

It mirrors Glue 5.0 (Spark 3.5, Delta 3.3) but is sized for a 2-core laptop,
never opens the UI or a public port, and loads Delta from jars resolved once
at set-up (`scripts/setup.sh`), so a session never downloads anything. It lives in
the library because the jobs need it when they run outside Glue; on Glue it is never
imported (see job_session.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# The checkout's jar cache (this file is glue_jobs/sales_lake/local_spark.py), unless
# SALES_PIPELINE_JARS points elsewhere.
JARS_DIR = Path(
    os.environ.get("SALES_PIPELINE_JARS", Path(__file__).resolve().parents[2] / ".cache" / "jars")
)

_DELTA_JARS = ("delta-spark_2.12", "delta-storage")
MEMORY_VARIABLE = "SALES_PIPELINE_SPARK_MEMORY"
DEFAULT_MEMORY = "4g"
# HotSpot's exit status under -XX:+ExitOnOutOfMemoryError.
OUT_OF_MEMORY_EXIT = 3
# Spark's logging locally: warnings, minus start-up notices and a harmless trace (the file).
LOG_CONFIG = Path(__file__).with_name("local_log4j2.properties")


class SparkSetupError(RuntimeError):
    """The local Spark prerequisites are missing; the message says how to fix it."""


def delta_jars(jars_dir: Path = JARS_DIR) -> list[Path]:
    jars = sorted(jars_dir.glob("*.jar")) if jars_dir.is_dir() else []
    missing = [name for name in _DELTA_JARS if not any(j.name.startswith(name) for j in jars)]
    if missing:
        raise SparkSetupError(
            f"Delta Lake jars {missing} not found in {jars_dir}. "
            "Run `make setup` (or scripts/setup.sh) to resolve them with Maven."
        )
    return jars


def local_spark_session(app_name: str = "sales-pipeline-local", cores: int = 2):
    """Return the process-wide local Spark session with Delta enabled.

    `getOrCreate` makes a second call cheap and returns the same session, which
    is what lets the twin and the test suite share one JVM per process.
    """
    from pyspark.sql import SparkSession

    jars = ",".join(str(j) for j in delta_jars())
    scratch = Path(tempfile.gettempdir()) / f"sales-pipeline-spark-{os.getuid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(f"local[{cores}]")
        .config("spark.jars", jars)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
        .config("spark.driver.memory", driver_memory())
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.default.parallelism", str(cores * 2))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.local.dir", str(scratch / "tmp"))
        # A JVM out of heap exits at once (status 3) instead of limping on or hanging
        # with half its threads dead; jvm_exit_message() then says what to raise.
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={scratch} -XX:+ExitOnOutOfMemoryError "
            f"-Dlog4j2.configurationFile={LOG_CONFIG}",
        )
        # Delta's defaults assume a cluster; these keep small-table commits fast.
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.databricks.delta.stats.collect", "true")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def driver_memory() -> str:
    return os.environ.get(MEMORY_VARIABLE, DEFAULT_MEMORY)


def jvm_exit_message() -> str | None:
    """Why the local JVM is gone, in one line with the fix, or None while it runs.

    Called after a Spark call failed: once the JVM has exited, py4j only reports a
    broken connection, which says nothing about memory."""
    from pyspark import SparkContext

    process = getattr(SparkContext._gateway, "proc", None)
    if process is None:
        return None
    try:
        SparkContext._jvm.java.lang.System.nanoTime()  # still answering: not about the JVM
        return None
    except Exception:  # noqa: BLE001 - any failure to reach it means it is going away
        try:
            status = process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - alive but not answering
            return None
    if status == OUT_OF_MEMORY_EXIT:
        return (
            f"Spark ran out of memory (driver memory {driver_memory()}); fix: raise "
            f"{MEMORY_VARIABLE} (e.g. {MEMORY_VARIABLE}=8g) or lower the job's split_bytes"
        )
    return f"Spark's JVM exited with status {status}; see the lines it printed above"
