"""Pure logic of the trigger function: which S3 objects are pipeline input, how
they are grouped into executions, and the deterministic execution name.

No AWS calls here, so every rule is unit-testable and the streaming ingestion can
add its own input kind by appending to INPUT_KINDS.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

# Step Functions execution names: 1-80 characters from [0-9A-Za-z_-].
MAX_NAME_LENGTH = 80
_NAME_UNSAFE = re.compile(r"[^0-9A-Za-z_-]+")

# Copies of the key layout (glue_jobs/sales_lake/lake_layout.py owns it; this function
# ships alone, without the job's library); tests/lambdas/test_layout_contract.py keeps
# them equal to the owner's.
BATCH_LANDING_PREFIX = "landing/sales/"
BATCH_FILE_SUFFIXES = (".csv", ".csv.gz")
STREAM_TOPICS_PREFIX = "topics/"
STREAM_FILE_KEY = r"^topics/[^/]+/.+/[^/]+\+\d+\+\d{10}\.json(\.gz)?$"
MANIFESTS_PREFIX = "manifests/"


def manifest_key(run_id: str) -> str:
    return f"{MANIFESTS_PREFIX}{run_id}.json"


def s3_uri(bucket: str, key: str) -> str:
    """The URI of an S3 object: the key as is, never %-encoded.

    A copy of glue_jobs/sales_lake/uris.py's `s3_uri` (this function ships alone, without
    the job's library); tests/lambdas/test_s3_uri_contract.py keeps the two identical.
    The job splits it back with `uris.split_s3`, which takes everything after the
    bucket's slash as the key, so `#`, `?`, `%`, `+` and spaces reach it unchanged.
    """
    return f"s3://{bucket}/{key}"


@dataclass(frozen=True, order=True)
class S3ObjectRef:
    """One object-created notification, key already URL-decoded."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    # Orders events on the same key (hex); not part of the object's identity.
    sequencer: str | None = field(default=None, compare=False)

    @property
    def identity(self) -> str:
        """bucket/key@version (or @etag): what makes a redelivery recognisable."""
        return f"{self.bucket}/{self.key}@{self.version_id or self.etag or ''}"

    @property
    def uri(self) -> str:
        return s3_uri(self.bucket, self.key)

    def as_manifest_entry(self) -> dict:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
        }


@dataclass(frozen=True)
class InputKind:
    """A family of input objects that one execution processes together."""

    name: str  # 'batch' | 'stream' | ... (the state machine input's `kind`)
    accepts: Callable[[str], bool]


def _is_batch_csv(key: str) -> bool:
    return key.startswith(BATCH_LANDING_PREFIX) and key.lower().endswith(BATCH_FILE_SUFFIXES)


_STREAM_FILE = re.compile(STREAM_FILE_KEY)


def _is_stream_file(key: str) -> bool:
    return bool(_STREAM_FILE.match(key))


INPUT_KINDS: list[InputKind] = [
    InputKind("batch", _is_batch_csv),
    InputKind("stream", _is_stream_file),
]


class MalformedMessage(ValueError):
    """An SQS message body that is neither an S3 EventBridge event nor an S3 notification."""


def _decode_key(raw: str) -> str:
    """The object's key from an event's `key`: S3 URL-encodes it there ('+' for a space,
    `%2B` for '+', `%25` for '%'); decoded once here, it is never decoded again."""
    return unquote_plus(raw)


