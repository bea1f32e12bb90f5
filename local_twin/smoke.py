"""`twin smoke`: prove a deployed stack works end to end, with one small file.

After a first `cdk deploy` nothing has run yet, and the first real upload is a bad
moment to learn that the EventBridge rule, the trigger or the Snowflake grants are
wrong. The smoke walks the real path once with the user's own AWS credentials:
stack outputs -> a sample CSV under its own key -> the execution the trigger starts
for it -> every state to the end -> the run metrics against what the file holds ->
(optionally) the gold rows in Snowflake, and ends with one PASS/FAIL line per check
naming what to fix.

What the file should give is worked out here with the Glue job's own parser and
validation (`sales_lake.batch.bronze_csv` + `conform`, pyarrow only, no Spark), so
"rows read" and "rows quarantined" compare the deployed job with this checkout's rules.
Output names come from cdk/outputs.py, the stack's single owner of them. The argument
parsing is in local_twin/commands/smoke.py.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from sales_lake.lake_layout import run_key
from sales_lake.run_metrics import ACCOUNTED, METRICS_FILE, SUMMARY_FILE

from cdk import outputs as names
from local_twin.paths import SAMPLE_DATA_DIR
from local_twin.progress import Progress
from local_twin.workspace import BATCH_PREFIX

INPUT_SUFFIXES = (".csv", ".csv.gz")  # what the ingestion rule and the trigger accept
SMOKE_PREFIX = f"{BATCH_PREFIX}smoke/"
# The outputs the smoke reads: where to drop, what to watch, where to point when stuck.
NEEDED_OUTPUTS = (
    names.RAW_BUCKET,
    names.LAKE_BUCKET,
    names.STATE_MACHINE,
    names.OBJECT_EVENTS_RULE,
    names.OBJECT_EVENTS_QUEUE,
    names.DEAD_LETTER_QUEUE,
    names.TRIGGER_LOG_GROUP,
)
CHECKS = (
    "stack outputs",
    "sample dropped",
    "execution started",
    "execution succeeded",
    "rows read",
    "rows quarantined",
    "conservation",
    "rejected files",
    "gold (Snowflake)",
)
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
# An execution started this long before the drop (by the clocks of S3 and this machine)
# may still be ours; older ones are not looked at.
CLOCK_SKEW = timedelta(minutes=2)
HEARTBEAT_SECONDS = 30.0
GOLD_DIMENSIONS = ("dim_customer", "dim_product", "dim_store", "dim_date")
GOLD_IDS_PER_QUERY = 1000
SNOWFLAKE_SETTINGS = ("account", "user", "role", "warehouse", "database", "schema")
# The dbt task's key variable (dbt scrubs DBT_ENV_SECRET_* values from its logs), then the
# shorter name, a convenience for a shell that sets the key only for the smoke check.
PRIVATE_KEY_VARIABLES = ("DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY", "SNOWFLAKE_PRIVATE_KEY")


class SmokeUsageError(ValueError):
    """Something to fix before the smoke may start (nothing was dropped yet)."""


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS | FAIL | SKIP
    detail: str


def passed(name: str, detail: str) -> Check:
    return Check(name, "PASS", detail)


def failed(name: str, detail: str) -> Check:
    return Check(name, "FAIL", detail)


def skipped(names_: tuple[str, ...] | list[str], why: str) -> list[Check]:
    return [Check(name, "SKIP", why) for name in names_]


def after(name: str) -> tuple[str, ...]:
    """The checks that come after `name` (skipped when `name` stops the smoke)."""
    return CHECKS[CHECKS.index(name) + 1 :]


def verdict_lines(checks: list[Check]) -> list[str]:
    width = max(len(c.name) for c in checks)
    return ["", "Smoke test", *(f"  {c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks)]


def exit_code(checks: list[Check]) -> int:
    """0 only when every check that ran passed (skipped ones do not count)."""
    return 1 if any(c.status == "FAIL" for c in checks) else 0


# --- the sample file -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A file to drop and what the Glue job must make of it."""

    path: Path
    body: bytes = field(repr=False)
    read: int  # records the loader reads (blank lines are not records)
    valid: int  # records without a reason code (exact duplicates included)
    row_ids: tuple[int, ...]  # distinct Row IDs of the valid records: the gold check's keys

    @property
    def quarantined(self) -> int:
        return self.read - self.valid


