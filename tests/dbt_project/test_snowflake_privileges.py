"""Every statement the dbt task runs on Snowflake needs only what
dbt/snowflake/admin_setup.sql grants the task's role (no account here: this is the
offline check of the first deploy's privilege errors).

The statements come from two places:
  - the `stage_silver_tables` macro, rendered with Jinja and a tiny dbt-like context
    (the statements it would send, with the contract's default names);
  - what dbt-snowflake runs for this project's models and tests, derived from the
    parsed manifest (`dbt parse`, prod target): per materialization and incremental
    strategy the statements its macros issue, first build then incremental run. Each
    statement form is also looked up in the installed adapter's macros, so an adapter
    upgrade that changes them fails here instead of on the account.
Each statement is classified by RULES (statement -> privileges on which object, the
Snowflake page cited per row) and checked against the parsed grants: an object the
role created earlier in the run is owned by it (OWNERSHIP goes to the creating role),
so DML and DDL on it need no grant, and neither does granting SELECT on it to the
reader role (dbt's `grants` config on the marts, run after each mart's build).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from types import SimpleNamespace

import jinja2
import jinja2.nativetypes
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = REPO_ROOT / "dbt"
ADMIN_SQL = PROJECT / "snowflake" / "admin_setup.sql"
STAGE_MACRO = PROJECT / "macros" / "stage_silver_tables.sql"
# dbt-core's and dbt-snowflake's macros (dbt/include/global_project, .../snowflake)
ADAPTER_MACROS = Path(importlib.util.find_spec("dbt.include.global_project").origin).parents[1]
FIX = "grant it in dbt/snowflake/admin_setup.sql, or stop running the statement"


@dataclass(frozen=True)
class Need:
    """A privilege on one object (names upper case, fully qualified)."""

    privilege: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.privilege} on {self.kind} {self.name}"


def upper(identifier: str) -> str:
    """Unquoted identifiers resolve in upper case."""
    return identifier.strip('"').upper()


def parts(name: str) -> list[str]:
    return [upper(part) for part in name.split(".")]


def qualified(name: str) -> str:
    return ".".join(parts(name))


def containers(name: str) -> list[Need]:
    """USAGE on the database and schema of a database.schema.object name: needed to
    reach any object (https://docs.snowflake.com/en/user-guide/security-access-control-privileges)."""
    database, schema, _object = parts(name)
    return [Need("USAGE", "DATABASE", database), Need("USAGE", "SCHEMA", f"{database}.{schema}")]


def schema_of(name: str) -> str:
    return ".".join(parts(name)[:2])


@dataclass(frozen=True)
class Rule:
    pattern: str
    needs: Callable[[re.Match, Admin], list[Need]]
    creates: bool = False  # the statement creates the object it names (the role owns it)


def on_object(privilege: str) -> Callable[[re.Match, Admin], list[Need]]:
    def needs(match: re.Match, admin: Admin) -> list[Need]:
        name = qualified(match["obj"])
        return [*containers(name), Need(privilege, "OBJECT", name)]

    return needs


def in_schema(privilege: str, *, warehouse: bool) -> Callable[[re.Match, Admin], list[Need]]:
    def needs(match: re.Match, admin: Admin) -> list[Need]:
        name = qualified(match["obj"])
        compute = [Need("USAGE", "WAREHOUSE", admin.warehouse)] if warehouse else []
        return [*containers(name), Need(privilege, "SCHEMA", schema_of(name)), *compute]

    return needs


def dml(privilege: str) -> Callable[[re.Match, Admin], list[Need]]:
    def needs(match: re.Match, admin: Admin) -> list[Need]:
        return [*on_object(privilege)(match, admin), Need("USAGE", "WAREHOUSE", admin.warehouse)]

    return needs


def iceberg_table(match: re.Match, admin: Admin) -> list[Need]:
    return [
        *in_schema("CREATE ICEBERG TABLE", warehouse=False)(match, admin),
        Need("USAGE", "EXTERNAL VOLUME", upper(match["volume"])),
        Need("USAGE", "INTEGRATION", upper(match["catalog"])),
    ]


def create_schema(match: re.Match, admin: Admin) -> list[Need]:
    database = parts(match["obj"])[0]
    return [Need("USAGE", "DATABASE", database), Need("CREATE SCHEMA", "DATABASE", database)]


def show_schemas(match: re.Match, admin: Admin) -> list[Need]:
    return [Need("USAGE", "DATABASE", upper(match["obj"]))]


def show_objects(match: re.Match, admin: Admin) -> list[Need]:
    database, schema = parts(match["obj"])
    return [Need("USAGE", "DATABASE", database), Need("USAGE", "SCHEMA", f"{database}.{schema}")]


def grant_on_object(match: re.Match, admin: Admin) -> list[Need]:
    """Granting a privilege on one object takes its OWNERSHIP (or MANAGE GRANTS, which
    the task's role does not get); the grantee must be a role admin_setup.sql creates."""
    grantees = [upper(g) for g in match["grantees"].split(",")]
    missing = [Need("CREATED", "ROLE", g) for g in grantees if g not in admin.roles]
    return [*on_object("OWNERSHIP")(match, admin), *missing]


# Statement -> the privileges Snowflake checks, first match wins. One row per kind, with
# the page stating its access-control requirements.
RULES = (
    # https://docs.snowflake.com/en/sql-reference/sql/create-iceberg-table-delta
    # (CREATE ICEBERG TABLE on the schema, USAGE on the external volume and the catalog
    # integration; checked even with IF NOT EXISTS)
    Rule(
        r"create (?:or replace )?iceberg table (?:if not exists )?(?P<obj>\S+) .*"
        r"external_volume = '(?P<volume>[^']+)' .*catalog = '(?P<catalog>[^']+)'",
        iceberg_table,
        creates=True,
    ),
    # https://docs.snowflake.com/en/sql-reference/sql/alter-iceberg-table-refresh
    # (OWNERSHIP of the Iceberg table)
    Rule(r"alter iceberg table (?P<obj>\S+) refresh", on_object("OWNERSHIP")),
    # https://docs.snowflake.com/en/sql-reference/sql/create-schema
    # (CREATE SCHEMA on the database, also when the schema exists and IF NOT EXISTS is given)
    Rule(r"create schema (?:if not exists )?(?P<obj>\S+)", create_schema),
    # https://docs.snowflake.com/en/sql-reference/sql/create-table (CREATE TABLE on the
    # schema; OR REPLACE of an existing table also needs its OWNERSHIP, which the role has
    # for every table it created; transient and temporary tables alike)
    Rule(
        r"create (?:or replace )?(?:transient |temporary )?table (?P<obj>\S+)",
        in_schema("CREATE TABLE", warehouse=True),
        creates=True,
    ),
    # https://docs.snowflake.com/en/sql-reference/sql/create-view (CREATE VIEW on the
    # schema, SELECT on what the view reads: the select rows below)
    Rule(
        r"create (?:or replace )?(?:secure )?(?:temporary )?view (?P<obj>\S+)",
        in_schema("CREATE VIEW", warehouse=False),
        creates=True,
    ),
    # https://docs.snowflake.com/en/sql-reference/sql/merge (INSERT, UPDATE, DELETE on the
    # target as used; the owner has them all)
    Rule(r"merge into (?P<obj>\S+)", dml("UPDATE")),
    # https://docs.snowflake.com/en/sql-reference/sql/insert (INSERT on the table)
    Rule(r"insert into (?P<obj>\S+)", dml("INSERT")),
    # https://docs.snowflake.com/en/sql-reference/sql/delete (DELETE on the table)
    Rule(r"delete from (?P<obj>\S+)", dml("DELETE")),
    # https://docs.snowflake.com/en/sql-reference/sql/alter-table (OWNERSHIP of the table)
    Rule(r"alter table (?P<obj>\S+)", on_object("OWNERSHIP")),
    # https://docs.snowflake.com/en/sql-reference/sql/drop-table and .../drop-view
    # (OWNERSHIP of the object, when it exists)
    Rule(r"drop (?:table|view) if exists (?P<obj>\S+)", on_object("OWNERSHIP")),
    # https://docs.snowflake.com/en/sql-reference/sql/desc-table (any privilege on it)
    Rule(r"describe table (?P<obj>\S+)", on_object("SELECT")),
    # https://docs.snowflake.com/en/sql-reference/sql/show-schemas (lists the schemas the
    # role has a privilege on; USAGE on the database)
    Rule(r"show terse schemas in database (?P<obj>\S+)", show_schemas),
    # https://docs.snowflake.com/en/sql-reference/sql/show-objects (USAGE on the schema)
    Rule(r"show objects in (?P<obj>\S+)", show_objects),
    # https://docs.snowflake.com/en/sql-reference/sql/show-grants (lists the grants on an
    # object the role can see: it owns the marts dbt asks about)
    Rule(r"show grants on (?P<obj>\S+)", on_object("OWNERSHIP")),
    # https://docs.snowflake.com/en/sql-reference/sql/grant-privilege (on one object:
    # OWNERSHIP of it, or MANAGE GRANTS)
    Rule(r"grant \w+ on (?P<obj>\S+) to (?P<grantees>.+)$", grant_on_object),
    # https://docs.snowflake.com/en/sql-reference/sql/select (SELECT on what is read,
    # USAGE on a warehouse to run it)
    Rule(r"select .* from (?P<obj>\S+)", dml("SELECT")),
)


@dataclass
class Admin:
    """What admin_setup.sql creates and grants to the task's role."""

    role: str
    database: str
    warehouse: str
    schemas: set[str]
    grants: set[Need]
    # every role it creates -> what it grants that role (the task's role included)
    roles: dict[str, set[Need]] = field(default_factory=dict)


def sql_statements(text: str) -> list[str]:
    """The statements of a SQL file, comments dropped, whitespace collapsed."""
    without_comments = re.sub(r"--[^\n]*", "", text)
    return [" ".join(part.split()) for part in without_comments.split(";") if part.strip()]


def read_admin_setup(path: Path = ADMIN_SQL) -> Admin:
    statements = sql_statements(path.read_text())

    def created(kind: str) -> list[str]:
        pattern = rf"create {kind} if not exists (\S+)"
        return [upper(m[1]) for s in statements if (m := re.match(pattern, s, re.I))]

    databases, warehouses = created("database"), created("warehouse")
    # the dbt task's role: the one granted to its service user
    task_roles = [upper(m[1]) for s in statements
                  if (m := re.match(r"grant role (\S+) to user \S+$", s, re.I))]  # fmt: skip
    assert len(task_roles) == len(databases) == len(warehouses) == 1, (
        f"{path}: expected one role granted to a user, one database and one warehouse"
    )
    roles: dict[str, set[Need]] = {role: set() for role in created("role")}
    for statement in statements:
        match = re.match(r"grant (.+?) on (warehouse|database|schema|external volume|"
                         r"integration|future tables in schema|future views in schema|"
                         r"all tables in schema|all views in schema) (\S+) to role (\S+)$",
                         statement, re.I)  # fmt: skip
        if match and upper(match[4]) in roles:
            for privilege in match[1].split(","):
                need = Need(privilege.strip().upper(), match[2].upper(), qualified(match[3]))
                roles[upper(match[4])].add(need)
    role = task_roles[0]
    return Admin(role, databases[0], warehouses[0], set(map(qualified, created("schema"))),
                 roles[role], roles)  # fmt: skip


def project_vars() -> dict:
    return yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]


