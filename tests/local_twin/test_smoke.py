"""`twin smoke` against the twin's moto world, standing in for a freshly deployed stack.

The twin provisions the pipeline's resources in moto (buckets, rule, queue, state
machine, Glue job, ECS task); its Lambda service polls the real queue on a background
thread, as on AWS, calling the real trigger handler; the Glue job run and the dbt task
are stand-ins that write the run record a scenario asks for (the real engines are
covered in tests/e2e). The stack is a real CloudFormation stack in moto: it creates the
event buffer's dead-letter queue and outputs it, with the twin's real names and ARNs for
the other resources, under cdk/outputs.py's keys.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import boto3
import pytest
from sales_lake.run_metrics import METRICS_FILE, SUMMARY_FILE, summary_of

from cdk import outputs as names
from local_twin import provision, smoke
from local_twin.aws_hooks import REGION
from local_twin.cli import main as twin_cli
from local_twin.lambda_service import BackgroundPoller
from local_twin.paths import SAMPLE_DATA_DIR
from local_twin.progress import Progress
from local_twin.twin import Twin
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace

STACK = "SalesPipeline-dev"
GOOD_COUNTS = {"read": 6, "inserted": 5, "updated": 0, "unchanged": 0, "duplicates": 0,
               "quarantined": 1, "blank": 0, "held": 0}  # fmt: skip


# --- the deployed stack, played by the twin ----------------------------------------------------


@dataclass
class Scenario:
    """What the stand-in Glue job reports for the next run."""

    counts: dict = field(default_factory=lambda: dict(GOOD_COUNTS))
    rejected_files: list = field(default_factory=list)

    def glue(self, job_name: str, arguments: dict) -> None:
        """Writes the run record the way sales_lake.run_metrics does: metrics, then summary."""
        run_id, read = arguments["--run_id"], self.counts["read"]
        record = {
            "run_id": run_id,
            "job": "batch_to_silver",
            "status": "SUCCEEDED",
            "counts": dict(self.counts),
            "quarantine_ratio": round(self.counts["quarantined"] / read, 6) if read else 0.0,
            "rejected_files": self.rejected_files,
            "sources": [{"uri": arguments.get("--source_uris")}],
            "delta_versions": {"silver/sales": 1},
        }
        s3 = boto3.client("s3", region_name=REGION)
        for file_name, body in ((METRICS_FILE, record), (SUMMARY_FILE, summary_of(record))):
            s3.put_object(Bucket=LAKE_BUCKET, Key=f"runs/{run_id}/{file_name}",
                          Body=json.dumps(body))  # fmt: skip


def create_stack(name: str, outputs: dict[str, str]) -> None:
    """A CloudFormation stack in moto with `outputs` (literal values), which also creates
    the dead-letter queue its DeadLetterQueueUrl output names, as the real stack does."""
    template = {
        "Resources": {"DeadLetterQueue": {"Type": "AWS::SQS::Queue",
                                          "Properties": {"QueueName": f"{name}-dlq"}}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }  # fmt: skip
    if names.DEAD_LETTER_QUEUE in outputs:
        template["Outputs"][names.DEAD_LETTER_QUEUE] = {"Value": {"Ref": "DeadLetterQueue"}}
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


@dataclass
class Deployed:
    twin: Twin
    poller: BackgroundPoller
    outputs: dict[str, str]
    scenario: Scenario = field(default_factory=Scenario)

    def smoke(self, sample: smoke.Sample, stack: str = STACK, timeout: float = 30.0):
        progress = io.StringIO()
        run = smoke.SmokeRun(stack=stack, sample=sample, timeout=timeout, poll_seconds=0.05)
        session = boto3.Session(region_name=REGION)
        checks = smoke.run_smoke(run, session, Progress(stream=progress))
        return {c.name: c for c in checks}, progress.getvalue()


def stack_outputs(twin: Twin) -> dict[str, str]:
    """What `cdk deploy` would print, with the twin's resources (keys from cdk/outputs.py);
    the dead-letter queue's URL comes from the stack itself (create_stack)."""
    values = {
        names.RAW_BUCKET: RAW_BUCKET,
        names.LAKE_BUCKET: LAKE_BUCKET,
        names.STATE_MACHINE: twin.resources.state_machine_arn,
        names.NOTIFICATION_TOPIC: f"arn:aws:sns:{REGION}:123456789012:sales-pipeline-notifications",
        names.OBJECT_EVENTS_RULE: "sales-raw-object-created",
        names.OBJECT_EVENTS_QUEUE: twin.resources.queue_url,
        names.DEAD_LETTER_QUEUE: "",
        names.TRIGGER_LOG_GROUP: "/aws/lambda/sales-pipeline-trigger",
        names.GLUE_JOB: provision.GLUE_JOB_NAME,
        names.OBJECT_LEDGER_TABLE: provision.OBJECT_LEDGER_TABLE,
        names.SNOWFLAKE_ROLE: "arn:aws:iam::123456789012:role/snowflake-lake-reader",
        names.SNOWFLAKE_PRIVATE_KEY_SECRET: "arn:aws:secretsmanager:us-east-1:1234:secret:k",
        names.DASHBOARD: "sales-pipeline-dev",
    }
    assert set(values) == set(names.ALL)  # a new output name needs a value here too
    return values


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    holder: dict = {}
    workspace = Workspace.at(tmp_path_factory.mktemp("smoke-ws"))
    # The sample holds 1 bad row in 6, over the default 5 % gate: the gate is not under test.
    with Twin(
        workspace,
        glue_runner=lambda name, args: holder["deployed"].scenario.glue(name, args),
        ecs_runner=lambda spec: 0,
        quarantine_ratio_threshold="0.5",
    ) as twin, twin.trigger.serve_in_background() as poller:  # fmt: skip
        outputs = stack_outputs(twin)
        create_stack(STACK, outputs)
        holder["deployed"] = Deployed(twin, poller, outputs)
        yield holder["deployed"]


