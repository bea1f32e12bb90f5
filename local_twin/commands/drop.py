"""`twin drop FILE...`: drop CSV files into the local raw bucket and process them."""

from __future__ import annotations

from pathlib import Path

from local_twin import summary
from local_twin.commands._common import add_policy_options, add_workspace_option, twin_settings
from local_twin.progress import Progress, add_verbose_option
from local_twin.twin import Twin, check_input_files
from local_twin.workspace import Workspace


def run(args) -> int:
    files = [Path(f) for f in args.files]
    check_input_files(files)  # before starting anything
    workspace = Workspace.at(args.workspace)
    with Twin(workspace, progress=Progress(verbose=args.verbose), **twin_settings(args)) as twin:
        records = twin.drop(files)
    print(summary.render(records, workspace.duckdb_path))
    return 0 if all(r["status"] == "SUCCEEDED" for r in records) else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "drop", help="drop CSV files into landing/sales/ and run the pipeline on them"
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="sales CSV (.csv or .csv.gz)")
    add_workspace_option(parser)
    add_policy_options(parser)
    add_verbose_option(parser)
    parser.set_defaults(func=run)
