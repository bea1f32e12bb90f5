"""`twin smoke`: after a `cdk deploy`, run one small file through the deployed pipeline.

The only twin command that talks to real AWS (and, optionally, Snowflake), with the
user's own credentials; the checks live in local_twin/smoke.py. Prints one PASS /
FAIL / SKIP line per check and exits 0 only if every check that ran passed (2 when
the options are wrong, before anything is dropped).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from local_twin import smoke
from local_twin.progress import Progress

DEFAULT_STACK = "SalesPipeline-dev"
DEFAULT_TIMEOUT_SECONDS = 900.0


def run(args) -> int:
    try:
        sample = smoke.load_sample(args.file or smoke.default_sample())
        snowflake = smoke.snowflake_settings(
            {k: getattr(args, f"snowflake_{k}") for k in smoke.SNOWFLAKE_SETTINGS},
            args.snowflake_private_key_file,
            dict(os.environ),
        )
        session = smoke.aws_session(args.profile, args.region)
    except smoke.SmokeUsageError as exc:
        print(f"twin smoke: {exc}", file=sys.stderr)
        return 2
    options = smoke.SmokeRun(
        stack=args.stack, sample=sample, timeout=args.timeout, snowflake=snowflake
    )
    checks = smoke.run_smoke(options, session, Progress())
    print("\n".join(smoke.verdict_lines(checks)))
    return smoke.exit_code(checks)


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "smoke",
        help="after `cdk deploy`: run one sample file through the deployed pipeline and check it",
        description="Drop a small sample CSV into the deployed stack's raw bucket (under "
        "landing/sales/smoke/), follow the execution it starts, check the run metrics against "
        "the file and, with Snowflake settings, the gold rows. Uses your AWS credentials "
        "(default chain, or --profile).",
    )
    parser.add_argument(
        "--stack", default=DEFAULT_STACK, help=f"stack name (default {DEFAULT_STACK})"
    )
    parser.add_argument("--region", help="the stack's region (default: your profile's)")
    parser.add_argument("--profile", help="AWS profile (default: the default credential chain)")
    parser.add_argument(
        "--file",
        type=Path,
        help="CSV to drop (default: the smallest good file of data/sample/)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for the execution to start and finish (default 900)",
    )
    snowflake = parser.add_argument_group(
        "gold check in Snowflake (optional; SNOWFLAKE_* variables as for the dbt task also work)"
    )
    for name in smoke.SNOWFLAKE_SETTINGS:
        snowflake.add_argument(f"--snowflake-{name}", metavar=name.upper())
    snowflake.add_argument(
        "--snowflake-private-key-file",
        type=Path,
        metavar="PEM",
        help="unencrypted PKCS#8 private key of that user (or the PEM in "
        "DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY, as for the dbt task, or SNOWFLAKE_PRIVATE_KEY)",
    )
    parser.set_defaults(func=run)
