"""The dbt task's contract handling (dbt/entrypoint.py): environment validation, where
dbt writes, artifact shipping to file:// and s3://, failure reporting; and builds in a
session time zone with daylight saving, whose watermarks must still hold."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.dbt_project.gold_helpers import ENTRYPOINT, run_dbt_task


def load_entrypoint():
    """By path: the folder is named `dbt`, which must stay dbt-core's package name."""
    spec = importlib.util.spec_from_file_location("gold_dbt_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


entrypoint = load_entrypoint()


def test_missing_variables_are_named_with_the_fix():
    with pytest.raises(entrypoint.ConfigurationError, match="RUN_ID, LAKE_URI.*contracts.md"):
        entrypoint.read_settings({"DBT_TARGET": "local"})
    with pytest.raises(entrypoint.ConfigurationError, match="SNOWFLAKE_PRIVATE_KEY"):
        entrypoint.read_settings({"DBT_TARGET": "prod", "RUN_ID": "r", "LAKE_URI": "s3://lake"})
    with pytest.raises(entrypoint.ConfigurationError, match="'local' or 'prod'"):
        entrypoint.read_settings({"DBT_TARGET": "dev", "RUN_ID": "r", "LAKE_URI": "s3://lake"})


def test_local_defaults_keep_state_next_to_the_duckdb_file(tmp_path):
    environ = {
        "RUN_ID": "r1",
        "LAKE_URI": "file:///lake/",
        "SALES_PIPELINE_WORKSPACE": str(tmp_path),
    }
    settings = entrypoint.read_settings(environ)
    env = entrypoint.prepare_environment(settings, environ)
    assert settings.lake_uri == "file:///lake"
    assert env["DUCKDB_PATH"] == str(tmp_path / "gold.duckdb")
    assert settings.target_path == tmp_path / "dbt_target"


def test_prod_writes_under_the_temp_directory_not_into_the_project():
    """The image's project folder is read-only to the task's user (dbt/Dockerfile)."""
    target = entrypoint.target_path_for("prod", {})
    assert target.is_relative_to(tempfile.gettempdir())
    assert not target.is_relative_to(entrypoint.PROJECT_DIR)
    assert entrypoint.target_path_for("prod", {"DBT_TARGET_PATH": "/x/t"}) == Path("/x/t")


def _artifacts(folder: Path) -> Path:
    folder.mkdir()
    (folder / "run_results.json").write_text('{"results": []}')
    (folder / "manifest.json").write_text("{}")
    return folder


def test_artifacts_are_copied_under_the_run_id(tmp_path):
    target = _artifacts(tmp_path / "target")
    destination = entrypoint.destination_for((tmp_path / "lake").as_uri(), "run-7")
    uploaded = entrypoint.upload_artifacts(target, destination)
    assert len(uploaded) == 2
    copied = tmp_path / "lake" / "runs" / "run-7" / "dbt" / "run_results.json"
    assert copied.read_text() == '{"results": []}'


@mock_aws
def test_artifacts_are_uploaded_to_s3(tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="lake-bucket")
    target = _artifacts(tmp_path / "target")
    entrypoint.upload_artifacts(target, entrypoint.destination_for("s3://lake-bucket", "run-8"))
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="lake-bucket")["Contents"]}
    assert keys == {"runs/run-8/dbt/run_results.json", "runs/run-8/dbt/manifest.json"}


def test_a_failed_build_exits_non_zero_naming_the_node(dbt_env):
    """No silver under LAKE_URI: the staging model fails, the task says which."""
    env = {key: value for key, value in dbt_env.items() if key != "LAKE_PATH"}
    result = run_dbt_task({**env, "RUN_ID": "broken-1"})
    assert result.returncode == 1
    assert "dbt task FAILED: model.sales_gold.stg_silver__" in result.stderr
    shipped = Path(dbt_env["LAKE_PATH"]) / "runs" / "broken-1" / "dbt" / "run_results.json"
    assert shipped.exists(), "artifacts of a failed run are shipped too"
