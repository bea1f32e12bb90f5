"""Silver is queryable by name (Athena, Lake Formation) and maintained weekly: the stack
declares both Delta tables in the silver database as cdk/silver_catalog.py describes
them, the job may read those entries but not change them, and a weekly schedule starts
the job in maintenance mode."""

from __future__ import annotations

import json

from cdk import silver_catalog


def test_both_delta_tables_are_in_the_silver_database(synthesis):
    processing = synthesis.stack.processing
    database = synthesis.logical_id(processing.silver_database)
    found = {}
    for table in synthesis.resources("AWS::Glue::Table").values():
        properties = table["Properties"]
        assert properties["DatabaseName"] == {"Ref": database}
        found[properties["TableInput"]["Name"]] = properties["TableInput"]
    assert set(found) == set(silver_catalog.TABLES)
    for name, table_input in found.items():
        expected = silver_catalog.table_input(name, "LAKE")
        assert table_input["Parameters"] == expected["Parameters"]
        assert table_input["TableType"] == "EXTERNAL_TABLE"
        location = json.dumps(table_input["StorageDescriptor"]["Location"])
        assert f"/{silver_catalog.TABLES[name]}/" in location


def test_the_job_reads_the_catalog_entries_and_never_writes_them(synthesis):
    statements = synthesis.role_statements(synthesis.stack.processing.role)
    [catalog] = [s for s in statements if s.get("Sid") == "SilverCatalog"]
    assert set(catalog["Action"]) == {"glue:GetDatabase", "glue:GetTable", "glue:GetTables"}
    actions = json.dumps([s["Action"] for s in statements])
    assert not any(verb in actions for verb in ("glue:Create", "glue:Update", "glue:Delete"))
    assert "/*" not in json.dumps(catalog["Resource"])


def test_a_weekly_schedule_starts_the_silver_job_in_maintenance_mode(synthesis):
    [schedule] = synthesis.resources("AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    assert (
        properties["ScheduleExpression"].startswith("cron(")
        and "SUN" in properties["ScheduleExpression"]
    )
    target = properties["Target"]
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:glue:startJobRun"
    assert '\\"--source_kind\\":\\"maintenance\\"' in json.dumps(target["Input"])
    assert "MaintenanceScheduleRole" in json.dumps(target["RoleArn"])  # its own role
    statements = [
        s
        for policy in synthesis.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "MaintenanceScheduleRole" in json.dumps(policy["Properties"]["Roles"])
    ]
    assert [s["Action"] for s in statements] == ["glue:StartJobRun"]
    job = synthesis.logical_id(synthesis.stack.processing.silver_job)
    assert job in json.dumps(statements[0]["Resource"])
