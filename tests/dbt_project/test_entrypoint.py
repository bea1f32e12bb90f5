"""The dbt task's contract handling (dbt/entrypoint.py): environment validation, where
dbt writes, artifact shipping to file:// and s3:// (the latest build and each build),
failure reporting before the upload, exit codes, SIGTERM; and builds in a session time
zone with daylight saving, whose watermarks must still hold."""

from __future__ import annotations

import contextvars
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from sales_lake import lake_layout

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
    with pytest.raises(entrypoint.ConfigurationError, match="DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"):
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


def test_the_private_key_travels_in_a_variable_dbt_scrubs_from_its_logs(monkeypatch):
    """dbt's profile renderer hands the PEM over verbatim (newlines, Jinja-like text), and
    dbt scrubs it from log lines. ~2 s: importing dbt's renderer."""
    import yaml
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.constants import SECRET_ENV_PREFIX
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions.base import env_secrets, scrub_secrets

    name = entrypoint.PRIVATE_KEY_VARIABLE
    assert name in entrypoint.PROD_ENV and name.startswith(SECRET_ENV_PREFIX)
    pem = "-----BEGIN PRIVATE KEY-----\nMIIE{{x}}\n-----END PRIVATE KEY-----\n"
    monkeypatch.setenv(name, pem)
    profiles = yaml.safe_load((entrypoint.PROJECT_DIR / "profiles.yml").read_text())
    template = profiles["sales_gold"]["outputs"]["prod"]["private_key"]

    def render() -> str:  # in a copied context: dbt's invocation context does not leak
        set_invocation_context(dict(os.environ))
        return ProfileRenderer({}).render_value(template, ("private_key",))

    assert contextvars.copy_context().run(render) == pem
    assert "MIIE" not in scrub_secrets(f"connecting with {pem}", env_secrets())


def test_the_artifact_keys_follow_the_lake_layout_owner():
    """The entrypoint ships alone in the image: its copy of the layout must not drift."""
    assert entrypoint.RUNS_PREFIX == lake_layout.RUNS_PREFIX
    latest = entrypoint.destination_for("s3://lake", "run-1")
    assert latest == f"s3://lake/{lake_layout.run_key('run-1', 'dbt')}"
    assert entrypoint.build_destination(latest, "abc").startswith(latest + "/builds/")


# --- run_task with dbt stood in: ordering, exit codes, builds, SIGTERM -----------------------


@pytest.fixture
def task_env(tmp_path):
    """A local-target environment; run_task writes os.environ, restored afterwards."""
    saved = dict(os.environ)
    yield {
        "DBT_TARGET": "local",
        "RUN_ID": "run-9",
        "LAKE_URI": (tmp_path / "lake").as_uri(),
        "DUCKDB_PATH": str(tmp_path / "gold.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
    }
    os.environ.clear()
    os.environ.update(saved)


def _write_artifacts(target: Path, invocation_id: str | None) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if invocation_id is not None:
        results = {"metadata": {"invocation_id": invocation_id}, "results": []}
        (target / "run_results.json").write_text(json.dumps(results))
    (target / "manifest.json").write_text("{}")


def _dbt(target: Path, ok: bool, invocation_id: str | None = "inv-1"):
    """An invoke_dbt stand-in that writes artifacts and returns ok or one failing node."""

    def invoke(args):
        _write_artifacts(target, invocation_id)
        return (True, []) if ok else (False, ["model.sales_gold.fact_sales: error: boom"])

    return invoke


def test_failures_are_printed_before_the_upload(task_env, monkeypatch, capsys):
    target = Path(task_env["DBT_TARGET_PATH"])
    monkeypatch.setattr(entrypoint, "invoke_dbt", _dbt(target, ok=False))
    seen_at_upload = []

    def upload(target_path, destination):
        seen_at_upload.append(capsys.readouterr().err)
        return []

    monkeypatch.setattr(entrypoint, "upload_artifacts", upload)
    assert entrypoint.run_task([], task_env) == 1
    assert "dbt task FAILED: model.sales_gold.fact_sales: error: boom" in seen_at_upload[0]


@mock_aws
@pytest.mark.parametrize(("build_ok", "code"), [(True, 3), (False, 1)])
def test_a_failed_upload_is_named_and_never_replaces_the_builds_result(
    task_env, monkeypatch, capsys, build_ok, code
):
    """No bucket: S3 refuses the upload. A good build exits 3, a failed one stays 1."""
    monkeypatch.setattr(entrypoint, "invoke_dbt", _dbt(Path(task_env["DBT_TARGET_PATH"]), build_ok))
    assert entrypoint.run_task([], {**task_env, "LAKE_URI": "s3://no-such-bucket"}) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "NOT uploaded" in line]
    assert lines == [lines[0]] and lines[0].startswith(
        "dbt task: artifacts NOT uploaded to s3://no-such-bucket/runs/run-9/dbt: "
    )
    assert "Traceback" not in err
    assert ("dbt task FAILED" in err) is not build_ok


