"""Executors read a byte range of a bronze object the same way from S3 (one ranged GET,
here against moto) and from a local file, clipped at the object's end."""

from __future__ import annotations

import boto3
from moto import mock_aws
from sales_lake import uris

BODY = bytes(range(256)) * 40  # 10,240 bytes, every byte value


def test_a_range_is_the_same_bytes_on_s3_and_locally(tmp_path, monkeypatch):
    local = tmp_path / "o.csv"
    local.write_bytes(BODY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        s3.put_object(Bucket="raw", Key="landing/sales/a b+#.csv", Body=BODY)
        monkeypatch.setattr(uris, "_s3", lambda: s3)
        for uri in ("s3://raw/landing/sales/a b+#.csv", uris.file_uri(local)):
            assert uris.read_range(uri, 0, 10) == BODY[:10]
            assert uris.read_range(uri, 1000, 4096) == BODY[1000:5096]
            assert uris.read_range(uri, 10_000, 4096) == BODY[10_000:]  # clipped at the end
            assert uris.read_range(uri, 5, 0) == b""
