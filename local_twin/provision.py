"""The AWS resources of the pipeline, created in moto the way the CDK stack creates them.

Names and wiring mirror cdk/: a versioned raw bucket sending object events to
EventBridge, a rule feeding the SQS buffer, a rule on the silver job's run-ended
events feeding the glue_run_ended function's queue, an SNS topic (with a queue subscribed,
so the twin can show the notifications), the gold-refresh table, the object
ledger of the trigger, the silver Delta tables in the Glue Data Catalog, the ONE
silver Glue job (MaxConcurrentRuns 1, job-run queuing off, both loaders behind
--source_kind), an ECS cluster and dbt task
definition, and the state machine built from step_functions/pipeline.asl.json with
local substitutions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3

from cdk import silver_catalog
from local_twin.aws_hooks import REGION
from local_twin.paths import STEP_FUNCTIONS_DIR
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace
from step_functions import asl

ASL_PATH = STEP_FUNCTIONS_DIR / "pipeline.asl.json"
STATE_MACHINE_NAME = "sales-pipeline"
GLUE_JOB_NAME = "sales-to-silver"
GLUE_JOB_SCRIPT = "glue_jobs/to_silver.py"
DBT_CONTAINER = "dbt"
GOLD_REFRESH_TABLE = "sales-gold-refresh"
OBJECT_LEDGER_TABLE = "sales-object-ledger"
ROLE_ARN = "arn:aws:iam::123456789012:role/sales-pipeline-local"


@dataclass(frozen=True)
class Resources:
    queue_url: str
    queue_arn: str
    inbox_url: str  # SQS queue subscribed to the notification topic
    state_machine_arn: str
    glue_events_url: str  # Glue run-ended events for the glue_run_ended function
    glue_events_arn: str


def _client(service: str):
    return boto3.client(service, region_name=REGION)


def _queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, attributes["Attributes"]["QueueArn"]


def _storage_and_events(sqs) -> tuple[str, str]:
    s3, events = _client("s3"), _client("events")
    for bucket in (RAW_BUCKET, LAKE_BUCKET):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=RAW_BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    queue_url, queue_arn = _queue(sqs, "sales-pipeline-object-events")
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [RAW_BUCKET]}},
    }
    events.put_rule(Name="sales-raw-object-created", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="sales-raw-object-created", Targets=[{"Id": "buffer", "Arn": queue_arn}]
    )
    return queue_url, queue_arn


def glue_run_ended_pattern(job_name: str) -> dict:
    """The rule's pattern (cdk/glue_run_events.py synthesizes the same: a test holds them)."""
    return {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {
            "jobName": [job_name],
            "state": ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"],
        },
    }


def glue_run_events(sqs) -> tuple[str, str]:
    """The rule on the silver job's "Glue Job State Change" events (every terminal
    state) and the queue it feeds, which the glue_run_ended function reads
    (cdk/orchestration.py)."""
    url, arn = _queue(sqs, "sales-pipeline-glue-run-events")
    pattern = glue_run_ended_pattern(GLUE_JOB_NAME)
    events = _client("events")
    events.put_rule(Name="sales-silver-run-ended", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="sales-silver-run-ended", Targets=[{"Id": "glue-run-events", "Arn": arn}]
    )
    return url, arn


def create_notifications(sqs) -> tuple[str, str]:
    """The notification topic and the queue subscribed to it (the twin's inbox)."""
    sns = _client("sns")
    topic_arn = sns.create_topic(Name="sales-pipeline-notifications")["TopicArn"]
    inbox_url, inbox_arn = _queue(sqs, "sales-pipeline-notification-inbox")
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=inbox_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return topic_arn, inbox_url


