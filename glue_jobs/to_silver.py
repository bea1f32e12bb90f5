"""Glue job entry script: the ONE silver writer job, dispatching on --source_kind.

Why one job: Delta on S3 supports one writing driver per table, and both loaders
write silver/sales and silver/quarantine. Two Glue jobs (one per loader) could run
at the same time; one job with MaxConcurrentRuns=1 and job-run queuing makes Glue
itself queue every silver writer, batch or stream (docs/orchestration.md).

Arguments: --source_kind batch|stream, then the loader's own arguments (--run_id,
--lake_uri, --manifest_uri | --source_uris; docs/contracts.md). The loaders
(batch_to_silver.py, stream_to_silver.py) ship next to `sales_lake` in the
--extra-py-files zip (cdk/processing.py), so they import as top-level modules on
Glue and locally (glue_jobs/ is on sys.path when this file runs):

    .venv/bin/python glue_jobs/to_silver.py --source_kind stream --run_id r1 \
        --lake_uri file:///tmp/lake --manifest_uri file:///tmp/lake/manifests/r1.json
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

SOURCE_KIND_ARG = "--source_kind"
# source kind -> (loader module, its `run_*(spark, args)` entry point)
LOADERS = {
    "batch": ("batch_to_silver", "run_batch"),
    "stream": ("stream_to_silver", "run_stream"),
}


class SourceKindError(ValueError):
    """--source_kind is missing or names no loader; the message says what to pass."""


def _checked(kind: str | None) -> str:
    if kind not in LOADERS:
        raise SourceKindError(
            f"{SOURCE_KIND_ARG} is {kind!r}: pass one of {sorted(LOADERS)} "
            "(the state machine sets it from the execution input's `kind`)"
        )
    return kind


def split_source_kind(argv: list[str]) -> tuple[str, list[str]]:
    """(source kind, argv without it): the loaders' parsers do not know the argument."""
    rest: list[str] = []
    kind = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == SOURCE_KIND_ARG:
            kind = argv[i + 1] if i + 1 < len(argv) else None
            i += 2
            continue
        if arg.startswith(SOURCE_KIND_ARG + "="):
            kind = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return _checked(kind), rest


def loader(kind: str) -> Callable:
    """The loader's `run_*(spark, args) -> metrics` for a source kind."""
    module_name, entry = LOADERS[_checked(kind)]
    return getattr(importlib.import_module(module_name), entry)


def run_silver(spark, args: dict[str, str]) -> dict:
    """In-process entry (local twin): `args` holds `source_kind` plus the loader's args."""
    kind = args.get("source_kind")
    loader_args = {k: v for k, v in args.items() if k != "source_kind"}
    return loader(kind)(spark, loader_args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    kind, loader_argv = split_source_kind(argv)
    module = importlib.import_module(LOADERS[kind][0])
    return module.main(loader_argv)


if __name__ == "__main__":
    sys.exit(main())
