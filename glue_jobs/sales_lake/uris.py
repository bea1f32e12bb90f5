"""Object URIs and small-object I/O for `file://` (local twin) and `s3://` (AWS).

One spelling for every object URI, on both schemes: `<scheme>://<bucket>/<key>` with
the key written as is. Nothing after the bucket's slash is parsed or decoded: S3 keys
may hold `#`, `?`, `%`, `+` and spaces, which `urllib.parse` would take for a fragment,
a query or escapes (`s3://b/a#1.csv` is key `a#1.csv`, never `a`). It is also how
Hadoop reads a path string (no query, no fragment, no %-decoding), so the same URI
goes to boto3, to Spark and into lineage. `file://` URIs follow the same rule: the
path is literal (not %-encoded as `Path.as_uri()` writes it).

Only small text objects go through here (manifests, metrics records) and byte ranges
of big bronze objects (`read_range`, in the executors); other data goes through Spark.
One helper for both schemes keeps the job identical in both places.
boto3 is imported lazily: it is on Glue, and locally only needed for s3:// URIs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

S3_SCHEMES = ("s3", "s3a", "s3n")


def join(base: str, *parts: str) -> str:
    """`join("s3://lake", "runs", "r1")` -> "s3://lake/runs/r1" (no OS separators)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def s3_uri(bucket: str, key: str) -> str:
    """The URI of an S3 object: the key as is, never %-encoded (see the module doc).

    lambdas/trigger/pipeline_objects.py holds a copy (the trigger ships alone);
    tests/lambdas/test_s3_uri_contract.py keeps the two identical.
    """
    return f"s3://{bucket}/{key}"


def split_s3(uri: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key`: everything after the bucket's slash is the
    key, verbatim (no fragment, query or %-decoding), so `split_s3(s3_uri(b, k)) == (b, k)`."""
    scheme, sep, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if not sep or scheme not in S3_SCHEMES or not bucket:
        raise ValueError(f"{uri!r} is not an s3://bucket/key URI: write it as s3://<bucket>/<key>")
    return bucket, key


def local_path(uri: str) -> Path:
    """The filesystem path of a `file:` URI (`file:///x`, Hadoop's `file:/x`) or a plain
    path, taken literally: `file:///d/100%25.csv` is the file `100%25.csv`."""
    if not uri.startswith("file:"):
        if "://" in uri:
            raise ValueError(f"{uri!r} is not a file:// URI: pass file:///<absolute path>")
        return Path(uri)
    rest = uri[len("file:") :]
    if rest.startswith("//"):
        host, _, path = rest[2:].partition("/")
        if host not in ("", "localhost"):
            raise ValueError(f"{uri!r} names host {host!r}: pass file:///<absolute path>")
        return Path("/" + path)
    return Path(rest)


def is_s3(uri: str) -> bool:
    return uri.partition("://")[0] in S3_SCHEMES


def file_uri(path: str | Path) -> str:
    """`file://` + the absolute path, literal (the twin's and Hadoop's spelling)."""
    return "file://" + os.path.abspath(path)


def _s3():
    import boto3

    return boto3.client("s3")


def read_text(uri: str) -> str:
    if is_s3(uri):
        bucket, key = split_s3(uri)
        return _s3().get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return local_path(uri).read_text(encoding="utf-8")


def read_range(uri: str, start: int, length: int) -> bytes:
    """Bytes [start, start + length) of an object (fewer at its end): one ranged GET on
    S3, a seek locally. How the executors read a byte range of a big bronze object."""
    if length <= 0:
        return b""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        ranged = f"bytes={start}-{start + length - 1}"
        return _s3().get_object(Bucket=bucket, Key=key, Range=ranged)["Body"].read()
    with local_path(uri).open("rb") as handle:
        handle.seek(start)
        return handle.read(length)


def open_stream(uri: str) -> BinaryIO:
    """The object as a stream read front to back (one GET on S3, streamed): how a task
    reads a gzip object bigger than it may hold (batch/gzip_reader.py). Close it."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        return _s3().get_object(Bucket=bucket, Key=key)["Body"]
    return local_path(uri).open("rb")


def write_text(uri: str, text: str) -> None:
    """Write a whole object; locally via rename so readers never see half a file."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        _s3().put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))
        return
    path = local_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


@dataclass(frozen=True)
class ObjectInfo:
    exists: bool
    version: str | None = None  # S3 version id, else its ETag; locally none
    size: int = 0
    modified: datetime | None = None  # S3 LastModified / file mtime (UTC)
    # User metadata (`x-amz-meta-<name>`, names lower-case); a local file has none.
    metadata: dict[str, str] = field(default_factory=dict)


def object_info(uri: str) -> ObjectInfo:
    """What the job needs to know of a bronze object before reading it."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        client = _s3()
        try:
            head = client.head_object(Bucket=bucket, Key=key)
        except client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return ObjectInfo(False)
            raise
        version = head.get("VersionId")
        if version in (None, "null"):
            version = (head.get("ETag") or "").strip('"') or None
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        return ObjectInfo(
            True, version, int(head.get("ContentLength", 0)), head.get("LastModified"), metadata
        )
    path = local_path(uri)
    if not path.is_file():
        return ObjectInfo(False)
    stat = path.stat()
    return ObjectInfo(True, None, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))


def object_uri(lake_uri: str, bucket: str, key: str) -> str:
    """URI of `bucket/key` in the same storage as the lake.

    On AWS that is `s3://bucket/key`; in the local twin every bucket is a sibling
    folder of the lake bucket, `file://<workspace>/s3/<bucket>/<key>` with the key as
    is, as the twin itself writes it (local_twin/workspace.py), so an object's lineage
    is the same whether the run listed it inline or in a manifest.
    """
    if is_s3(lake_uri):
        return s3_uri(bucket, key)
    root = local_path(lake_uri).parent
    return f"{file_uri(root)}/{bucket}/{key}"


def spark_uri(uri: str) -> str:
    """The URI to hand Spark: object URIs are already Hadoop's literal spelling, so this
    only writes `file:` URIs one way (`file:///x`); glob characters are the reader's
    business (`binary_files.escape_glob`)."""
    if uri.startswith("file:"):
        return file_uri(local_path(uri))
    return uri


def normalize(uri: str) -> str:
    """A comparable form of an object URI, also of the path Spark reports for it
    (Hadoop's `Path.toString()`: literal, `file:/x`): `s3a://`/`s3n://` read as `s3://`,
    `file:` URIs and plain paths as `file:///<absolute path>`. Nothing is decoded, so
    `a+b.csv` and `a%2Bb.csv` stay two objects."""
    if is_s3(uri):
        return s3_uri(*split_s3(uri))
    return file_uri(local_path(uri))
