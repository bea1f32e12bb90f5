"""Processing box: the ONE Glue 5.0 silver job (batch and stream loaders) and its database.

Uses the stable `aws_glue.PySparkEtlJob` L2 (graduated into aws-cdk-lib). Silver
writers are serialized on purpose: Delta on S3 allows one writing driver per
table and both loaders write silver/sales and silver/quarantine, so there is one
job (glue_jobs/to_silver.py dispatching on `--source_kind batch|stream`) that runs
one at a time (max concurrent runs 1). Job-run queuing stays off: a run queued past
Glue's limit ends FAILED, which the state machine would take for a failed load. Instead
a second StartJobRun is refused at once (ConcurrentRunsExceededException) and the state
machine retries the start with a long back-off (docs/orchestration.md).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct
from sales_lake import maintenance, quality_metrics

from cdk import silver_catalog
from cdk.artifacts import require
from cdk.config import RECREATABLE_REMOVAL_POLICY, PipelineConfig
from cdk.storage import (
    BATCH_LANDING_PREFIX,
    MANIFESTS_PREFIX,
    RUNS_PREFIX,
    SILVER_PREFIX,
    STREAM_TOPICS_PREFIX,
    Storage,
)

# Sundays 03:00 UTC: the weekly Delta maintenance run (compaction + vacuum).
MAINTENANCE_SCHEDULE = "cron(0 3 ? * SUN *)"

SILVER_JOB_SCRIPT = Path("glue_jobs") / "to_silver.py"
SHARED_LIBRARY_DIR = Path("glue_jobs")
# The library the script imports (frame, both loaders, shared modules): the zip's only
# top-level entry, so it imports on Glue exactly as it does locally.
SHARED_LIBRARY_PACKAGE = "sales_lake"
# The loaders type records with pyarrow kernels (decimal rounding modes, string to
# timestamp casts) that Glue's bundled pyarrow may predate: the job installs the version
# the tests run with (uv.lock; a test keeps the two equal).
PYARROW_VERSION = "26.0.1"

# Glue ships Delta 3.3 with `--datalake-formats delta`; the session still needs
# Delta's SQL extension and catalog. Glue accepts a single `--conf` key, so the
# second setting is chained inside its value (the documented way).
DELTA_SPARK_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
    " --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)


class Processing(Construct):
    """Glue security configuration, job role, the silver job and the silver database."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        storage: Storage,
        project_root: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        # Glue encrypts its CloudWatch logs and bookmarks client-side with this key;
        # the Logs service must be allowed to use it for the encrypted log groups.
        self.logs_key = kms.Key(
            self,
            "GlueLogsKey",
            description="Encrypts the sales pipeline Glue job logs and bookmarks",
            enable_key_rotation=True,
            removal_policy=config.data_removal_policy,
        )
        self.logs_key.grant_encrypt_decrypt(
            iam.ServicePrincipal(f"logs.{Aws.REGION}.{Aws.URL_SUFFIX}")
        )
        self.security_configuration = glue.SecurityConfiguration(
            self,
            "SecurityConfiguration",
            s3_encryption=glue.S3Encryption.kms(storage.data_key),
            cloud_watch_encryption=glue.CloudWatchEncryption.kms(self.logs_key),
            job_bookmarks_encryption=glue.JobBookmarksEncryption.client_side_kms(self.logs_key),
        )
        # Settings only, under a name Glue requires: a retained copy would block the
        # next deploy of this environment.
        self.security_configuration.apply_removal_policy(RECREATABLE_REMOVAL_POLICY)

        self.silver_database = glue.Database(
            self,
            "SilverDatabase",
            database_name=silver_catalog.database_name(config.env_name),
            description="Silver Delta tables of the sales lakehouse (written by Glue only)",
            location_uri=f"{storage.lake_uri}/{SILVER_PREFIX}",
            # Catalog metadata only: the Delta tables are read and written by S3 path and
            # Snowflake reads their log directly, so nothing is lost with the database,
            # while a retained one would block the next deploy on its fixed name.
            removal_policy=RECREATABLE_REMOVAL_POLICY,
        )
        # Athena and Lake Formation find the Delta tables by name (cdk/silver_catalog.py).
        self.silver_tables = {
            name: glue.CfnTable(
                self,
                f"Silver{name.title()}Table",
                catalog_id=stack.account,
                database_name=self.silver_database.database_name,
                table_input=_table_input(silver_catalog.table_input(name, storage.lake_uri)),
            )
            for name in silver_catalog.TABLES
        }
        for table in self.silver_tables.values():
            table.apply_removal_policy(RECREATABLE_REMOVAL_POLICY)

        self.role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Runs the silver Glue job (batch and stream loaders)",
        )
        self._grant_job_permissions(storage=storage, stack=stack)

        # Both assets are read with the exact-object grants below; glue.Code.from_asset
        # would grant s3:GetObject*/List* on the whole CDK asset bucket instead.
        library = s3_assets.Asset(
            self,
            "SharedLibrary",
            path=str(
                require(
                    project_root,
                    SHARED_LIBRARY_DIR / SHARED_LIBRARY_PACKAGE,
                    produced_by="the silver library (glue_jobs/sales_lake)",
                ).parent
            ),
            # Zip only the package, at the root of the archive (what --extra-py-files
            # expects), and no byte code.
            exclude=[
                "*",
                f"!{SHARED_LIBRARY_PACKAGE}",
                f"!{SHARED_LIBRARY_PACKAGE}/**",
                "**/__pycache__",
                "**/*.pyc",
            ],
        )
        script = s3_assets.Asset(
            self,
            "SilverJobScript",
            path=str(require(project_root, SILVER_JOB_SCRIPT, produced_by="the silver Glue job")),
        )
        for asset in (script, library):
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
                )
            )
        self.script_asset, self.shared_library_asset = script, library

        self.silver_job = self._silver_job(
            "SilverJob", f"sales-to-silver-{config.env_name}",
            "The one silver writer: batch CSV files or stream event files (--source_kind) "
            "merged into silver Delta, one run at a time",
            script, library, config=config, storage=storage,
        )  # fmt: skip
        self.maintenance_schedule = self._maintenance_schedule()

    def _maintenance_schedule(self) -> scheduler.CfnSchedule:
        """Weekly Delta maintenance (sales_lake.maintenance): a run of the same silver job
        with --source_kind maintenance, so MaxConcurrentRuns 1 serializes it with the
        writers. If a writer holds the job at that moment, Glue refuses the start and
        that week's maintenance is skipped (the next week's does the work)."""
        role = iam.Role(
            self,
            "MaintenanceScheduleRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="Starts the weekly maintenance run of the silver job",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["glue:StartJobRun"], resources=[self.silver_job.job_arn])
        )
        run = {"JobName": self.silver_job.job_name,
               "Arguments": {"--source_kind": maintenance.KIND}}  # fmt: skip
        return scheduler.CfnSchedule(
            self,
            "MaintenanceSchedule",
            description="Compact and vacuum the silver Delta tables (sales_lake.maintenance)",
            schedule_expression=MAINTENANCE_SCHEDULE,
            schedule_expression_timezone="UTC",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn="arn:aws:scheduler:::aws-sdk:glue:startJobRun",
                role_arn=role.role_arn,
                input=Stack.of(self).to_json_string(run),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=6 * 3600, maximum_retry_attempts=10
                ),
            ),
        )

    def _silver_job(self, construct_id: str, job_name: str, description: str, script, library,
                    *, config: PipelineConfig, storage: Storage) -> glue.PySparkEtlJob:  # fmt: skip
        return glue.PySparkEtlJob(
            self,
            construct_id,
            job_name=job_name,
            description=description,
            role=self.role,
            script=GrantedS3Code(script.s3_bucket_name, script.s3_object_key),
            extra_python_files=[GrantedS3Code(library.s3_bucket_name, library.s3_object_key)],
            glue_version=glue.GlueVersion.V5_0,
            worker_configuration=glue.WorkerConfiguration(
                worker_type=glue.WorkerType[config.glue_worker_type.replace(".", "_")],
                number_of_workers=config.glue_number_of_workers,
            ),
            max_concurrent_runs=1,
            # Off on purpose (module docstring): refused at once, retried by the state machine.
            job_run_queuing_enabled=False,
            max_retries=0,  # the state machine owns retries, with the run id it tracks
            timeout=Duration.minutes(config.glue_timeout_minutes),
            security_configuration=self.security_configuration,
            continuous_logging=glue.ContinuousLoggingProps(enabled=True),
            enable_metrics=True,
            enable_observability_metrics=True,
            default_arguments={
                "--datalake-formats": "delta",
                "--additional-python-modules": f"pyarrow=={PYARROW_VERSION}",
                "--conf": DELTA_SPARK_CONF,
                "--enable-glue-datacatalog": "true",
                "--enable-job-insights": "true",
                "--lake_uri": storage.lake_uri,
                # Ingest options (sales_lake.load_options); the state machine passes the
                # quality policy, threshold and release with each run.
                "--header_policy": config.header_policy,
                "--date_order": config.date_order,
                "--split_bytes": str(config.split_bytes),
                # Each run's data-quality counts (sales_lake.quality_metrics).
                f"--{quality_metrics.ARGUMENT}": quality_metrics.NAMESPACE,
            },
        )

    def _grant_job_permissions(self, *, storage: Storage, stack: Stack) -> None:
        """Exactly what the loaders do: read bronze and manifests, write silver/runs."""
        raw, lake = storage.raw_bucket, storage.lake_bucket
        storage.grant_read_objects(self.role, raw, BATCH_LANDING_PREFIX, STREAM_TOPICS_PREFIX)
        storage.grant_list(self.role, raw, BATCH_LANDING_PREFIX, STREAM_TOPICS_PREFIX)
        storage.grant_read_objects(self.role, lake, MANIFESTS_PREFIX, SILVER_PREFIX, RUNS_PREFIX)
        # Delta rewrites and vacuums its own files, so silver needs DeleteObject too.
        storage.grant_write_objects(self.role, lake, SILVER_PREFIX, RUNS_PREFIX, delete=True)
        storage.grant_list(self.role, lake, SILVER_PREFIX, RUNS_PREFIX, MANIFESTS_PREFIX)
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws-glue/jobs/*",  # covers the log streams too
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="GlueJobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_groups],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="GlueJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource type; scoped by namespace
                conditions={
                    "StringEquals": {"cloudwatch:namespace": ["Glue", quality_metrics.NAMESPACE]}
                },
            )
        )
        self.logs_key.grant(self.role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")

        # The job writes the tables by path; it may read their catalog entries (CDK
        # creates them), never change them.
        database_name = self.silver_database.database_name
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SilverCatalog",
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetTables"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    self.silver_database.database_arn,
                    # Spark's Glue-catalog client resolves the `default` database at start.
                    stack.format_arn(service="glue", resource="database", resource_name="default"),
                    *(
                        stack.format_arn(
                            service="glue", resource="table", resource_name=f"{database_name}/{n}"
                        )
                        for n in silver_catalog.TABLES
                    ),
                ],
            )
        )


def _table_input(spec: dict) -> glue.CfnTable.TableInputProperty:
    storage = spec["StorageDescriptor"]
    return glue.CfnTable.TableInputProperty(
        name=spec["Name"],
        description=spec["Description"],
        table_type=spec["TableType"],
        parameters=spec["Parameters"],
        storage_descriptor=glue.CfnTable.StorageDescriptorProperty(location=storage["Location"]),
    )


class GrantedS3Code(glue.Code):
    """Glue code at an S3 location whose read permission is granted separately."""

    def __init__(self, bucket_name: str, object_key: str) -> None:
        super().__init__()
        self._location = s3.Location(bucket_name=bucket_name, object_key=object_key)

    def bind(self, _scope: Construct, _grantable: iam.IGrantable) -> glue.CodeConfig:
        return glue.CodeConfig(s3_location=self._location)