def default_sample(folder: Path = SAMPLE_DATA_DIR) -> Path:
    """The smallest good CSV of data/sample (data/sample/bad/ is a sub-folder, not looked at)."""
    files = [p for p in folder.glob("*") if p.is_file() and p.name.lower().endswith(INPUT_SUFFIXES)]
    if not files:
        raise SmokeUsageError(
            f"no sample CSV in {folder}: restore data/sample/ from git, or pass --file FILE"
        )
    return min(files, key=lambda p: (p.stat().st_size, p.name))


def expected_of(body: bytes) -> tuple[int, list[int], str | None]:
    """(records read, Row IDs of the valid records, the first rejected record's reason) by
    the Glue job's own parser and rules."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from sales_lake.batch.bronze_csv import parse_file
    from sales_lake.batch.conform import conform

    parsed = parse_file(body)
    records = pa.array(parsed.raw_records, type=pa.string())
    if not len(records):
        return 0, [], "no data rows"
    issues = pa.array(parsed.issues or [None] * len(records), type=pa.string())
    typed = conform(records, issues)
    problems = pc.filter(typed.reason_detail, pc.invert(typed.valid))
    first_problem = problems[0].as_py() if len(problems) else None
    return len(records), pc.filter(typed.columns["row_id"], typed.valid).to_pylist(), first_problem


def load_sample(path: Path) -> Sample:
    if not path.is_file():
        raise SmokeUsageError(f"{path}: no such file; pass --file with a sales CSV export")
    if not path.name.lower().endswith(INPUT_SUFFIXES):
        raise SmokeUsageError(
            f"{path}: the pipeline takes {' or '.join(INPUT_SUFFIXES)} files; pass a sales CSV"
        )
    body = path.read_bytes()
    read, valid_ids, problem = expected_of(body)
    if not valid_ids:
        raise SmokeUsageError(
            f"{path}: no valid sales row in it (e.g. {problem}), so the smoke could not tell a "
            "working pipeline from a broken one; pass a good export"
        )
    return Sample(path, body, read, len(valid_ids), tuple(sorted(set(valid_ids))))


def smoke_key(file_name: str, now: datetime, token: str | None = None) -> str:
    """landing/sales/smoke/<UTC time>-<token>-<name>: never a user's key, never reused."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", file_name)
    return f"{SMOKE_PREFIX}{now:%Y%m%dT%H%M%SZ}-{token or uuid.uuid4().hex[:6]}-{safe}"


# --- AWS helpers -----------------------------------------------------------------------------


def aws_error(exc: Exception) -> str:
    """One line out of a boto error, whatever its kind."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def aws_session(profile: str | None, region: str | None):
    """The user's own credentials (boto3's default chain), with a region to talk to."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise SmokeUsageError(
            f"AWS profile {profile!r} not found: list them with `aws configure list-profiles`"
        ) from None
    if not session.region_name:
        raise SmokeUsageError(
            "no AWS region: pass --region (the stack's region), or set AWS_REGION or a "
            "region in your profile"
        )
    return session


def stack_outputs(cloudformation, stack: str) -> dict[str, str]:
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def check_outputs(cloudformation, stack: str, region: str) -> tuple[Check, dict[str, str] | None]:
    name = "stack outputs"
    try:
        outputs = stack_outputs(cloudformation, stack)
    except NoCredentialsError:
        return failed(name, "no AWS credentials: set AWS_PROFILE, pass --profile, or run "
                      "`aws configure` / `aws sso login`"), None  # fmt: skip
    except ClientError as exc:
        if "does not exist" in str(exc):
            return failed(name, f"stack {stack} not found in {region}: check --stack and "
                          "--region (`cdk deploy` prints both)"), None  # fmt: skip
        return failed(name, f"cannot read stack {stack}: {aws_error(exc)}"), None
    except BotoCoreError as exc:
        return failed(name, f"cannot read stack {stack}: {aws_error(exc)}"), None
    missing = [output for output in NEEDED_OUTPUTS if not outputs.get(output)]
    if missing:
        return failed(name, f"stack {stack} lacks output(s) {', '.join(missing)}: redeploy "
                      "with this version of the stack (`npx cdk deploy`)"), None  # fmt: skip
    return passed(name, f"{stack} in {region}"), outputs


