"""One CDK synthesis per test session, shared by every infrastructure test.

The app is built exactly as `cdk synth` builds it (the context of cdk.json and the
cdk-nag AwsSolutions checks, cdk.stack.build_app), and the same synthesis carries two
more stages, so every template the tests read comes from one `app.synth()` (~10 s):
- `NonDevStreaming`: the pipeline as a non-dev environment deploys it (data retained)
  with the streaming part enabled by its plugin context;
- `NagCanary`: one bucket with none of the pipeline's settings, which the cdk-nag
  checks must report (otherwise a clean report would prove nothing).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cdk.config import PipelineConfig
from cdk.stack import PROJECT_ROOT, SalesPipelineStack, add_pipeline_stack, build_app

CDK_JSON = PROJECT_ROOT / "cdk.json"
VALIDATION_REPORT = "validation-report.json"
CLI_SYNTH_TEST = "test_cli_synth.py"
NON_DEV_STAGE = "NonDevStreaming"
NON_DEV_CONTEXT = {
    "env_name": "prod",
    "s3SinkPluginBucket": "my-artifacts",
    "s3SinkPluginKey": "plugins/kafka-connect-s3.zip",
}
NAG_CANARY_STAGE = "NagCanary"


@dataclass(frozen=True)
class StackSynthesis:
    """One synthesized pipeline stack: the construct, its template and file, its findings."""

    stack: SalesPipelineStack
    template_file: Path
    template: dict[str, Any]
    nag_findings: list[str]

    @property
    def config(self) -> PipelineConfig:
        return self.stack.config

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def role_statements(self, role) -> list[dict[str, Any]]:
        """The statements of the IAM::Policy resources attached to `role`."""
        role_id = self.logical_id(role)
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def logical_id(self, construct) -> str:
        cfn = construct.node.default_child if construct.node.default_child else construct
        return self.stack.resolve(self.stack.get_logical_id(cfn))

    def only(self, resource_type: str) -> dict[str, Any]:
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values()))


@dataclass(frozen=True)
class Synthesis(StackSynthesis):
    """The session's synthesis: the dev stack of cdk.json, plus the other stages."""

    outdir: Path
    assertions: Template
    non_dev: StackSynthesis
    nag_canary_findings: list[str]


def nag_findings(report: dict | None, under: str = "") -> list[str]:
    """'<rule> at <construct path>' for each violation of the report under a path prefix."""
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in (report or {}).get("pluginReports", [])
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].startswith(under)
    ]


def _stack_synthesis(stack: SalesPipelineStack, outdir: Path, findings) -> StackSynthesis:
    stage = Stage.of(stack)
    folder = outdir if stage is stack.node.root else outdir / stage.artifact_id
    template_file = folder / stack.template_file
    if not template_file.exists():
        pytest.fail(f"synthesis wrote no template for {stack.node.path} ({template_file})")
    template = json.loads(template_file.read_text(encoding="utf-8"))
    return StackSynthesis(stack, template_file, template, findings)


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    return json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]


@pytest.fixture(scope="session")
def synthesis(cdk_context, tmp_path_factory) -> Synthesis:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context=cdk_context, outdir=str(outdir))
    stack = build_app(app)
    non_dev_stage = Stage(app, NON_DEV_STAGE)
    for key, value in NON_DEV_CONTEXT.items():
        non_dev_stage.node.set_context(key, value)
    non_dev_stack = add_pipeline_stack(non_dev_stage)
    canary = Stack(Stage(app, NAG_CANARY_STAGE), "Plain")
    s3.Bucket(canary, "PlainBucket")
    with contextlib.suppress(RuntimeError):  # the canary's findings fail validation
        app.synth()
    report_file = outdir / VALIDATION_REPORT
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    others = (f"{NON_DEV_STAGE}/", f"{NAG_CANARY_STAGE}/")
    main_findings = [
        finding for finding in nag_findings(report)
        if not finding.split(" at ", 1)[1].startswith(others)
    ]  # fmt: skip
    main = _stack_synthesis(stack, outdir, main_findings)
    non_dev = _stack_synthesis(non_dev_stack, outdir, nag_findings(report, f"{NON_DEV_STAGE}/"))
    return Synthesis(
        stack=stack,
        template_file=main.template_file,
        template=main.template,
        nag_findings=main_findings,
        outdir=outdir,
        assertions=Template.from_json(main.template),
        non_dev=non_dev,
        nag_canary_findings=nag_findings(report, f"{NAG_CANARY_STAGE}/"),
    )


@dataclass
class CliSynth:
    """`npx cdk synth` started in the background (see pytest_collection_modifyitems)."""

    process: subprocess.Popen
    outdir: Path

    def wait(self, timeout: float = 600) -> tuple[int, str]:
        _, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stderr


def pytest_collection_modifyitems(session, config, items):
    """Start the CLI synthesis as soon as its test is selected.

    It then runs alongside the in-process synthesis instead of after it, which
    takes ~20 s off the suite on a 2-core machine.
    """
    if shutil.which("npx") is None or not any(CLI_SYNTH_TEST in item.nodeid for item in items):
        return
    outdir = Path(tempfile.mkdtemp(prefix="cli-cdk-out-"))
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CDK_"))
    }
    environment["AWS_EC2_METADATA_DISABLED"] = "true"  # no credential lookups on a dev box
    process = subprocess.Popen(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    config.stash[_CLI_SYNTH_KEY] = CliSynth(process=process, outdir=outdir)


def pytest_unconfigure(config):
    cli = config.stash.get(_CLI_SYNTH_KEY, None)
    if cli is None:
        return
    if cli.process.poll() is None:  # its test was not run (e.g. -x stopped earlier)
        cli.process.kill()
        cli.process.communicate()
    shutil.rmtree(cli.outdir, ignore_errors=True)


_CLI_SYNTH_KEY = pytest.StashKey[CliSynth]()


@pytest.fixture(scope="session")
def cli_synth(request) -> CliSynth:
    cli = request.config.stash.get(_CLI_SYNTH_KEY, None)
    if cli is None:
        pytest.skip("Node.js (npx) is not installed")
    return cli
