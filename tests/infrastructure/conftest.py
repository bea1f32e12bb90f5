"""One CDK synthesis per test session, shared by every infrastructure test.

The app is built exactly as `cdk synth` builds it: the context of cdk.json and
the cdk-nag AwsSolutions checks (cdk.stack.build_app). Synthesizing takes ~10 s,
so all assertions read this one cloud assembly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
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
CLI_SYNTH_TEST = "test_cli_synth.py"


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

    @property
    def nag_findings(self) -> list[str]:
        return nag_findings(self.nag_report)

    def only(self, resource_type: str) -> dict[str, Any]:
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values()))


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    return json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]


def synthesize(app: App, outdir: Path, stack_name: str) -> tuple[dict, dict | None, str | None]:
    """(template, validation report or None, synthesis error or None) of one app."""
    synth_error = None
    try:
        app.synth()
    except RuntimeError as error:  # cdk-nag findings fail synthesis, as in `cdk synth`
        synth_error = str(error)
    template_file = outdir / f"{stack_name}.template.json"
    if not template_file.exists():
        pytest.fail(f"synthesis wrote no template: {synth_error}")
    template = json.loads(template_file.read_text(encoding="utf-8"))
    report_file = outdir / VALIDATION_REPORT
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return template, report, synth_error


def nag_findings(report: dict | None) -> list[str]:
    """'<rule> at <construct path>' for each violation a validation report lists."""
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in (report or {}).get("pluginReports", [])
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


@pytest.fixture(scope="session")
def synthesis(cdk_context, tmp_path_factory) -> Synthesis:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context=cdk_context, outdir=str(outdir))
    stack = build_app(app)
    template, report, synth_error = synthesize(app, outdir, stack.stack_name)
    return Synthesis(
        stack=stack,
        config=stack.config,
        outdir=outdir,
        template=template,
        assertions=Template.from_json(template),
        nag_report=report,
        synth_error=synth_error,
    )


@pytest.fixture
def nag_canary(tmp_path) -> tuple[list[str], str | None]:
    """(findings, synthesis error) of a tiny app holding one bucket with none of the
    pipeline's settings, checked and read exactly as the pipeline's synthesis is."""
    from aws_cdk import Stack
    from aws_cdk import aws_s3 as s3

    from cdk.stack import add_nag_checks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "NagCanary")
    s3.Bucket(stack, "PlainBucket")
    add_nag_checks(app)
    _, report, synth_error = synthesize(app, tmp_path, stack.stack_name)
    return nag_findings(report), synth_error


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
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("AWS_", "CDK_"))}
    environment["AWS_EC2_METADATA_DISABLED"] = "true"  # no credential lookups on a dev box
    process = subprocess.Popen(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
         "--output", str(outdir)],
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