def test_each_build_of_a_run_keeps_its_artifacts_and_the_latest_is_replaced(task_env, monkeypatch):
    target, lake = Path(task_env["DBT_TARGET_PATH"]), Path(task_env["DUCKDB_PATH"]).parent / "lake"
    for invocation in ("inv-first", "inv-second"):
        monkeypatch.setattr(entrypoint, "invoke_dbt", _dbt(target, True, invocation))
        assert entrypoint.run_task([], task_env) == 0
    dbt_folder = lake / "runs" / "run-9" / "dbt"
    assert sorted(p.name for p in (dbt_folder / "builds").iterdir()) == ["inv-first", "inv-second"]
    for invocation in ("inv-first", "inv-second"):
        shipped = json.loads((dbt_folder / "builds" / invocation / "run_results.json").read_text())
        assert shipped["metadata"]["invocation_id"] == invocation
    latest = json.loads((dbt_folder / "run_results.json").read_text())
    assert latest["metadata"]["invocation_id"] == "inv-second"


def test_a_build_without_run_results_is_kept_under_a_utc_time(tmp_path):
    _write_artifacts(tmp_path, invocation_id=None)
    now = datetime(2026, 12, 3, 9, 5, 7, 123456, tzinfo=UTC)
    assert entrypoint.build_id(tmp_path, now) == "20261203T090507123456Z"
    (tmp_path / "run_results.json").write_text('{"metadata": {"invocation_id": "../x"}}')
    assert entrypoint.build_id(tmp_path, now) == "20261203T090507123456Z"  # never a path
    _write_artifacts(tmp_path, invocation_id="0f1e-2d3c")
    assert entrypoint.build_id(tmp_path, now) == "0f1e-2d3c"


def _sigterm_self(seen: dict):
    """Send SIGTERM to this process as ECS would and catch what arrives, as dbtRunner
    does: a KeyboardInterrupt is dbt's cancel path. Refuses to signal without a handler,
    which would end the test run."""
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler) and handler is not seen["original"], "no SIGTERM handler"
    seen["handler"] = handler
    deadline = time.monotonic() + 2
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as soon as this returns
        while time.monotonic() < deadline:
            time.sleep(0.01)
    except KeyboardInterrupt as interrupt:
        seen["interrupt"] = interrupt


@pytest.fixture
def sigterm_handler():
    """The handler before the test, restored in any case."""
    original = signal.getsignal(signal.SIGTERM)
    yield original
    signal.signal(signal.SIGTERM, original)


@pytest.mark.parametrize(
    "staged",
    [(False, ["dbt run-operation raised: SIGTERM"]), (True, [])],
    ids=["dbt-reports-the-interrupt", "dbt-swallows-it"],
)
def test_sigterm_interrupts_dbt_then_uploads_and_exits_143(
    task_env, monkeypatch, capsys, sigterm_handler, staged
):
    """Prod: SIGTERM during the staging operation reaches it as KeyboardInterrupt, the
    build is not started (even if dbt reported success), the artifacts that exist are
    shipped, the exit code is 143."""
    target = Path(task_env["DBT_TARGET_PATH"])
    env = {**task_env, "DBT_TARGET": "prod"} | {name: "x" for name in entrypoint.PROD_ENV}
    seen, calls = {"original": sigterm_handler}, []

    def invoke(args):
        calls.append(args[0])
        _sigterm_self(seen)
        _write_artifacts(target, "inv-stopped")
        return staged

    monkeypatch.setattr(entrypoint, "invoke_dbt", invoke)
    assert entrypoint.run_task([], env) == 143
    assert isinstance(seen.get("interrupt"), KeyboardInterrupt), "dbt saw no KeyboardInterrupt"
    assert calls == ["run-operation"], "no build after a SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is sigterm_handler, "handler not restored"
    shipped = Path(task_env["DUCKDB_PATH"]).parent / "lake" / "runs" / "run-9" / "dbt"
    assert (shipped / "run_results.json").exists()
    assert (shipped / "builds" / "inv-stopped" / "manifest.json").exists()
    assert "dbt task STOPPED: SIGTERM" in capsys.readouterr().err


def test_sigterm_during_the_upload_lets_it_finish_and_exits_143(
    task_env, monkeypatch, sigterm_handler
):
    target = Path(task_env["DBT_TARGET_PATH"])
    monkeypatch.setattr(entrypoint, "invoke_dbt", _dbt(target, ok=True))
    real_upload, uploaded = entrypoint.upload_artifacts, []

    def upload(target_path, destination):
        if not uploaded:
            os.kill(os.getpid(), signal.SIGTERM)  # recorded, not raised: no dbt is running
        uploaded.append(destination)
        return real_upload(target_path, destination)

    monkeypatch.setattr(entrypoint, "upload_artifacts", upload)
    assert entrypoint.run_task([], task_env) == 143
    assert len(uploaded) == 2 and uploaded[1].endswith("/builds/inv-1")
    assert signal.getsignal(signal.SIGTERM) is sigterm_handler


def test_a_clean_run_leaves_sigterm_as_it_was_and_exits_0(task_env, monkeypatch, sigterm_handler):
    target = Path(task_env["DBT_TARGET_PATH"])
    during = []
    invoke = _dbt(target, ok=True)

    def watching(args):
        during.append(signal.getsignal(signal.SIGTERM))
        return invoke(args)

    monkeypatch.setattr(entrypoint, "invoke_dbt", watching)
    assert entrypoint.run_task([], task_env) == 0
    assert during[0] is not sigterm_handler and callable(during[0])
    assert signal.getsignal(signal.SIGTERM) is sigterm_handler
