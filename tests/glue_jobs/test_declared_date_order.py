"""A declared date order settles files whose dates cannot tell (days 1-12 only)."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest
from sales_lake.batch.bronze_reader import declared_date_order
from sales_lake.batch.conform import conform

from tests.glue_jobs.csv_fixtures import row

AMBIGUOUS = [row(1, order_date="03/04/2012", ship_date="05/04/2012"),
             row(2, order_date="06/07/2012", ship_date="08/07/2012")]  # fmt: skip


def test_without_a_declaration_every_ambiguous_row_is_quarantined():
    out = conform(pa.array(AMBIGUOUS))
    assert out.valid.to_pylist() == [False, False]
    assert out.reason_codes[0].as_py() == ["ambiguous_order_date", "ambiguous_ship_date"]


@pytest.mark.parametrize(("order", "month"), [("dmy", 4), ("mdy", 3)])
def test_a_declared_order_reads_them(order, month):
    out = conform(pa.array(AMBIGUOUS), date_order=order)
    assert out.valid.to_pylist() == [True, True]
    assert out.columns["order_date"][0].as_py() == datetime.date(
        2012, month, 3 if month == 4 else 4
    )
    assert "declared" in out.date_format.label


def test_a_file_that_tells_keeps_its_own_order_whatever_is_declared():
    telling = [*AMBIGUOUS, row(3, order_date="25/12/2012", ship_date="27/12/2012")]
    out = conform(pa.array(telling), date_order="mdy")
    assert out.valid.to_pylist() == [True, True, True]
    assert out.columns["order_date"][0].as_py() == datetime.date(2012, 4, 3)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://raw/landing/sales/date_order=dmy/jan.csv", "dmy"),
        ("s3://raw/landing/sales/DATE_ORDER=MDY/x/jan.csv", "mdy"),
        ("s3://raw/landing/sales/jan.csv", "auto"),
        ("s3://raw/landing/sales/date_order=xyz/jan.csv", "auto"),
        ("s3://raw/landing/sales/my_date_order=dmy.csv", "auto"),
    ],
)
def test_the_key_prefix_declares_the_order_of_its_objects(uri, expected):
    assert declared_date_order(uri, "auto") == expected


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [("DMY", "dmy"), (" mdy ", "mdy"), ("sideways", "mdy"), (None, "mdy")],
)
def test_object_metadata_declares_before_the_key(metadata, expected):
    assert declared_date_order("s3://raw/landing/sales/date_order=mdy/a.csv", "auto", metadata) == (
        expected
    )


def test_the_job_reads_the_declaration_from_the_objects_metadata(monkeypatch):
    """What `aws s3 cp … --metadata date-order=dmy` leaves on the object, as S3 answers
    HEAD (moto), reaches the source the parser gets."""
    import boto3
    from moto import mock_aws
    from sales_lake import uris
    from sales_lake.run_sources import resolve_sources

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        s3.put_object(
            Bucket="raw", Key="landing/sales/a.csv", Body=b"x", Metadata={"date-order": "dmy"}
        )
        s3.put_object(Bucket="raw", Key="landing/sales/b.csv", Body=b"x")
        monkeypatch.setattr(uris, "_s3", lambda: s3)
        args = {"source_uris": "s3://raw/landing/sales/a.csv,s3://raw/landing/sales/b.csv"}
        sources, missing = resolve_sources(args, "batch", "upload it again")
    assert missing == [] and [s.date_order for s in sources] == ["dmy", None]