def marts_grants_config() -> str:
    """The `+grants` of models: sales_gold: marts: in dbt_project.yml, as written."""
    models = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["models"]
    return models["sales_gold"]["marts"]["+grants"]


def render_config(text: str, target_type: str, environ: dict[str, str]):
    """A dbt_project.yml config value as dbt renders it (native types), for a target."""

    def env_var(name: str, default: str | None = None) -> str:
        return environ.get(name, default)

    environment = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)
    return environment.from_string(text).render(
        target=SimpleNamespace(type=target_type), env_var=env_var
    )


class _Return(Exception):
    """dbt's `return()` in a macro: ends the macro with a value."""


def stage_statements(admin: Admin, macro: Path = STAGE_MACRO) -> list[str]:
    """What `dbt run-operation stage_silver_tables` sends on the prod target: the macro
    rendered with the contract's default names and a recording run_query."""
    sent: list[str] = []

    def run_query(sql: str) -> None:
        sent.append(" ".join(sql.split()))

    def dbt_return(value=None):
        raise _Return(value)

    def env_var(name: str, default: str | None = None) -> str:
        if default is None:
            raise KeyError(f"{macro}: env_var('{name}') without a default")
        return default

    context = {
        "target": SimpleNamespace(type="snowflake", database=admin.database, schema="GOLD"),
        "env_var": env_var,
        "var": project_vars().__getitem__,
        "log": lambda message, info=False: "",
        "run_query": run_query,
        "return": dbt_return,
    }
    environment = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    module = environment.from_string(macro.read_text()).make_module(context)
    with contextlib.suppress(_Return):
        module.stage_silver_tables()
    return sent