def objects_in_message(body: str) -> list[S3ObjectRef]:
    """Objects announced by one SQS message body (EventBridge or S3 notification format)."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"body is not JSON ({exc}): {body[:200]!r}") from exc
    if not isinstance(payload, dict):
        raise MalformedMessage(f"body is not a JSON object: {body[:200]!r}")
    if payload.get("source") == "aws.s3" and "detail" in payload:
        if payload.get("detail-type") != "Object Created":
            return []
        detail = payload["detail"]
        obj = detail.get("object", {})
        return [
            S3ObjectRef(
                bucket=detail["bucket"]["name"],
                key=_decode_key(obj["key"]),
                version_id=obj.get("version-id"),
                etag=obj.get("etag") or obj.get("eTag"),
                size=obj.get("size"),
                sequencer=obj.get("sequencer"),
            )
        ]
    if "Records" in payload:
        refs = []
        for record in payload["Records"]:
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3 = record["s3"]
            refs.append(
                S3ObjectRef(
                    bucket=s3["bucket"]["name"],
                    key=_decode_key(s3["object"]["key"]),
                    version_id=s3["object"].get("versionId"),
                    etag=s3["object"].get("eTag"),
                    size=s3["object"].get("size"),
                    sequencer=s3["object"].get("sequencer"),
                )
            )
        return refs
    if payload.get("Event") == "s3:TestEvent":
        return []
    raise MalformedMessage(f"not an S3 object-created event: {body[:200]!r}")


def why_ignored(obj: S3ObjectRef) -> str | None:
    """The reason an object is not pipeline input, or None when it is."""
    if obj.key.endswith("/"):
        return "folder_marker"
    if obj.size == 0:
        return "zero_bytes"
    if kind_of(obj) is None:
        return "unknown_prefix_or_suffix"
    return None


def kind_of(obj: S3ObjectRef) -> str | None:
    return next((kind.name for kind in INPUT_KINDS if kind.accepts(obj.key)), None)


@dataclass(frozen=True)
class ExecutionRequest:
    """The objects of one execution and the name that de-duplicates it."""

    kind: str
    objects: tuple[S3ObjectRef, ...]

    @property
    def name(self) -> str:
        return execution_name(self.kind, self.objects)


def execution_name(kind: str, objects: Iterable[S3ObjectRef]) -> str:
    """Deterministic, readable, unique per object set: `<kind>-<first file>-<digest>`.

    The same objects (bucket, key, version/etag) in any order give the same name,
    so a redelivered or duplicated event makes StartExecution a no-op.
    """
    ordered = sorted(set(objects))
    digest = hashlib.sha256("\n".join(o.identity for o in ordered).encode()).hexdigest()[:16]
    stem = ordered[0].key.rsplit("/", 1)[-1].split(".", 1)[0] if ordered else "empty"
    stem = _NAME_UNSAFE.sub("_", stem).strip("_") or "object"
    more = f"_and_{len(ordered) - 1}" if len(ordered) > 1 else ""
    room = MAX_NAME_LENGTH - len(kind) - len(digest) - len(more) - 3
    return f"{kind}-{stem[:room]}{more}-{digest}"


def _later(a: S3ObjectRef, b: S3ObjectRef) -> S3ObjectRef:
    """The later of two events on one key: greater sequencer, else the one seen last."""
    if a.sequencer and b.sequencer and a.sequencer != b.sequencer:
        return a if int(a.sequencer, 16) > int(b.sequencer, 16) else b
    return b


def latest_versions(objects: Iterable[S3ObjectRef]) -> list[S3ObjectRef]:
    """One object per bucket/key: a key written twice in one batch is processed once, as
    it is now (its latest version), like a user expects from overwriting a file."""
    latest: dict[tuple[str, str], S3ObjectRef] = {}
    for obj in objects:
        where = (obj.bucket, obj.key)
        latest[where] = _later(latest[where], obj) if where in latest else obj
    return list(latest.values())


def group_into_executions(
    objects: Iterable[S3ObjectRef], max_objects: int = 1000
) -> list[ExecutionRequest]:
    """One execution per input kind (chunked), one version per key, order-independent."""
    by_kind: dict[str, set[S3ObjectRef]] = {}
    for obj in latest_versions(objects):
        kind = kind_of(obj)
        if kind is not None:
            by_kind.setdefault(kind, set()).add(obj)
    requests = []
    for kind in sorted(by_kind):
        ordered = sorted(by_kind[kind])
        for start in range(0, len(ordered), max_objects):
            requests.append(ExecutionRequest(kind, tuple(ordered[start : start + max_objects])))
    return requests
