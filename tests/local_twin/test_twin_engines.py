"""How the twin hands AWS-shaped arguments to the local engines."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from local_twin.engines import localise_glue_arguments
from local_twin.workspace import LAKE_BUCKET, Workspace


def test_s3_uris_become_unencoded_workspace_file_uris(tmp_path):
    workspace = Workspace.at(tmp_path / "my ws")
    uri = workspace.local_uri("s3://sales-raw/landing/sales/my orders+2015.csv")
    assert uri == f"file://{tmp_path}/my ws/s3/sales-raw/landing/sales/my orders+2015.csv"
    assert workspace.local_uri("file:///already/local.csv") == "file:///already/local.csv"


def test_glue_arguments_are_localised_and_the_manifest_copied(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    workspace = Workspace.at(tmp_path / "ws")
    manifest = {"run_id": "r1", "kind": "batch", "objects": [{"bucket": "b", "key": "k.csv"}]}
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=LAKE_BUCKET)
        s3.put_object(Bucket=LAKE_BUCKET, Key="manifests/r1.json", Body=json.dumps(manifest))
        args = localise_glue_arguments(
            {
                "--run_id": "r1",
                "--lake_uri": f"s3://{LAKE_BUCKET}",
                "--manifest_uri": f"s3://{LAKE_BUCKET}/manifests/r1.json",
            },
            workspace,
        )
    lake = workspace.bucket_path(LAKE_BUCKET)
    assert args == {
        "run_id": "r1",
        "lake_uri": f"file://{lake}",
        "manifest_uri": f"file://{lake}/manifests/r1.json",
    }
    assert json.loads((lake / "manifests/r1.json").read_text()) == manifest