@pytest.fixture(scope="module")
def admin() -> Admin:
    return read_admin_setup()


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, admin) -> dict:
    """`dbt parse` on the prod target (no connection is opened)."""
    work = tmp_path_factory.mktemp("parse")
    env = {
        **os.environ, "DBT_TARGET": "prod", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "SNOWFLAKE_ACCOUNT": "offline", "SNOWFLAKE_USER": "offline",
        "SNOWFLAKE_DATABASE": admin.database, "SNOWFLAKE_SCHEMA": "GOLD",
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "parse",
         "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
         "--no-partial-parse"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout[-3000:]}"
    return json.loads((work / "target" / "manifest.json").read_text())


def relation(node: dict) -> str:
    return qualified(f"{node['database']}.{node['schema']}.{node.get('alias') or node['name']}")


def hook_statements(node: dict, manifest: dict, target: str) -> list[str]:
    """The DML a model's hooks run: the verbs of the project macros they call, applied
    to the model (the hooks here take `this` as their target)."""
    statements = []
    for hook in node["config"]["pre-hook"] + node["config"]["post-hook"]:
        for name in re.findall(r"\{\{\s*(\w+)\(", hook["sql"]):
            macro_sql = manifest["macros"][f"macro.sales_gold.{name}"]["macro_sql"]
            for verb in re.findall(r"\b(delete from|insert into|merge into|update)\b", macro_sql):
                statements.append(f"{verb} {target} where ...")
    return statements


