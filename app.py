#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth` (reads cdk.json) or `python app.py` (same context).

Plain `python app.py` does not read cdk.json, so its context is loaded here too;
values given to the CLI with `-c key=value` still win.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aws_cdk import App

from cdk.stack import build_app

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def main() -> None:
    defaults = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    # The CLI sets CDK_OUTDIR; plain `python app.py` writes to ./cdk.out instead of
    # a temporary folder that vanishes.
    outdir = os.environ.get("CDK_OUTDIR", str(CDK_JSON.parent / "cdk.out"))
    app = App(context=defaults, outdir=outdir)
    build_app(app)
    app.synth()


if __name__ == "__main__":
    main()
