"""Small-object I/O for `file://` (local twin) and `s3://` (AWS) URIs.

Only small text objects go through here (manifests, metrics records); data goes
through Spark. One helper for both schemes keeps the job identical in both places.
boto3 is imported lazily: it is on Glue, and locally only needed for s3:// URIs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse


def join(base: str, *parts: str) -> str:
    """`join("s3://lake", "runs", "r1")` -> "s3://lake/runs/r1" (no OS separators)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def local_path(uri: str) -> Path:
    """The filesystem path of a `file://` URI (or a plain path)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path) if parsed.scheme else uri)
    raise ValueError(f"{uri!r} is not a file:// URI")


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a", "s3n"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    return parsed.netloc, parsed.path.lstrip("/")


def is_s3(uri: str) -> bool:
    return urlparse(uri).scheme in ("s3", "s3a", "s3n")


def _s3():
    import boto3

    return boto3.client("s3")


def read_text(uri: str) -> str:
    if is_s3(uri):
        bucket, key = split_s3(uri)
        return _s3().get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return local_path(uri).read_text(encoding="utf-8")


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
        return ObjectInfo(
            True, version, int(head.get("ContentLength", 0)), head.get("LastModified")
        )
    path = local_path(uri)
    if not path.is_file():
        return ObjectInfo(False)
    stat = path.stat()
    return ObjectInfo(True, None, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))


def object_version(uri: str) -> tuple[bool, str | None]:
    """(exists, version) of an object; see `object_info`."""
    info = object_info(uri)
    return info.exists, info.version


def object_uri(lake_uri: str, bucket: str, key: str) -> str:
    """URI of `bucket/key` in the same storage as the lake.

    On AWS that is `s3://bucket/key`; in the local twin every bucket is a sibling
    folder of the lake bucket (`<workspace>/s3/<bucket>/<key>`).
    """
    if is_s3(lake_uri):
        return f"s3://{bucket}/{key}"
    root = local_path(lake_uri).parent
    return (root / bucket / key).as_uri()


def spark_uri(uri: str) -> str:
    """The spelling Hadoop reads: `file:///x` with spaces, `=` and `+` literal, never
    %-encoded as `Path.as_uri()` writes them (Hadoop takes `%3D` literally). Keys like
    `year=2026/...`, `topic+0+...` and `orders 2012.csv` depend on it."""
    if uri.startswith("file:"):
        return "file:///" + unquote(uri[len("file:") :]).lstrip("/")
    return uri


def normalize(uri: str) -> str:
    """A comparable form of a URI: Spark reports `file:/x` and %-encodes, users write `file:///x`."""
    parsed = urlparse(unquote(uri))
    scheme = {"s3a": "s3", "s3n": "s3", "": "file"}.get(parsed.scheme, parsed.scheme)
    path = parsed.path if parsed.scheme else os.path.abspath(uri)
    return f"{scheme}://{parsed.netloc}{path}"