@pytest.fixture
def deployed_fresh(deployed):
    deployed.scenario = Scenario()
    yield deployed
    assert not deployed.poller.errors, deployed.poller.errors


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> smoke.Sample:
    """Five good lines of the demo sample and one with a negative quantity.

    Lines with an order day after the 12th, so the file's date order is unambiguous (the
    loader rejects dd/MM-or-MM/dd dates it cannot tell apart); decoded leniently, since one
    line of the file is Latin-1 on purpose (an encoding fault).
    """
    source = SAMPLE_DATA_DIR / "sales_2012-01-01_0001.csv"
    [header, *lines] = source.read_bytes().decode("utf-8", "replace").splitlines()
    header = next(csv.reader([header]))
    rows = [r for r in csv.reader(lines[:200]) if int(r[header.index("Order Date")][:2]) > 12]
    rows = [header, *rows[:5]]
    bad = list(rows[1])
    bad[0], bad[rows[0].index("Quantity")] = "999999", "-3"
    path = tmp_path_factory.mktemp("smoke-sample") / "smoke sample.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([*rows, bad])
    return smoke.load_sample(path)


def statuses(checks: dict) -> dict[str, str]:
    return {name: check.status for name, check in checks.items()}


# --- the smoke, end to end ----------------------------------------------------------------------


def test_a_good_run_passes_every_check(deployed_fresh, sample):
    assert (sample.read, sample.quarantined, len(sample.row_ids)) == (6, 1, 5)
    assert 999999 not in sample.row_ids  # the bad row's id is not expected in gold
    checks, progress = deployed_fresh.smoke(sample)
    assert statuses(checks) == {name: "PASS" for name in smoke.CHECKS[:-1]} | {
        "gold (Snowflake)": "SKIP"
    }, checks
    dropped = checks["sample dropped"].detail
    assert f"s3://{RAW_BUCKET}/landing/sales/smoke/" in dropped and "smoke-sample.csv" in dropped
    # every state printed as it was entered, with its time since the start
    assert "RunGlueJob" in progress and "RunDbt" in progress and "PipelineSucceeded" in progress
    assert re.search(r"\+\s*\d+\.\ds  RunGlueJob", progress)
    lines = smoke.verdict_lines(list(checks.values()))
    assert any(line.split()[:3] == ["PASS", "rows", "read"] for line in lines)
    assert smoke.exit_code(list(checks.values())) == 0


def test_a_stack_missing_outputs_fails_naming_them_and_drops_nothing(
    deployed_fresh, sample, monkeypatch, capsys
):
    old = {k: v for k, v in deployed_fresh.outputs.items()
           if k not in (names.STATE_MACHINE, names.TRIGGER_LOG_GROUP)}  # fmt: skip
    create_stack("SalesPipeline-old", old)
    session = boto3.Session(region_name=REGION)
    monkeypatch.setattr(smoke, "aws_session", lambda profile, region: session)
    s3 = boto3.client("s3", region_name=REGION)
    before = s3.list_objects_v2(Bucket=RAW_BUCKET).get("KeyCount")
    code = twin_cli(["smoke", "--stack", "SalesPipeline-old", "--file", str(sample.path)])
    out = capsys.readouterr().out
    assert code == 1
    [line] = [line for line in out.splitlines() if line.split()[1:3] == ["stack", "outputs"]]
    assert line.split()[0] == "FAIL"
    assert "StateMachineArn, TriggerLogGroupName" in line and "redeploy" in line
    assert "SKIP  sample dropped" in out
    assert s3.list_objects_v2(Bucket=RAW_BUCKET).get("KeyCount") == before


