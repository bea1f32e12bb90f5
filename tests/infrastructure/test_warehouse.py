"""Warehouse box: private network, dbt Fargate task with secrets, Snowflake's reader role."""

from __future__ import annotations

import json

from cdk.warehouse import CONNECTION_FIELDS, DBT_CONTAINER_NAME


def _container(synthesis):
    task = synthesis.only("AWS::ECS::TaskDefinition")["Properties"]
    (container,) = task["ContainerDefinitions"]
    return task, container


def test_private_subnets_egress_through_nat_and_reach_s3_by_gateway(synthesis, cdk_context):
    assert len(synthesis.resources("AWS::EC2::NatGateway")) == int(cdk_context["nat_gateways"])
    endpoint = synthesis.only("AWS::EC2::VPCEndpoint")["Properties"]
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert ".s3" in json.dumps(endpoint["ServiceName"])
    flow_log = synthesis.only("AWS::EC2::FlowLog")["Properties"]
    assert flow_log["TrafficType"] == "ALL"


def test_dbt_task_runs_the_dbt_image_with_the_contract_environment(synthesis):
    task, container = _container(synthesis)
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert container["Name"] == DBT_CONTAINER_NAME
    assert "container-assets" in json.dumps(container["Image"])  # built from dbt/Dockerfile
    environment = {item["Name"]: item["Value"] for item in container["Environment"]}
    assert environment["DBT_TARGET"] == "prod"
    assert set(environment) == {"DBT_TARGET", "LAKE_URI", "RUN_ID"}
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"


def test_a_stopped_dbt_task_has_the_longest_grace_before_sigkill(synthesis):
    """StopTask or the state's timeout sends SIGTERM: dbt cancels its Snowflake queries and
    uploads its artifacts before ECS sends SIGKILL; 120 s is ECS's maximum."""
    _, container = _container(synthesis)
    assert container["StopTimeout"] == 120


def test_snowflake_settings_and_key_are_ecs_secrets(synthesis):
    _, container = _container(synthesis)
    secrets = {item["Name"]: json.dumps(item["ValueFrom"]) for item in container["Secrets"]}
    # dbt scrubs the values of DBT_ENV_SECRET_* variables from its logs
    expected = set(CONNECTION_FIELDS.values()) | {"DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"}
    assert set(secrets) == expected
    warehouse = synthesis.stack.warehouse
    key_secret = synthesis.logical_id(warehouse.private_key_secret)
    assert key_secret in secrets["DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY"]
    for field, variable in CONNECTION_FIELDS.items():
        assert f":{field}::" in secrets[variable]


def test_private_key_secret_is_a_placeholder_cdk_never_sets(synthesis):
    secret = synthesis.template["Resources"][
        synthesis.logical_id(synthesis.stack.warehouse.private_key_secret)
    ]["Properties"]
    assert "SecretString" not in secret
    assert "GenerateSecretString" in secret


def test_snowflake_role_requires_the_external_id_and_reads_silver_only(synthesis, cdk_context):
    warehouse = synthesis.stack.warehouse
    role = synthesis.template["Resources"][synthesis.logical_id(warehouse.snowflake_role)]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {
        "StringEquals": {"sts:ExternalId": cdk_context["snowflake_external_id"]}
    }
    policy = json.dumps(
        [
            p["Properties"]["PolicyDocument"]
            for p in synthesis.resources("AWS::IAM::Policy").values()
            if {"Ref": synthesis.logical_id(warehouse.snowflake_role)} in p["Properties"]["Roles"]
        ]
    )
    assert "/silver/*" in policy
    assert "PutObject" not in policy and "DeleteObject" not in policy


def test_task_security_group_allows_no_inbound_and_https_plus_certificate_checks_out(synthesis):
    """443 for Snowflake and AWS APIs; 80 for the OCSP/CRL checks of Snowflake's drivers."""
    group = synthesis.template["Resources"][
        synthesis.logical_id(synthesis.stack.warehouse.task_security_group)
    ]["Properties"]
    assert "SecurityGroupIngress" not in group
    egress = {
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"])
        for rule in group["SecurityGroupEgress"]
    }
    assert egress == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0")}