def tmp_relation_type(strategy: str, unique_key) -> str:
    """dbt-snowflake's dbt_snowflake_get_tmp_relation_type for SQL models without a
    tmp_relation_type config (materializations/incremental.sql)."""
    if strategy in ("default", "merge", "append", "insert_overwrite"):
        return "view"
    return "view" if unique_key is None else "table"


def grant_statements(node: dict, target: str, *, existing: bool) -> list[str]:
    """dbt's apply_grants after a build with a `grants` config: on a relation built
    over an existing one (incremental run, should_revoke) SHOW GRANTS first, then the
    GRANTs (at most: only missing ones are granted); on a replaced one only the GRANTs
    (copy_grants is off, the replace dropped them)."""
    grants = node["config"].get("grants") or {}
    statements = [f"show grants on {target}"] if grants and existing else []
    for privilege, grantees in grants.items():
        statements.append(f"grant {privilege} on {target} to {', '.join(grantees)}")
    return statements


def dbt_statements(manifest: dict, admin: Admin) -> list[str]:
    """What dbt-snowflake runs for this project: the schema check, the relation cache,
    every model's first build, every incremental model's next run, every test's query."""
    nodes = manifest["nodes"]
    order = TopologicalSorter({key: node["depends_on"]["nodes"] for key, node in nodes.items()})
    models = [nodes[key] for key in order.static_order()
              if key in nodes and nodes[key]["resource_type"] == "model"]  # fmt: skip
    schemas = sorted({schema_of(relation(node)) for node in models})
    statements = [f"show terse schemas in database {admin.database}"]
    for schema in schemas:
        # dbt-core creates a schema only if SHOW SCHEMAS does not list it (task/runnable.py
        # create_schemas); it lists the schemas the role holds a privilege on
        visible = schema in admin.schemas and Need("USAGE", "SCHEMA", schema) in admin.grants
        if not visible:
            statements.append(f"create schema if not exists {schema}")
        statements.append(f"show objects in {schema}")
    sources = {key: qualified(f"{s['database']}.{s['schema']}.{s['name']}")
               for key, s in manifest["sources"].items()}  # fmt: skip
    relations = {node["unique_id"]: relation(node) for node in models} | sources

    def reads(node: dict) -> list[str]:
        return [f"select * from {relations[key]}" for key in node["depends_on"]["nodes"]]

    for node in models:  # first build
        target, config = relation(node), node["config"]
        kind = "view" if config["materialized"] == "view" else "transient table"
        statements += reads(node)
        statements.append(f"create or replace {kind} {target} as (select ...)")
        statements += hook_statements(node, manifest, target)
        statements += grant_statements(node, target, existing=False)
    for node in models:  # next run of the incremental models
        config = node["config"]
        if config["materialized"] != "incremental":
            continue
        target, tmp = relation(node), relation(node) + "__DBT_TMP"
        strategy = config.get("incremental_strategy") or "default"
        tmp_kind = tmp_relation_type(strategy, config.get("unique_key"))
        statements += reads(node)
        statements += [
            f"create or replace temporary {tmp_kind} {tmp} as (select ...)",
            f"describe table {tmp}",
            f"describe table {target}",
            f"alter table {target} alter column set data type varchar",
        ]
        if strategy == "merge":
            statements.append(f"merge into {target} as DBT_INTERNAL_DEST using {tmp} ...")
        elif strategy == "delete+insert":
            statements += [f"delete from {target} DBT_INTERNAL_TARGET using {tmp} ...",
                           f"insert into {target} (select * from {tmp})"]  # fmt: skip
        else:
            raise AssertionError(f"{node['original_file_path']}: no statements listed here "
                                 f"for incremental_strategy {strategy!r}")  # fmt: skip
        statements += hook_statements(node, manifest, target)
        statements += grant_statements(node, target, existing=True)
        statements.append(f"drop {tmp_kind} if exists {tmp} cascade")
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            assert not node["config"].get("store_failures"), (
                f"{node['original_file_path']}: store_failures writes an audit schema the "
                "role cannot create; grant it in admin_setup.sql and list it here"
            )
            statements += reads(node)
    return statements