def test_an_unknown_stack_says_which_options_to_check(deployed_fresh):
    session = boto3.Session(region_name=REGION)
    check, outputs = smoke.check_outputs(session.client("cloudformation"), "Nope", REGION)
    assert outputs is None and check.status == "FAIL"
    assert "Nope not found in us-east-1" in check.detail and "--region" in check.detail


def test_a_rejected_file_fails_that_check(deployed_fresh, sample):
    deployed_fresh.scenario.rejected_files = [{
        "uri": "s3://sales-raw/landing/sales/smoke/x.csv", "reason": "header_mismatch",
        "detail": "21 columns where 24 were expected",
    }]  # fmt: skip
    checks, _ = deployed_fresh.smoke(sample)
    assert checks["rejected files"].status == "FAIL"
    assert "1 rejected: header_mismatch (21 columns" in checks["rejected files"].detail
    # the quality gate stops the run before gold, and the smoke says where to read why
    execution = checks["execution succeeded"]
    assert execution.status == "FAIL" and "DataQualityBreach" in execution.detail
    assert "sales-pipeline-notifications" in execution.detail
    assert checks["conservation"].status == "PASS"
    assert checks["gold (Snowflake)"].status == "SKIP"


def test_broken_conservation_fails_that_check(deployed_fresh, sample):
    deployed_fresh.scenario.counts = {**GOOD_COUNTS, "quarantined": 0}
    checks, _ = deployed_fresh.smoke(sample)
    assert checks["execution succeeded"].status == "PASS"  # the state machine does not add up
    assert checks["conservation"].status == "FAIL"
    parts = "inserted + updated + unchanged + duplicates + quarantined + blank + held"
    assert f"read 6 but {parts} = 5" in checks["conservation"].detail
    assert checks["rows quarantined"].status == "FAIL"
    assert "rules reject 1" in checks["rows quarantined"].detail
    assert smoke.exit_code(list(checks.values())) == 1


def test_no_execution_within_the_timeout_fails_with_what_to_check(deployed_fresh, sample):
    deployed_fresh.poller.paused.set()  # the trigger never receives the event
    try:
        checks, _ = deployed_fresh.smoke(sample, timeout=1.0)
    finally:
        sqs = boto3.client("sqs", region_name=REGION)
        sqs.purge_queue(QueueUrl=deployed_fresh.twin.resources.queue_url)
        deployed_fresh.poller.paused.clear()
    check = checks["execution started"]
    assert check.status == "FAIL"
    out = deployed_fresh.outputs
    for where in ("sales-raw-object-created", out[names.DEAD_LETTER_QUEUE],
                  out[names.TRIGGER_LOG_GROUP], "1 message(s) waiting"):  # fmt: skip
        assert where in check.detail
    assert statuses(checks)["rows read"] == "SKIP"


# --- the parts that need no AWS -----------------------------------------------------------------


def test_the_default_sample_is_the_smallest_good_file_with_its_known_faults():
    path = smoke.default_sample()
    assert path.parent == SAMPLE_DATA_DIR and path.name == "sales_2012-01-01_0001.csv"
    sample = smoke.load_sample(path)
    faults = [json.loads(line) for line in (SAMPLE_DATA_DIR / "faults.jsonl").open()]
    bad_rows = [f for f in faults if f["file"] == path.name and f["kind"] != "duplicate"]
    assert sample.read == 1000 and sample.quarantined == len(bad_rows)


def test_a_file_without_valid_rows_is_refused_before_anything_is_dropped(tmp_path):
    with pytest.raises(smoke.SmokeUsageError, match="no valid sales row"):
        smoke.load_sample(SAMPLE_DATA_DIR / "bad" / "sample_superstore_21_columns.csv")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(smoke.SmokeUsageError, match=r"\.csv or \.csv\.gz"):
        smoke.load_sample(tmp_path / "notes.txt")


def test_smoke_keys_are_unique_and_under_the_landing_prefix():
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    key = smoke.smoke_key("my orders,2026.csv", now, token="abc123")
    assert key == "landing/sales/smoke/20261126T080000Z-abc123-my-orders-2026.csv"
    assert smoke.smoke_key("a.csv", now) != smoke.smoke_key("a.csv", now)


