"""`twin rerun NAME | --last`: a new execution with an earlier execution's original input
(NAME may be a unique prefix).

What the Step Functions console's "New execution" with the same input does; the
run id inside the input is unchanged, so the Glue job and dbt reprocess it
idempotently. `--accept-quality-breach WHO` adds the release of held objects to that
input, as a user would in the console (`"accept_quality_breach": {"by": "WHO"}`).
"""

from __future__ import annotations

from local_twin import summary
from local_twin.commands._common import add_policy_options, add_workspace_option, twin_settings
from local_twin.progress import Progress, add_verbose_option
from local_twin.twin import Twin
from local_twin.workspace import Workspace


def run(args) -> int:
    if not args.last and not args.name:
        print("twin rerun: give an execution NAME (or a unique prefix), or --last")
        return 2
    workspace = Workspace.at(args.workspace)
    original = workspace.execution(None if args.last else args.name)
    with Twin(workspace, progress=Progress(verbose=args.verbose), **twin_settings(args)) as twin:
        record = twin.rerun(original, accept_quality_breach=args.accept_quality_breach)
    print(summary.render([record], workspace.duckdb_path))
    return 0 if record["status"] == "SUCCEEDED" else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser("rerun", help="rerun an execution with its original input")
    parser.add_argument(
        "name", metavar="NAME", nargs="?",
        help="execution name or a unique prefix of one (see `twin executions`)",
    )  # fmt: skip
    parser.add_argument("--last", action="store_true", help="rerun the latest execution")
    parser.add_argument(
        "--accept-quality-breach",
        metavar="WHO",
        help="load the objects the quality gate held, as they are, and record WHO released "
        "them (and when) in the run metrics",
    )
    add_workspace_option(parser)
    add_policy_options(parser)
    add_verbose_option(parser)
    parser.set_defaults(func=run)