def _dbt_task(workspace: Workspace) -> dict[str, str]:
    ecs, ec2 = _client("ecs"), _client("ec2")
    cluster_arn = ecs.create_cluster(clusterName="sales-dbt")["cluster"]["clusterArn"]
    container = {
        "name": DBT_CONTAINER,
        "image": "sales-pipeline/dbt:local",
        "essential": True,
        "cpu": 1024,
        "memory": 2048,
        "command": ["python", "entrypoint.py"],
        "environment": [
            {"name": "DBT_TARGET", "value": "local"},
            {"name": "DUCKDB_PATH", "value": str(workspace.duckdb_path)},
        ],
    }
    task_definition_arn = ecs.register_task_definition(
        family="sales-dbt",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="2048",
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]
    return {
        "DbtClusterArn": cluster_arn,
        "DbtTaskDefinitionArn": task_definition_arn,
        "DbtContainerName": DBT_CONTAINER,
        "DbtSubnetIds": ec2.describe_subnets()["Subnets"][0]["SubnetId"],
        "DbtSecurityGroupIds": ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"],
    }


def _tables() -> None:
    """The gold-refresh lock (pk) and the trigger's object ledger (object_id, TTL)."""
    dynamodb = _client("dynamodb")
    for name, key in ((GOLD_REFRESH_TABLE, "pk"), (OBJECT_LEDGER_TABLE, "object_id")):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    dynamodb.update_time_to_live(
        TableName=OBJECT_LEDGER_TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


def register_silver_tables(lake_uri: str, env_name: str = "local") -> str:
    """The silver Delta tables in the Glue Data Catalog, as cdk/processing.py creates them
    (cdk/silver_catalog.py); the database name."""
    glue = _client("glue")
    database = silver_catalog.database_name(env_name)
    glue.create_database(DatabaseInput={"Name": database, "LocationUri": f"{lake_uri}/silver/"})
    for name in silver_catalog.TABLES:
        glue.create_table(
            DatabaseName=database, TableInput=silver_catalog.table_input(name, lake_uri)
        )
    return database


def create_silver_job(default_arguments: dict[str, str] | None = None) -> None:
    """The one silver job as cdk/processing.py defines it: one run at a time, no queue,
    the ingest options as default arguments (Glue, and moto, merge them into each run's).

    With job-run queuing off, Glue refuses a second start at once
    (ConcurrentRunsExceededException) and RunGlueJob's retry waits for the slot.
    """
    _client("glue").create_job(
        Name=GLUE_JOB_NAME,
        Role=ROLE_ARN,
        Command={"Name": "glueetl", "ScriptLocation": GLUE_JOB_SCRIPT},
        ExecutionProperty={"MaxConcurrentRuns": 1},
        JobRunQueuingEnabled=False,
        GlueVersion="5.0",
        DefaultArguments=default_arguments or {},
    )


def provision(
    workspace: Workspace, settings: dict[str, str], job_arguments: dict[str, str] | None = None
) -> Resources:
    """Create every resource in moto; `settings` = QuarantineRatioThreshold, OnQualityBreach
    (the state machine's placeholders), `job_arguments` = the silver job's default
    arguments (`--header_policy`, `--date_order`)."""
    sqs = _client("sqs")
    queue_url, queue_arn = _storage_and_events(sqs)
    topic_arn, inbox_url = create_notifications(sqs)
    _tables()
    register_silver_tables(f"s3://{LAKE_BUCKET}")
    create_silver_job(job_arguments)
    values = {
        "GlueJobName": GLUE_JOB_NAME,
        "NotificationTopicArn": topic_arn,
        "LakeBucketName": LAKE_BUCKET,
        "GoldRefreshTableName": GOLD_REFRESH_TABLE,
        **_dbt_task(workspace),
        **settings,
    }
    state_machine_arn = _client("stepfunctions").create_state_machine(
        name=STATE_MACHINE_NAME,
        roleArn=ROLE_ARN,
        definition=asl.substitute(ASL_PATH.read_text(), values, source=ASL_PATH),
    )["stateMachineArn"]
    return Resources(queue_url, queue_arn, inbox_url, state_machine_arn, *glue_run_events(sqs))
