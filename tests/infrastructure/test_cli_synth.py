"""`npx --no-install cdk synth` works offline without AWS credentials and matches the tests.

The CLI runs app.py (cdk.json "app"), so this also proves `python app.py`. It is
the one extra synthesis of the session, started in the background at collection
time (conftest.py) so that it overlaps the in-process one.
"""

from __future__ import annotations

import json


def test_cdk_cli_synth_without_credentials_matches_the_test_synthesis(synthesis, cli_synth):
    returncode, stderr = cli_synth.wait()
    assert returncode == 0, stderr[-4000:]
    template_file = cli_synth.outdir / f"{synthesis.stack.stack_name}.template.json"
    cli_template = json.loads(template_file.read_text(encoding="utf-8"))
    cli_resources = set(cli_template["Resources"]) - {"CDKMetadata"}  # CLI version reporting
    assert cli_resources == set(synthesis.template["Resources"])