def unmet_needs(statements: list[str], admin: Admin) -> list[str]:
    """'<statement>: needs <privilege>' for every privilege neither granted nor owned."""
    owned: set[str] = set()
    problems = []
    for statement in statements:
        rule, match = next(
            ((rule, m) for rule in RULES if (m := re.match(rule.pattern, statement, re.I))),
            (None, None),
        )
        if rule is None:
            problems.append(f"{statement[:120]}: no privilege rule for this statement "
                            "(add one to RULES with its Snowflake docs page)")  # fmt: skip
            continue
        name = qualified(match["obj"])
        if rule.creates:
            owned.add(name)
            if len(parts(name)) == 3 and schema_of(name) not in admin.schemas:
                problems.append(f"{statement[:120]}: schema {schema_of(name)} is not created "
                                f"by {ADMIN_SQL.name}")  # fmt: skip
        for need in rule.needs(match, admin):
            granted = need in admin.grants or (need.kind == "OBJECT" and need.name in owned)
            if not granted:
                problems.append(f"{statement[:120]}: needs {need}, which {ADMIN_SQL.name} "
                                f"does not grant to role {admin.role} ({FIX})")  # fmt: skip
    return problems


def test_admin_setup_grants_what_the_task_role_needs_to_connect(admin):
    assert Need("USAGE", "WAREHOUSE", admin.warehouse) in admin.grants
    assert Need("USAGE", "DATABASE", admin.database) in admin.grants
    assert {f"{admin.database}.SILVER", f"{admin.database}.GOLD"} <= admin.schemas