def test_conservation_counts_blank_lines_only_where_the_record_has_them(sample):
    counts = {**GOOD_COUNTS, "read": 8, "blank": 2}
    checks = smoke.metrics_checks({"counts": counts}, "s3://lake/x", sample, shared=False)
    assert {c.name: c.status for c in checks}["conservation"] == "PASS"


# --- Snowflake: only what can be checked offline -----------------------------------------------


def test_the_gold_check_is_skipped_when_snowflake_is_not_configured():
    assert smoke.snowflake_settings(dict.fromkeys(smoke.SNOWFLAKE_SETTINGS), None, {}) is None


def test_partial_snowflake_settings_name_what_is_missing(tmp_path):
    given = dict.fromkeys(smoke.SNOWFLAKE_SETTINGS) | {"account": "myorg-acct", "user": "ME"}
    with pytest.raises(smoke.SmokeUsageError) as raised:
        smoke.snowflake_settings(given, None, {"SNOWFLAKE_ROLE": "SALES_DBT"})
    message = str(raised.value)
    assert "--snowflake-warehouse" in message and "--snowflake-private-key-file" in message
    assert "--snowflake-role" not in message  # taken from SNOWFLAKE_ROLE


def test_the_key_is_read_from_the_dbt_tasks_variable_first_then_the_short_name():
    given = dict.fromkeys(smoke.SNOWFLAKE_SETTINGS)
    environ = {f"SNOWFLAKE_{k.upper()}": k for k in smoke.SNOWFLAKE_SETTINGS}
    short = smoke.snowflake_settings(given, None, environ | {"SNOWFLAKE_PRIVATE_KEY": "short"})
    assert short.private_key_pem == "short"
    both = {"SNOWFLAKE_PRIVATE_KEY": "short", "DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY": "task"}
    assert smoke.snowflake_settings(given, None, environ | both).private_key_pem == "task"
    with pytest.raises(smoke.SmokeUsageError, match="DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"):
        smoke.snowflake_settings(given, None, environ)


def test_gold_queries_count_the_samples_row_ids_and_each_dimension():
    queries = smoke.gold_queries(tuple(range(1, 2501)))
    facts = [sql for table, sql in queries if table == "fact_sales"]
    assert len(facts) == 3  # 1,000 ids per query
    head = "select count(distinct row_id) from fact_sales where row_id in (1, 2, 3,"
    assert facts[0].startswith(head)
    assert facts[2].endswith(", 2500)")
    dimensions = ("dim_customer", "dim_product", "dim_store", "dim_date")
    assert [sql for table, sql in queries if table != "fact_sales"] == [
        f"select count(*) from {t}" for t in dimensions
    ]


def test_gold_verdict_needs_every_sample_row_and_non_empty_dimensions(sample):
    full = {"fact_sales": 5, "dim_customer": 3, "dim_product": 5, "dim_store": 2, "dim_date": 9}
    assert smoke.gold_verdict(full, sample).status == "PASS"
    short = smoke.gold_verdict(full | {"fact_sales": 4}, sample)
    assert short.status == "FAIL" and "4 of the sample's 5" in short.detail
    empty = smoke.gold_verdict(full | {"dim_store": 0}, sample)
    assert empty.status == "FAIL" and "dim_store empty" in empty.detail


def test_an_unusable_private_key_fails_the_gold_check_without_connecting(sample):
    settings = smoke.SnowflakeSettings("a", "u", "r", "w", "d", "s", private_key_pem="not a key")

    def connect(*_args):
        raise AssertionError("must not connect")

    check = smoke.gold_check(settings, sample, connect=connect)
    assert check.status == "FAIL" and "PKCS#8" in check.detail


def test_the_gold_check_runs_every_query_and_sums_the_fact_slices(sample):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # the dbt task's variables (docs/contracts.md) are enough, with no option given
    environ = {f"SNOWFLAKE_{k.upper()}": k.upper() for k in smoke.SNOWFLAKE_SETTINGS}
    environ["DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"] = pem.decode()
    settings = smoke.snowflake_settings(dict.fromkeys(smoke.SNOWFLAKE_SETTINGS), None, environ)
    executed: list[str] = []

    class Cursor:
        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

        def execute(self, sql):
            executed.append(sql)
            return self

        def fetchone(self):
            return (len(sample.row_ids),) if "fact_sales" in executed[-1] else (7,)

    class Connection:
        closed = False

        def cursor(self):
            return Cursor()

        def close(self):
            Connection.closed = True

    check = smoke.gold_check(settings, sample, connect=lambda _settings, _key: Connection())
    assert check.status == "PASS", check
    assert executed == [sql for _, sql in smoke.gold_queries(sample.row_ids)]
    assert Connection.closed
