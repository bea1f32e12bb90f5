"""Whole objects into Spark, one task per object, typed in the task that read them.

Both loaders read this way: `binaryFile` hands each object whole to one task and
`mapInArrow` runs the loader's per-object function (`bytes -> Arrow batches`) in that
task's Python worker, so the driver never holds data, many objects are read in
parallel, and each file's lines are parsed and typed where they are. What stays the
same for both is here: the load paths (literal keys, never globs) and the way back from
the path Spark reports to the run's source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial

import pyarrow as pa

from sales_lake.run_sources import Source
from sales_lake.uris import normalize, spark_uri

_GLOB_CHARS = "\\{}[]*?"

# (the object's source, its bytes) -> the rows it holds, in the loader's schema
PerObject = Callable[[Source, bytes], Iterator[pa.RecordBatch]]


def escape_glob(uri: str) -> str:
    """Hadoop expands `?`, `*`, `[`, `{` and `\\` in a load path as a glob, and S3 keys may
    hold them (`q?x=1.csv`): escaped, its globber reads the one object by its literal key."""
    return "".join("\\" + c if c in _GLOB_CHARS else c for c in uri)


def hadoop_paths(uris: Iterable[str]) -> list[str]:
    """The load paths that make Spark read exactly these objects (literal keys, no globs)."""
    return [escape_glob(spark_uri(uri)) for uri in uris]


def source_of(path: str, by_path: dict[str, Source]) -> Source:
    """The source (in `by_path`, keyed by `normalize`d URI) of a path Spark reports.

    Exact match only: the reported path is Hadoop's literal spelling of the URI we
    passed, so a miss means the two spellings drifted apart, never a near match to pick.
    """
    found = by_path.get(normalize(path))
    if found is None:
        raise LookupError(
            f"Spark read {path!r}, which matches no source URI of the run: "
            "uris.normalize (glue_jobs/sales_lake/uris.py) must map Hadoop's path back to it"
        )
    return found


def _object_batches(
    batches: Iterable[pa.RecordBatch], by_path: dict[str, Source], per_object: PerObject
) -> Iterator[pa.RecordBatch]:
    """The executor side: (path, content) rows of `binaryFile` -> the loader's rows."""
    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content")
        for k, path in enumerate(paths):
            yield from per_object(source_of(path, by_path), contents[k].as_py())


def read_objects(spark, sources: list[Source], per_object: PerObject, schema: str):
    """DataFrame (`schema`, a DDL string) of what `per_object` makes of each source.

    `per_object` runs in the executors, so it must be a module-level function (or a
    `partial` of one) that pickles.
    """
    if not sources:
        return spark.createDataFrame([], schema)
    by_path = {normalize(s.uri): s for s in sources}
    files = spark.read.format("binaryFile").load(hadoop_paths(s.uri for s in sources))
    return files.select("path", "content").mapInArrow(
        partial(_object_batches, by_path=by_path, per_object=per_object), schema
    )
