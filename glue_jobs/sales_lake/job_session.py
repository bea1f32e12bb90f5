"""The Spark session a job script runs on, wherever it runs.

On Glue it is GlueContext's session (Delta comes from `--datalake-formats delta`);
elsewhere it is the library's one local factory (local_spark.py), imported only in
that branch.
"""

from __future__ import annotations


def on_glue() -> bool:
    try:
        import awsglue.context  # noqa: F401
    except ImportError:
        return False
    return True


def job_spark_session(app_name: str):
    if on_glue():
        from awsglue.context import GlueContext
        from pyspark.context import SparkContext

        return GlueContext(SparkContext.getOrCreate()).spark_session
    from sales_lake.local_spark import local_spark_session

    return local_spark_session(app_name=app_name)