def test_the_stage_macro_needs_only_granted_privileges(admin):
    statements = stage_statements(admin)
    kinds = {" ".join(statement.split()[:3]) for statement in statements}
    assert kinds == {"create iceberg table", "alter iceberg table"}, statements
    assert unmet_needs(statements, admin) == []


def test_the_silver_tables_are_refreshed_by_the_task_only(admin):
    """auto_refresh off: the REFRESH before each build decides which snapshot it reads."""
    creates = [s for s in stage_statements(admin) if s.startswith("create iceberg table")]
    assert creates and all("auto_refresh = false" in statement for statement in creates)


def test_a_build_needs_only_granted_privileges(admin, manifest):
    statements = stage_statements(admin) + dbt_statements(manifest, admin)
    assert any(s.startswith("merge into") for s in statements), "an incremental merge is listed"
    assert unmet_needs(statements, admin) == []


def test_a_grant_missing_from_admin_setup_is_reported(admin, manifest):
    """The check itself: without CREATE TABLE on GOLD every table build is named."""
    schema = f"{admin.database}.GOLD"
    without = admin.grants - {Need("CREATE TABLE", "SCHEMA", schema)}
    reduced = Admin(admin.role, admin.database, admin.warehouse, admin.schemas, without,
                    admin.roles)  # fmt: skip
    statements = stage_statements(reduced) + dbt_statements(manifest, reduced)
    problems = unmet_needs(statements, reduced)
    assert problems and all(f"needs CREATE TABLE on SCHEMA {schema}" in p for p in problems)


# Where the installed adapter issues each statement form listed in dbt_statements: an
# upgrade that changes them must change the list (and maybe the grants) too.
ADAPTER_STATEMENTS = {
    "snowflake/macros/adapters.sql": [
        "show terse schemas in database",
        "describe table",
        "set data type",
    ],
    "snowflake/macros/metadata/list_relations_without_caching.sql": ["show objects in"],
    "snowflake/macros/relations/table/create.sql": [
        "create or replace transient table",
        "create or replace temporary table",
    ],
    "snowflake/macros/relations/view/create.sql": ["create or replace", "temporary", "view"],
    "snowflake/macros/relations/table/drop.sql": ["drop table if exists"],
    "snowflake/macros/relations/view/drop.sql": ["drop view if exists"],
    "snowflake/macros/materializations/incremental/merge.sql": ["delete from", "insert into"],
    "global_project/macros/materializations/models/incremental/merge.sql": ["merge into"],
    "snowflake/macros/materializations/incremental.sql": [
        'strategy in ("default", "merge", "append", "insert_overwrite") %} {{ return("view") }}',
    ],
    "global_project/macros/adapters/schema.sql": ["create schema if not exists"],
    "global_project/macros/adapters/apply_grants.sql": [
        "show grants on {{ relation.render() }}",
        "grant {{ privilege }} on {{ relation.render() }} to {{ grantees | join(', ') }}",
        "{% elif full_refresh_mode %}",  # should_revoke: a replaced relation is not diffed
    ],
}


@pytest.mark.parametrize("path", sorted(ADAPTER_STATEMENTS))
def test_the_listed_statements_are_the_installed_adapters(path):
    text = " ".join((ADAPTER_MACROS / path).read_text().split())
    missing = [form for form in ADAPTER_STATEMENTS[path] if form not in text]
    assert not missing, f"{path} no longer contains {missing}: update dbt_statements"


