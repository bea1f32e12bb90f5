"""A run's data-quality counts reach CloudWatch with the record's values (moto's
CloudWatch reads them back), and a failure to publish never fails the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws
from sales_lake import quality_metrics

RECORD = {
    "run_id": "batch-x-1",
    "job": "batch_to_silver",
    "started_at": "2026-12-04T04:00:00+00:00",
    "finished_at": "2026-12-04T04:01:00+00:00",
    "counts": {
        "read": 100,
        "inserted": 90,
        "updated": 2,
        "unchanged": 1,
        "duplicates": 1,
        "quarantined": 5,
        "blank": 1,
        "held": 0,
    },  # fmt: skip
    "quarantine_ratio": 0.05,
    "rejected_files": [{"uri": "s3://raw/landing/sales/bad.csv"}],
    "quality": {"breached_files": [{"action": "held"}, {"action": "loaded"}]},
    "quarantine_reasons": {"bad_sales": 3, "unknown_market": 2, "bad_discount": 1},
}


def test_the_metrics_are_the_records_counts():
    data = {m["MetricName"]: m for m in quality_metrics.metric_data(RECORD)}
    assert {name: data[name]["Value"] for name, _ in quality_metrics.COUNTS} == {
        "RowsRead": 100, "RowsInserted": 90, "RowsUpdated": 2, "RowsUnchanged": 1,
        "DuplicateRows": 1, "RowsQuarantined": 5, "BlankRows": 1, "RowsHeld": 0,
    }  # fmt: skip
    assert data["QuarantineRatio"]["Value"] == 0.05 and data["QuarantineRatio"]["Unit"] == "None"
    assert data["HeldFiles"]["Value"] == 1 and data["RejectedFiles"]["Value"] == 1
    assert {d["Value"] for m in data.values() for d in m["Dimensions"]} >= {"batch"}
    by_reason = {
        m["Dimensions"][1]["Value"]: m["Value"]
        for m in quality_metrics.metric_data(RECORD)
        if m["MetricName"] == quality_metrics.BY_REASON
    }
    assert by_reason == {"bad_sales": 3, "unknown_market": 2, "bad_discount": 1}


def test_published_metrics_read_back_from_cloudwatch():
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        assert quality_metrics.publish(RECORD, "SalesPipeline", cloudwatch) == "sent"
        at = datetime(2026, 12, 4, 4, 1, tzinfo=UTC)
        found = cloudwatch.get_metric_statistics(
            Namespace="SalesPipeline", MetricName="RowsQuarantined",
            Dimensions=[{"Name": "Loader", "Value": "batch"}],
            StartTime=at - timedelta(minutes=5), EndTime=at + timedelta(minutes=5),
            Period=60, Statistics=["Sum"],
        )["Datapoints"]  # fmt: skip
        by_reason = cloudwatch.get_metric_statistics(
            Namespace="SalesPipeline", MetricName=quality_metrics.BY_REASON,
            Dimensions=[{"Name": "Loader", "Value": "batch"},
                        {"Name": "Reason", "Value": "unknown_market"}],
            StartTime=at - timedelta(minutes=5), EndTime=at + timedelta(minutes=5),
            Period=60, Statistics=["Sum"],
        )["Datapoints"]  # fmt: skip
    assert [p["Sum"] for p in found] == [5.0]
    assert [p["Sum"] for p in by_reason] == [2.0]


def test_a_failed_publish_is_said_and_not_raised(capsys):
    class Down:
        def put_metric_data(self, **kwargs):
            raise ConnectionError("no route to monitoring.us-east-1.amazonaws.com")

    assert quality_metrics.publish(RECORD, "SalesPipeline", Down()) == "not_sent"
    assert "data-quality metrics not published" in capsys.readouterr().err
