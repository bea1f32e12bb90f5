"""A run's source objects: what the job was asked to read, and which of it still exists.

Both loaders take the same arguments (`--manifest_uri` or `--source_uris`,
docs/contracts.md) and keep the same rules, so they are resolved here, once, before
a loader sees them: each object once (a rewritten key may be listed twice; S3 serves
its latest version, the one listed last), in listing order (a later batch file wins
a row's duplicates), and each object that is gone reported as a rejected file instead
of failing the run, so the rest still loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sales_lake import uris


@dataclass(frozen=True)
class Source:
    """One object of a run that exists, in listing order."""

    index: int
    uri: str
    version: str | None = None  # S3 version id, else ETag (manifest, else the object's own)
    size: int = 0  # bytes; zero-byte objects are reported, not read
    modified: datetime | None = None  # when the object was written: a batch row's as-of time
    # The date order the object declares in its S3 metadata (`date-order`), if any.
    date_order: str | None = None


# `aws s3 cp f.csv s3://…/landing/sales/ --metadata date-order=dmy` (docs/ingest.md)
DATE_ORDER_METADATA = "date-order"


class ManifestError(ValueError):
    """A manifest the job cannot load; the message names the file and what to change."""


def manifest_objects(manifest_uri: str, lake_uri: str, kind: str) -> list[tuple[str, str | None]]:
    """(URI, version) of each object of a manifest (docs/contracts.md, "Manifest")."""
    manifest = json.loads(uris.read_text(manifest_uri))
    listed_kind = manifest.get("kind", kind)
    if listed_kind != kind:
        raise ManifestError(
            f"manifest {manifest_uri} is kind={listed_kind!r} but the job ran with "
            f"--source_kind {kind}: start it with --source_kind {listed_kind} (the state "
            "machine passes the execution input's kind)"
        )
    objects = manifest.get("objects")
    if not isinstance(objects, list):
        raise ManifestError(f"manifest {manifest_uri} has no 'objects' list (docs/contracts.md)")
    listed = []
    for obj in objects:
        if "bucket" not in obj or "key" not in obj:
            raise ManifestError(f"manifest {manifest_uri}: object {obj} needs 'bucket' and 'key'")
        uri = uris.object_uri(lake_uri, obj["bucket"], obj["key"])
        listed.append((uri, obj.get("version_id") or obj.get("etag")))
    return listed


def requested(args: dict[str, str], kind: str) -> list[tuple[str, str | None]]:
    """(URI, version or None) of every object the run's arguments list, in order."""
    if args.get("manifest_uri"):
        return manifest_objects(args["manifest_uri"], args["lake_uri"], kind)
    if args.get("source_uris"):
        listed = (u.strip() for u in args["source_uris"].split(","))
        return [(uris.spark_uri(u), None) for u in listed if u]
    raise ValueError("pass --source_uris (comma-separated) or --manifest_uri")


def resolve_sources(
    args: dict[str, str], kind: str, how_to_reload: str
) -> tuple[list[Source], list[dict]]:
    """The run's objects that exist, and a rejected-file entry (reason `missing_object`,
    its detail ending with `how_to_reload`) for each listed object that does not."""
    latest: dict[str, tuple[str, str | None]] = {}
    for uri, version in requested(args, kind):
        latest[uris.normalize(uri)] = (uri, version)
    sources: list[Source] = []
    missing: list[dict] = []
    for uri, version in latest.values():
        info = uris.object_info(uri)
        if not info.exists:
            missing.append(
                {
                    "uri": uri,
                    "reason": "missing_object",
                    "detail": f"{uri} does not exist (deleted, expired or not yet uploaded): "
                    f"nothing was read from it; {how_to_reload}",
                }
            )
            continue
        sources.append(
            Source(len(sources), uri, version or info.version, info.size, info.modified,
                   info.metadata.get(DATE_ORDER_METADATA))
        )  # fmt: skip
    return sources, missing
