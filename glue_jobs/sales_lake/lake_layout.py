"""The key layout of the raw and lake buckets (docs/contracts.md, "Buckets and keys").

One owner for every prefix and run file name: the CDK grants on them (cdk/storage.py
imports them), the loaders read and write under them, the twin lays its folders out by
them. The trigger Lambda ships alone (its asset is lambdas/trigger/ only), so it keeps
copies of the raw-side ones and of the manifest prefix; tests/lambdas/test_layout_contract.py
holds those copies equal to these. Plain constants and functions, no imports, so any
part of the project may import this module and it imports nothing back.
"""

from __future__ import annotations

# Raw (bronze) bucket.
BATCH_LANDING_PREFIX = "landing/sales/"
BATCH_FILE_SUFFIXES = (".csv", ".csv.gz")  # matched case-insensitively
STREAM_TOPICS_PREFIX = "topics/"
# What MSK Connect's S3 sink writes:
# topics/<topic>/<partitioning…>/<topic>+<partition>+<start offset, 10 digits>.json[.gz]
STREAM_FILE_KEY = r"^topics/[^/]+/.+/[^/]+\+\d+\+\d{10}\.json(\.gz)?$"

# Lake bucket.
MANIFESTS_PREFIX = "manifests/"  # manifests/<run_id>.json, written by the trigger
RUNS_PREFIX = "runs/"
RUN_METRICS_FILE = "metrics.json"  # runs/<run_id>/metrics.json, the full record
RUN_SUMMARY_FILE = "summary.json"  # runs/<run_id>/summary.json, what the state machine reads
SILVER_PREFIX = "silver/"
SALES_TABLE = SILVER_PREFIX + "sales"
QUARANTINE_TABLE = SILVER_PREFIX + "quarantine"


def manifest_key(run_id: str) -> str:
    return f"{MANIFESTS_PREFIX}{run_id}.json"


def run_key(run_id: str, name: str) -> str:
    """`runs/<run_id>/<name>`: the run record's files (and dbt's results under `dbt/`)."""
    return f"{RUNS_PREFIX}{run_id}/{name}"
