"""One CDK synthesis per test session, shared by every infrastructure test.

The app is built exactly as `cdk synth` builds it: the context of cdk.json and
the cdk-nag AwsSolutions checks (cdk.stack.build_app). Synthesizing takes ~10 s,
so all assertions read this one cloud assembly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from cdk.config import PipelineConfig
from cdk.stack import PROJECT_ROOT, SalesPipelineStack, build_app

CDK_JSON = PROJECT_ROOT / "cdk.json"
VALIDATION_REPORT = "validation-report.json"


@dataclass(frozen=True)
class Synthesis:
    stack: SalesPipelineStack
    config: PipelineConfig
    outdir: Path
    template: dict[str, Any]
    assertions: Template
    nag_report: dict[str, Any] | None  # written only when a validation plugin failed
    synth_error: str | None

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def logical_id(self, construct) -> str:
        cfn = construct.node.default_child if construct.node.default_child else construct
        return self.stack.resolve(self.stack.get_logical_id(cfn))

    def only(self, resource_type: str) -> dict[str, Any]:
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values()))


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    return json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]


@pytest.fixture(scope="session")
def synthesis(cdk_context, tmp_path_factory) -> Synthesis:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context=cdk_context, outdir=str(outdir))
    stack = build_app(app)
    synth_error = None
    try:
        app.synth()
    except RuntimeError as error:  # cdk-nag findings fail synthesis, as in `cdk synth`
        synth_error = str(error)
    template_file = outdir / f"{stack.stack_name}.template.json"
    if not template_file.exists():
        pytest.fail(f"synthesis wrote no template: {synth_error}")
    template = json.loads(template_file.read_text(encoding="utf-8"))
    report_file = outdir / VALIDATION_REPORT
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return Synthesis(
        stack=stack,
        config=stack.config,
        outdir=outdir,
        template=template,
        assertions=Template.from_json(template),
        nag_report=report,
        synth_error=synth_error,
    )
