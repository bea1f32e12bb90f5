"""cdk-nag AwsSolutions and cfn-lint over the one synthesized cloud assembly."""

from __future__ import annotations

import re

from aws_cdk import Validations
from cfnlint.api import ManualArgs, lint_file

from cdk.stack import PROJECT_ROOT

# W3005 flags the DependsOn the CDK adds next to a GetAtt on the same role (so the
# role's policy exists first); it is redundant but harmless and not ours to change.
CFN_LINT_IGNORED = ["W3005"]


def test_cdk_nag_reports_no_unacknowledged_finding(synthesis):
    assert synthesis.nag_findings == []
    assert synthesis.non_dev.nag_findings == []  # a non-dev environment with streaming


def test_the_nag_check_fails_on_a_non_compliant_construct(synthesis):
    """Guards the test above: the same checks, in the same synthesis, read the same way,
    report a bucket with none of the pipeline's settings (the NagCanary stage)."""
    assert any(
        finding.startswith("AwsSolutions-S1 at NagCanary/Plain/PlainBucket")
        for finding in synthesis.nag_canary_findings
    )


def _acknowledgments(synthesis):
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = []
    for construct in synthesis.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == key:
                found.append((construct.node.path, entry.data))
    return found


def test_each_acknowledgment_names_one_finding_and_gives_a_specific_reason(synthesis):
    nag = [
        (path, finding, reason)
        for path, data in _acknowledgments(synthesis)
        for finding, reason in data.items()
        if "AwsSolutions-" in finding
    ]
    assert nag, "expected the acknowledgments of cdk/nag_acknowledgments.py"
    for path, finding, reason in nag:
        assert re.search(r"AwsSolutions-[A-Z]+\d+(\[.+\])?$", finding), (path, finding)
        assert len(reason) >= 60, f"{path} {finding}: give a specific reason"
    reasons = [reason for _, _, reason in nag]
    assert len(reasons) == len(set(reasons)), "each acknowledgment needs its own reason"


def test_acknowledgments_live_in_one_module():
    pattern = re.compile(r"\.acknowledge\(")
    users = sorted(
        path.name
        for path in (PROJECT_ROOT / "cdk").glob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    )
    assert users == ["nag_acknowledgments.py"]


def test_cfn_lint_passes_on_every_synthesized_template(synthesis):
    templates = sorted(synthesis.outdir.rglob("*.template.json"))
    assert synthesis.template_file in templates and synthesis.non_dev.template_file in templates
    problems = [
        f"{match.rule.id} {match.message} ({template.name}:{match.linenumber})"
        for template in templates
        for match in lint_file(template, ManualArgs(ignore_checks=CFN_LINT_IGNORED))
    ]
    assert problems == []


# Actions that support no resource-level permissions (IAM service authorization
# reference), so `Resource: *` is the narrowest statement possible for them.
ACTIONS_WITHOUT_RESOURCE_TYPES = {
    "cloudwatch:PutMetricData",
    "ecr:GetAuthorizationToken",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
}


def test_only_resource_less_actions_are_granted_on_every_resource(synthesis):
    """The `IAM5[Resource::*]` acknowledgments cover nothing a narrower ARN could."""
    on_everything = set()
    for policy in synthesis.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement["Resource"]
            if resources == "*" or (isinstance(resources, list) and "*" in resources):
                actions = statement["Action"]
                on_everything.update([actions] if isinstance(actions, str) else actions)
    assert on_everything, "expected the logging/tracing statements the CDK adds"
    assert on_everything <= ACTIONS_WITHOUT_RESOURCE_TYPES