def test_the_service_user_sessions_run_in_utc():
    """dbt-snowflake passes no session parameters, and Snowflake's default zone observes
    daylight saving: the admin SQL pins the service user (the one cdk.json names) to UTC."""
    user = json.loads((PROJECT.parent / "cdk.json").read_text())["context"]["snowflake_user"]
    statements = " ".join(ADMIN_SQL.read_text().lower().split())
    assert f"alter user {user.lower()} set timezone = 'utc';" in statements


def reader_role(admin: Admin) -> str:
    """The reader role: the one admin_setup.sql creates besides the task's."""
    readers = sorted(set(admin.roles) - {admin.role})
    assert len(readers) == 1, f"{ADMIN_SQL.name}: expected one reader role, found {readers}"
    return readers[0]


def test_the_reader_role_can_read_every_gold_table(admin):
    """BI users reach gold through the reader role: the warehouse, the database, the
    schema, and SELECT on every table and view created there (the future grants), as
    well as on those that exist when the script runs."""
    reader, gold = reader_role(admin), f"{admin.database}.GOLD"
    assert {
        Need("USAGE", "WAREHOUSE", admin.warehouse),
        Need("USAGE", "DATABASE", admin.database),
        Need("USAGE", "SCHEMA", gold),
        Need("SELECT", "FUTURE TABLES IN SCHEMA", gold),
        Need("SELECT", "FUTURE VIEWS IN SCHEMA", gold),
        Need("SELECT", "ALL TABLES IN SCHEMA", gold),
        Need("SELECT", "ALL VIEWS IN SCHEMA", gold),
    } <= admin.roles[reader]
    assert {need.privilege for need in admin.roles[reader]} == {"USAGE", "SELECT"}, "read only"


def test_the_marts_grant_select_to_the_reader_on_snowflake_only(admin):
    """The config dbt renders: the reader role of admin_setup.sql by default, another
    through SNOWFLAKE_READER_ROLE, nothing on DuckDB (dbt-duckdb has no grants)."""
    config = marts_grants_config()
    assert render_config(config, "snowflake", {}) == {"select": [reader_role(admin)]}
    assert render_config(config, "snowflake", {"SNOWFLAKE_READER_ROLE": "BI"}) == {"select": ["BI"]}
    assert render_config(config, "duckdb", {}) == {}


def test_every_mart_is_granted_to_the_reader_after_each_build(admin, manifest):
    """On the prod target every mart (and only the marts) carries the grants config, so
    dbt grants SELECT after each CREATE OR REPLACE; the task's role owns the mart, so
    the grant needs nothing more from admin_setup.sql."""
    reader = reader_role(admin)
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    marts = {n["name"] for n in models if n["original_file_path"].startswith("models/marts/")}
    granted = {n["name"] for n in models if n["config"].get("grants")}
    assert marts and granted == marts
    assert all(n["config"]["grants"] == {"select": [reader]} for n in models if n["name"] in marts)
    statements = dbt_statements(manifest, admin)
    for node in models:
        if node["name"] in marts:
            assert f"grant select on {relation(node)} to {reader}" in statements
    # the ownership is what allows them: on a table the role did not create they fail
    dcl = [s for s in statements if s.startswith(("grant", "show grants"))]
    assert len(unmet_needs(dcl, admin)) == len(dcl)


def test_a_grant_to_a_role_admin_setup_does_not_create_is_reported(admin, manifest):
    """SNOWFLAKE_READER_ROLE set to a role the admin did not create: every grant fails."""
    renamed = {
        key: {**node, "config": {**node["config"], "grants": {"select": ["ANALYSTS"]}}}
        if node["config"].get("grants") else node
        for key, node in manifest["nodes"].items()
    }  # fmt: skip
    statements = stage_statements(admin) + dbt_statements({**manifest, "nodes": renamed}, admin)
    problems = unmet_needs(statements, admin)
    assert problems and all("needs CREATED on ROLE ANALYSTS" in p for p in problems)
