"""A local Spark run that exhausts the driver's memory fails at once with a message naming
the setting to raise; it never hangs (the JVM used to limp on with dead threads).

The run is a process of its own with a 512 MB driver (the suite's session is shared and
must survive); the driver is asked for an array bigger than that heap, as a collect of
too many rows would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

RUN = textwrap.dedent(
    """
    import sys
    from sales_lake.local_spark import jvm_exit_message, local_spark_session

    spark = local_spark_session(app_name="oom-check", cores=1)
    try:
        jvm = spark.sparkContext._jvm
        jvm.java.lang.reflect.Array.newInstance(jvm.java.lang.Long.TYPE, 200_000_000)
    except Exception:
        print("MESSAGE", jvm_exit_message(), flush=True)
        sys.exit(1)
    print("MESSAGE collected everything", flush=True)
    """
)


def test_a_run_out_of_driver_memory_fails_promptly_naming_the_setting(tmp_path):
    env = {**os.environ, "SALES_PIPELINE_SPARK_MEMORY": "512m", "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", RUN], env=env, capture_output=True, text=True, timeout=240
    )
    [message] = [line for line in result.stdout.splitlines() if line.startswith("MESSAGE")]
    assert result.returncode == 1, result.stderr[-2000:]
    assert message == (
        "MESSAGE Spark ran out of memory (driver memory 512m); fix: raise "
        "SALES_PIPELINE_SPARK_MEMORY (e.g. SALES_PIPELINE_SPARK_MEMORY=8g) or lower the "
        "job's split_bytes"
    )
