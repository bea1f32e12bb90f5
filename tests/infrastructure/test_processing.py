"""Processing box: ONE Glue 5.0 silver job (both loaders), serialized, encrypted, with its
library."""

from __future__ import annotations

import json
from importlib.metadata import version

from sales_lake.load_options import ARGUMENTS

from cdk.orchestration import PIPELINE_DEFINITION
from cdk.processing import SHARED_LIBRARY_PACKAGE, SILVER_JOB_SCRIPT
from cdk.stack import PROJECT_ROOT
from step_functions import asl


def _job(synthesis):
    job = synthesis.stack.processing.silver_job
    return synthesis.template["Resources"][synthesis.logical_id(job)]["Properties"]


def test_job_is_glue_5_with_the_configured_workers(synthesis, cdk_context):
    job = _job(synthesis)
    assert job["GlueVersion"] == "5.0"
    assert job["Command"]["Name"] == "glueetl"
    assert job["Command"]["PythonVersion"] == "3"
    assert job["WorkerType"] == cdk_context["glue_worker_type"]
    assert job["NumberOfWorkers"] == int(cdk_context["glue_number_of_workers"])
    assert job["Timeout"] == int(cdk_context["glue_timeout_minutes"])


def test_silver_writers_are_serialized_and_a_second_start_is_refused_not_queued(synthesis):
    """Both loaders write silver/sales: one job, one run at a time. Without queuing a
    second StartJobRun fails at once (ConcurrentRunsExceeded, retried by the state
    machine) instead of waiting in a queue whose overrun ends the run FAILED."""
    assert len(synthesis.resources("AWS::Glue::Job")) == 1
    job = _job(synthesis)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job.get("JobRunQueuingEnabled", False) is False
    assert job["MaxRetries"] == 0


def test_the_job_installs_the_pyarrow_the_loaders_are_tested_with(synthesis):
    arguments = _job(synthesis)["DefaultArguments"]
    assert arguments["--additional-python-modules"] == f"pyarrow=={version('pyarrow')}"


def test_every_ingest_option_reaches_the_job_under_the_name_it_parses(synthesis, cdk_context):
    """The job's options (sales_lake.load_options.ARGUMENTS, their one owner) come from
    the job's default arguments (set from context) or from the state machine per run;
    every name either passes is one the job parses."""
    defaults = {k[2:]: v for k, v in _job(synthesis)["DefaultArguments"].items()}
    assert defaults["header_policy"] == cdk_context["header_policy"]
    assert defaults["date_order"] == cdk_context["date_order"]
    assert defaults["split_bytes"] == str(cdk_context["split_bytes"])
    _, definition = asl.load_definition(PROJECT_ROOT / PIPELINE_DEFINITION)
    states = definition["States"]
    per_run = {
        name.removeprefix("--").removesuffix(".$")
        for state in ("GlueArgumentsFromManifest", "GlueArgumentsFromUris")
        for name in states[state]["Parameters"]["glue_arguments"]
    }
    options = set(ARGUMENTS)
    assert options <= (set(defaults) | per_run)
    assert per_run & options == {"quality_policy", "max_quarantine_ratio", "accept_quality_breach"}


def test_delta_is_enabled_with_its_sql_extension_and_catalog(synthesis):
    arguments = _job(synthesis)["DefaultArguments"]
    assert arguments["--datalake-formats"] == "delta"
    conf = arguments["--conf"]
    assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in conf
    assert (
        "--conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
        in conf
    )
    lake_id = synthesis.logical_id(synthesis.stack.storage.lake_bucket)
    assert arguments["--lake_uri"] == {"Fn::Join": ["", ["s3://", {"Ref": lake_id}]]}
    assert arguments["--enable-continuous-cloudwatch-log"] == "true"
    assert "--enable-metrics" in arguments


def test_script_is_the_repository_file_and_the_library_a_zip(synthesis):
    job = _job(synthesis)
    processing = synthesis.stack.processing
    script_asset = processing.script_asset
    assert json.dumps(job["Command"]["ScriptLocation"]).count(script_asset.s3_object_key) == 1
    staged = synthesis.outdir / f"asset.{script_asset.asset_hash}.py"
    assert staged.read_bytes() == (PROJECT_ROOT / SILVER_JOB_SCRIPT).read_bytes()
    library_key = processing.shared_library_asset.s3_object_key
    assert library_key.endswith(".zip")
    assert library_key in json.dumps(job["DefaultArguments"]["--extra-py-files"])


def test_library_archive_holds_the_package_with_both_loaders_at_its_root(synthesis):
    """The script imports only `sales_lake.silver_run`; the frame imports both loaders
    from the package, so the package is all the archive holds."""
    asset = synthesis.stack.processing.shared_library_asset
    staged = synthesis.outdir / f"asset.{asset.asset_hash}"
    assert {path.name for path in staged.iterdir()} == {SHARED_LIBRARY_PACKAGE}
    library = PROJECT_ROOT / "glue_jobs" / SHARED_LIBRARY_PACKAGE
    shipped_files = (
        "__init__.py",
        "silver_run.py",
        "batch/loader.py",
        "stream/loader.py",
        "rules.toml",
    )
    for module in shipped_files:
        shipped = staged / SHARED_LIBRARY_PACKAGE / module
        assert shipped.read_bytes() == (library / module).read_bytes(), module
    script = (PROJECT_ROOT / SILVER_JOB_SCRIPT).read_text()
    assert "from sales_lake.silver_run import main" in script and "importlib" not in script
    assert not list(staged.rglob("*.pyc"))


def test_security_configuration_encrypts_s3_logs_and_bookmarks(synthesis):
    processing = synthesis.stack.processing
    config = synthesis.only("AWS::Glue::SecurityConfiguration")["Properties"][
        "EncryptionConfiguration"
    ]
    assert config["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert config["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert config["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    assert _job(synthesis)["SecurityConfiguration"] == {
        "Ref": synthesis.logical_id(processing.security_configuration)
    }


def test_silver_catalog_database_points_at_the_lake(synthesis):
    database = synthesis.only("AWS::Glue::Database")["Properties"]["DatabaseInput"]
    assert database["Name"] == f"sales_silver_{synthesis.config.env_name}"
    assert "silver/" in json.dumps(database["LocationUri"])


def test_glue_metadata_under_fixed_names_is_deleted_with_the_stack(synthesis):
    """Re-creatable from this code, so never retained (tests/infrastructure/test_redeploy.py
    checks the same in a non-dev environment)."""
    for resource_type in ("AWS::Glue::Database", "AWS::Glue::SecurityConfiguration"):
        (resource,) = synthesis.resources(resource_type).values()
        assert resource["DeletionPolicy"] == "Delete", resource_type
        assert resource["UpdateReplacePolicy"] == "Delete", resource_type
