"""`npx --no-install cdk synth` works offline without AWS credentials and matches the tests.

The CLI runs app.py (cdk.json "app"), so this also proves `python app.py`. It is
the one extra synthesis of the session (~15-25 s): the contract with the README.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from cdk.stack import PROJECT_ROOT


@pytest.mark.skipif(shutil.which("npx") is None, reason="Node.js (npx) is not installed")
def test_cdk_cli_synth_without_credentials_matches_the_test_synthesis(synthesis, tmp_path):
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("AWS_", "CDK_"))}
    environment["AWS_EC2_METADATA_DISABLED"] = "true"  # no credential lookups on a dev box
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
         "--output", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    template_file = tmp_path / f"{synthesis.stack.stack_name}.template.json"
    cli_template = json.loads(template_file.read_text(encoding="utf-8"))
    cli_resources = set(cli_template["Resources"]) - {"CDKMetadata"}  # CLI version reporting
    assert cli_resources == set(synthesis.template["Resources"])