def console_url(region: str, execution_arn: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


def queue_depth(sqs, url: str) -> str:
    """'N waiting' for a queue, best effort: it only decorates a hint."""
    try:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return f"{int(attributes['ApproximateNumberOfMessages']):,} message(s) waiting"
    except (BotoCoreError, ClientError, KeyError, ValueError):
        return "depth unknown"


# --- finding and following the execution -------------------------------------------------------


def execution_objects(execution_input: dict, read_json: Callable[[str], dict]) -> list[str]:
    """The s3:// URIs an execution input names, directly or through its manifest."""
    if execution_input.get("source_uris"):
        return [uri for uri in execution_input["source_uris"].split(",") if uri]
    if execution_input.get("manifest_uri"):
        manifest = read_json(execution_input["manifest_uri"])
        return [f"s3://{o['bucket']}/{o['key']}" for o in manifest.get("objects", [])]
    return []


def s3_json_reader(s3) -> Callable[[str], dict]:
    def read(uri: str) -> dict:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    return read


def recent_executions(sfn, state_machine_arn: str, since: datetime):
    """Executions started after `since`, newest first (ListExecutions' order), lazily."""
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    for page in pages:
        for execution in page["executions"]:
            if execution["startDate"] < since:
                return
            yield execution


@dataclass
class Watch:
    """One smoke run's AWS side: the clients, the outputs and the clock."""

    session: object
    outputs: dict[str, str]
    progress: Progress
    deadline: float
    poll_seconds: float = 5.0
    clients: dict = field(default_factory=dict)

    def client(self, service: str):
        if service not in self.clients:
            self.clients[service] = self.session.client(service)
        return self.clients[service]

    @property
    def region(self) -> str:
        return self.session.region_name

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def find_execution(watch: Watch, uri: str, dropped_at: datetime) -> tuple[dict, list[str]] | None:
    """The execution whose input names `uri` (described), with all the objects it names."""
    sfn, read_json = watch.client("stepfunctions"), s3_json_reader(watch.client("s3"))
    looked_at: set[str] = set()
    waited_since, last_news = time.monotonic(), time.monotonic()
    while watch.remaining() > 0:
        arn = watch.outputs[names.STATE_MACHINE]
        for execution in recent_executions(sfn, arn, dropped_at - CLOCK_SKEW):
            if execution["executionArn"] in looked_at:
                continue
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            objects = execution_objects(json.loads(described.get("input") or "{}"), read_json)
            if uri in objects:
                return described, objects
            looked_at.add(execution["executionArn"])  # an input never changes
        if time.monotonic() - last_news >= HEARTBEAT_SECONDS:
            last_news = time.monotonic()
            watch.progress(f"  no execution yet ({last_news - waited_since:.0f}s); the trigger "
                           "batches events for up to a minute")  # fmt: skip
        time.sleep(min(watch.poll_seconds, max(watch.remaining(), 0)))
    return None


def not_started_hint(watch: Watch, uri: str, waited: float) -> str:
    sqs, out = watch.client("sqs"), watch.outputs
    return (
        f"no execution for {uri} after {waited:.0f}s. Check the EventBridge rule "
        f"{out[names.OBJECT_EVENTS_RULE]} (enabled, targets the queue), the queue "
        f"{out[names.OBJECT_EVENTS_QUEUE]} ({queue_depth(sqs, out[names.OBJECT_EVENTS_QUEUE])}), "
        f"its dead-letter queue {out[names.DEAD_LETTER_QUEUE]} "
        f"({queue_depth(sqs, out[names.DEAD_LETTER_QUEUE])}: events the trigger gave up on), "
        f"and the trigger's logs in {out[names.TRIGGER_LOG_GROUP]}"
    )


def history(sfn, execution_arn: str) -> list[dict]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def entered_states(events: list[dict]) -> list[tuple[str, datetime]]:
    return [
        (e["stateEnteredEventDetails"]["name"], e["timestamp"])
        for e in events
        if e["type"].endswith("StateEntered")
    ]


def follow(watch: Watch, described: dict) -> tuple[dict, str | None]:
    """Print each state as it is entered until the execution ends (or the deadline);
    the last description and the last state entered."""
    sfn, arn = watch.client("stepfunctions"), described["executionArn"]
    started = described["startDate"]
    printed, last_state, last_news = 0, None, time.monotonic()
    while True:
        states = entered_states(history(sfn, arn))
        for name, at in states[printed:]:
            watch.progress(f"  +{(at - started).total_seconds():6.1f}s  {name}")
            last_state, last_news = name, time.monotonic()
        printed = len(states)
        if described["status"] in TERMINAL or watch.remaining() <= 0:
            return described, last_state
        if time.monotonic() - last_news >= HEARTBEAT_SECONDS:
            last_news = time.monotonic()
            watch.progress(f"  still in {last_state}")
        time.sleep(min(watch.poll_seconds, max(watch.remaining(), 0)))
        described = sfn.describe_execution(executionArn=arn)


def execution_check(watch: Watch, described: dict, last_state: str | None) -> Check:
    name, status = "execution succeeded", described["status"]
    url = console_url(watch.region, described["executionArn"])
    if status == "SUCCEEDED":
        seconds = (described["stopDate"] - described["startDate"]).total_seconds()
        return passed(name, f"{described['name']} in {seconds:.0f}s")
    if status not in TERMINAL:
        return failed(name, f"{described['name']} still {status} in {last_state} at the "
                      f"timeout: follow it at {url}, or rerun with a larger --timeout")  # fmt: skip
    cause = " ".join(str(described.get("cause") or "").split())[:300]
    return failed(
        name,
        f"{status} in {last_state} ({described.get('error')}: {cause}). The notification on "
        f"{watch.outputs.get(names.NOTIFICATION_TOPIC, 'the notification topic')} says what "
        f"failed and how to rerun; the execution: {url}",
    )


# --- the run metrics -----------------------------------------------------------------------------


def read_run_record(s3, lake_bucket: str, run_id: str) -> tuple[str, dict] | None:
    """runs/<run_id>/summary.json (bounded, written last) or else metrics.json."""
    for file_name in (SUMMARY_FILE, METRICS_FILE):
        key = run_key(run_id, file_name)
        try:
            body = s3.get_object(Bucket=lake_bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                continue
            raise
        return f"s3://{lake_bucket}/{key}", json.loads(body)
    return None


def metrics_checks(record: dict, where: str, sample: Sample, shared: bool) -> list[Check]:
    """rows read, rows quarantined, conservation, rejected files: pure, on one record."""
    counts = record.get("counts") or {}
    missing = [k for k in ("read", *ACCOUNTED) if not isinstance(counts.get(k), int)]
    if missing:
        return [failed("rows read", f"{where} has no count(s) {', '.join(missing)}: the "
                       "deployed Glue job writes an older record; redeploy")] + skipped(
            after("rows read"), "not run: no counts")  # fmt: skip
    checks: list[Check] = []
    if shared:
        why = "not run: the run also loaded other files dropped at the same time; rerun smoke"
        checks += skipped(("rows read", "rows quarantined"), why)
    else:
        checks.append(
            passed("rows read", f"{counts['read']:,}, as the sample holds")
            if counts["read"] == sample.read
            else failed("rows read", f"{counts['read']:,}, but {sample.path.name} holds "
                        f"{sample.read:,} records: the deployed Glue job reads the file "
                        "differently from this checkout; redeploy (`npx cdk deploy`)")
        )  # fmt: skip
        checks.append(
            passed("rows quarantined", f"{counts['quarantined']:,}, as expected")
            if counts["quarantined"] == sample.quarantined
            else failed("rows quarantined", f"{counts['quarantined']:,}, but this checkout's "
                        f"rules reject {sample.quarantined:,}: redeploy so the Glue job runs "
                        "them; reasons per row are in silver/quarantine")
        )  # fmt: skip
    parts = ACCOUNTED
    total = sum(counts[k] for k in parts)
    checks.append(
        passed("conservation", f"read {counts['read']:,} = {' + '.join(parts)}")
        if counts["read"] == total
        else failed("conservation", f"read {counts['read']:,} but {' + '.join(parts)} = "
                    f"{total:,} in {where}: rows were lost or counted twice; see the Glue "
                    "run's logs (a bug in the deployed job)")
    )  # fmt: skip
    rejected = record.get("rejected_files") or []
    count = record.get("rejected_file_count", len(rejected))
    if count:
        first = rejected[0] if rejected else {}
        checks.append(failed("rejected files", f"{count} rejected: {first.get('reason')} "
                             f"({first.get('detail') or first.get('uri')}); fix the file or "
                             "pass --file with a good export"))  # fmt: skip
    else:
        checks.append(passed("rejected files", "none"))
    return checks


# --- gold in Snowflake (optional) -------------------------------------------------------------


@dataclass(frozen=True)
class SnowflakeSettings:
    account: str
    user: str
    role: str
    warehouse: str
    database: str
    schema: str
    private_key_pem: str = field(repr=False)


def snowflake_settings(
    given: dict[str, str | None], key_file: Path | None, environ: dict[str, str]
) -> SnowflakeSettings | None:
    """From --snowflake-* options, else the dbt task's SNOWFLAKE_* variables; None (check
    skipped) when no account is given at all, an error naming each missing setting else."""
    values = {k: given.get(k) or environ.get(f"SNOWFLAKE_{k.upper()}") for k in SNOWFLAKE_SETTINGS}
    if not values["account"]:
        return None
    if key_file is not None:
        if not key_file.is_file():
            raise SmokeUsageError(f"--snowflake-private-key-file {key_file}: no such file")
        values["private_key_pem"] = key_file.read_text()
    else:
        values["private_key_pem"] = next(
            (environ[name] for name in PRIVATE_KEY_VARIABLES if environ.get(name)), None
        )
    missing = [f"--snowflake-{k}" for k in SNOWFLAKE_SETTINGS if not values[k]]
    if not values["private_key_pem"]:
        missing.append(f"--snowflake-private-key-file (or {' or '.join(PRIVATE_KEY_VARIABLES)})")
    if missing:
        raise SmokeUsageError(
            f"Snowflake account given but not {', '.join(missing)} (or the SNOWFLAKE_* "
            "variables of docs/contracts.md); give all, or none to skip the gold check"
        )
    return SnowflakeSettings(**values)


def gold_queries(row_ids: tuple[int, ...]) -> list[tuple[str, str]]:
    """(table, SQL): the sample's Row IDs found in fact_sales, in slices, and each dimension's
    size. The ids are inlined as integers (int() leaves no room for injection)."""
    queries = []
    for start in range(0, len(row_ids), GOLD_IDS_PER_QUERY):
        ids = ", ".join(str(int(i)) for i in row_ids[start : start + GOLD_IDS_PER_QUERY])
        queries.append(("fact_sales", f"select count(distinct row_id) from fact_sales "
                                      f"where row_id in ({ids})"))  # fmt: skip
    queries += [(table, f"select count(*) from {table}") for table in GOLD_DIMENSIONS]
    return queries


def gold_verdict(found: dict[str, int], sample: Sample) -> Check:
    name, wanted = "gold (Snowflake)", len(sample.row_ids)
    empty = [t for t in GOLD_DIMENSIONS if not found.get(t)]
    rows = f"fact_sales holds {found.get('fact_sales', 0):,} of the sample's {wanted:,} rows"
    if found.get("fact_sales", 0) < wanted:
        return failed(name, f"{rows}: gold was not refreshed with this run; see "
                      "runs/<run_id>/dbt/run_results.json in the lake bucket (if the run left "
                      "the refresh to a running execution, rerun smoke after it ends)")  # fmt: skip
    if empty:
        return failed(name, f"{rows}, but {', '.join(empty)} empty: see the dbt task's "
                      "logs and runs/<run_id>/dbt/run_results.json")  # fmt: skip
    dims = ", ".join(f"{t} {found[t]:,}" for t in GOLD_DIMENSIONS)
    return passed(name, f"{rows}; {dims}")


def load_private_key(pem: str):
    """The dbt task's key format: unencrypted PKCS#8 PEM (the connector wants an object or DER)."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem.encode(), password=None)


def snowflake_connect(settings: SnowflakeSettings, key):
    import snowflake.connector

    return snowflake.connector.connect(
        account=settings.account, user=settings.user, role=settings.role,
        warehouse=settings.warehouse, database=settings.database, schema=settings.schema,
        private_key=key, login_timeout=60, session_parameters={"QUERY_TAG": "sales-smoke"},
    )  # fmt: skip


def gold_check(settings: SnowflakeSettings, sample: Sample, connect=snowflake_connect) -> Check:
    where = f"{settings.database}.{settings.schema} as {settings.user}"
    try:
        key = load_private_key(settings.private_key_pem)
    except (TypeError, ValueError) as exc:  # encrypted, or not a private key at all
        return failed("gold (Snowflake)", f"cannot use the private key ({exc}): give the "
                      "unencrypted PKCS#8 PEM, as for the dbt task")  # fmt: skip
    try:
        connection = connect(settings, key)
        try:
            found: dict[str, int] = {}
            with connection.cursor() as cursor:
                for table, sql in gold_queries(sample.row_ids):
                    found[table] = found.get(table, 0) + int(cursor.execute(sql).fetchone()[0])
        finally:
            connection.close()
    except Exception as exc:  # snowflake.connector.errors.Error and network errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return failed("gold (Snowflake)", f"cannot query {where} ({first}): check the account, "
                      "user, key, and that the role may use the warehouse and read the "
                      "schema")  # fmt: skip
    return gold_verdict(found, sample)


# --- the whole smoke ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SmokeRun:
    stack: str
    sample: Sample
    timeout: float = 900.0
    poll_seconds: float = 5.0
    snowflake: SnowflakeSettings | None = None


def run_smoke(run: SmokeRun, session, progress: Progress) -> list[Check]:
    """Every check in order; a check that cannot run because an earlier one failed is SKIP."""
    region = session.region_name
    progress(f"reading the outputs of stack {run.stack} ({region})")
    check, outputs = check_outputs(session.client("cloudformation"), run.stack, region)
    if outputs is None:
        return [check, *skipped(after("stack outputs"), "not run: needs the stack outputs")]
    watch = Watch(session, outputs, progress, time.monotonic() + run.timeout, run.poll_seconds)
    checks = [check]
    try:
        _drop_and_watch(run, watch, checks)
    except (BotoCoreError, ClientError, ValueError) as exc:  # ValueError: unreadable JSON
        done = {c.name for c in checks}
        step = next(name for name in CHECKS if name not in done)
        checks += [failed(step, f"{aws_error(exc)}: check the permissions of your AWS "
                          "credentials on the stack's resources")]  # fmt: skip
        checks += skipped(after(step), f"not run: {step} failed")
    return checks


def _drop_and_watch(run: SmokeRun, watch: Watch, checks: list[Check]) -> None:
    """Appends to `checks` as it goes, so an AWS error names the step it stopped."""
    sample = run.sample
    raw = watch.outputs[names.RAW_BUCKET]
    dropped_at = datetime.now(UTC)
    key = smoke_key(sample.path.name, dropped_at)
    uri = f"s3://{raw}/{key}"
    watch.client("s3").put_object(Bucket=raw, Key=key, Body=sample.body)
    checks.append(passed("sample dropped", f"{uri} ({sample.read:,} records)"))
    watch.progress(f"dropped {sample.path.name} -> {uri}; waiting for its execution")

    found = find_execution(watch, uri, dropped_at)
    if found is None:
        checks.append(failed("execution started", not_started_hint(watch, uri, run.timeout)))
        checks += skipped(after("execution started"), "not run: no execution")
        return
    described, objects = found
    checks.append(passed("execution started", described["name"]))
    watch.progress(f"execution {described['name']} started; following it")
    described, last_state = follow(watch, described)
    checks.append(execution_check(watch, described, last_state))
    if described["status"] not in TERMINAL:
        checks += skipped(after("execution succeeded"), "not run: the execution is still running")
        return

    run_id = json.loads(described["input"]).get("run_id") or described["name"]
    record = read_run_record(watch.client("s3"), watch.outputs[names.LAKE_BUCKET], run_id)
    if record is None:
        checks.append(failed("rows read", f"no runs/{run_id}/{SUMMARY_FILE} or {METRICS_FILE} "
                             "in the lake bucket: the Glue job did not finish; see the "
                             "execution's RunGlueJob step and the Glue run's logs"))  # fmt: skip
        checks += skipped(after("rows read"), "not run: no run metrics")
        return
    where, record = record
    checks += metrics_checks(record, where, sample, shared=len(objects) > 1)

    if run.snowflake is None:
        checks += skipped(("gold (Snowflake)",), "not configured (--snowflake-account ...)")
    elif described["status"] != "SUCCEEDED":
        checks += skipped(("gold (Snowflake)",), "not run: the execution did not succeed")
    else:
        watch.progress("counting the sample's rows in Snowflake gold")
        checks.append(gold_check(run.snowflake, sample))
