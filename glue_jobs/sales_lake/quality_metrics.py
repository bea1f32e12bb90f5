"""A run's data-quality counts as CloudWatch metrics: what the dashboard graphs and the
quarantine-ratio alarm watches (cdk/monitoring.py).

The run record (run_metrics.py) is the source: rows read, inserted, updated, unchanged,
duplicates, quarantined, blank and held, the quarantine ratio, and the numbers of held
and rejected files, with the loader (`batch` | `stream`) as the one dimension; and the
quarantined rows per reason code (`RowsQuarantinedByReason`, dimensions Loader and
Reason; a row with two reasons counts under both), one metric per reason the run saw. The job
publishes them after the record is written when it is given `--metrics_namespace` (CDK
sets it; local runs without it publish nothing). Publishing is best effort: a failed
PutMetricData is reported on stderr and never fails a run whose data is written.
"""

from __future__ import annotations

import sys
from datetime import datetime

NAMESPACE = "SalesPipeline"
ARGUMENT = "metrics_namespace"
COUNTS = (
    ("RowsRead", "read"),
    ("RowsInserted", "inserted"),
    ("RowsUpdated", "updated"),
    ("RowsUnchanged", "unchanged"),
    ("DuplicateRows", "duplicates"),
    ("RowsQuarantined", "quarantined"),
    ("BlankRows", "blank"),
    ("RowsHeld", "held"),
)
BY_REASON = "RowsQuarantinedByReason"
REASON_DIMENSION = "Reason"
BATCH = 1000  # PutMetricData takes up to 1,000 metrics per request


def metric_data(record: dict) -> list[dict]:
    """The run's metrics, as PutMetricData's MetricData."""
    loader = str(record.get("job") or "unknown").split("_to_", 1)[0]
    dimensions = [{"Name": "Loader", "Value": loader}]
    at = datetime.fromisoformat(record.get("finished_at") or record["started_at"])
    breached = (record.get("quality") or {}).get("breached_files") or []

    def metric(name: str, value: float, unit: str = "Count", reason: str | None = None) -> dict:
        by = [{"Name": REASON_DIMENSION, "Value": reason}] if reason else []
        return {"MetricName": name, "Dimensions": dimensions + by, "Timestamp": at,
                "Value": float(value), "Unit": unit}  # fmt: skip

    counts = record.get("counts") or {}
    return [
        *(metric(name, counts.get(key, 0)) for name, key in COUNTS),
        metric("QuarantineRatio", record.get("quarantine_ratio") or 0.0, "None"),
        metric("HeldFiles", sum(1 for b in breached if b.get("action") == "held")),
        metric("RejectedFiles", len(record.get("rejected_files") or [])),
        *(
            metric(BY_REASON, rows, reason=code)
            for code, rows in (record.get("quarantine_reasons") or {}).items()
        ),
    ]


def publish(record: dict, namespace: str, client=None) -> str:
    """Send the run's metrics; "sent", or "not_sent" (said on stderr) when it fails."""
    data = metric_data(record)
    try:
        if client is None:
            import boto3  # on Glue; locally the twin's moto

            client = boto3.client("cloudwatch")
        for start in range(0, len(data), BATCH):
            client.put_metric_data(Namespace=namespace, MetricData=data[start : start + BATCH])
    except Exception as error:  # noqa: BLE001 - metrics must not fail a written run
        print(f"data-quality metrics not published ({type(error).__name__}: {error})",
              file=sys.stderr)  # fmt: skip
        return "not_sent"
    return "sent"
