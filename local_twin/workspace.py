"""The twin's workspace: buckets as folders, the DuckDB file and execution records.

Everything a later command needs lives here, so a second `twin drop` builds on the
first: `<workspace>/s3/<bucket>/<key>` (bronze files, Delta tables, run metrics),
`gold.duckdb`, `executions/<name>.json` and `logs/`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sales_lake import uris
from sales_lake.lake_layout import BATCH_LANDING_PREFIX, RUN_METRICS_FILE, run_key

RAW_BUCKET = "sales-raw"
LAKE_BUCKET = "sales-lake"
BATCH_PREFIX = BATCH_LANDING_PREFIX  # where `twin drop` puts files (the key layout's)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, root: Path | str, fresh: bool = False) -> Workspace:
        path = Path(root).resolve()
        if fresh and path.exists():
            if not (path / "s3").exists() and any(path.iterdir()):
                raise SystemExit(
                    f"{path} is not empty and is not a twin workspace; refusing to wipe it. "
                    "Pass --workspace with an empty or new folder."
                )
            shutil.rmtree(path)
        for sub in ("s3/" + RAW_BUCKET, "s3/" + LAKE_BUCKET, "executions", "logs"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return cls(path)

    @property
    def s3_root(self) -> Path:
        return self.root / "s3"

    @property
    def duckdb_path(self) -> Path:
        return self.root / "gold.duckdb"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def bucket_path(self, bucket: str) -> Path:
        return self.s3_root / bucket

    def object_path(self, bucket: str, key: str) -> Path:
        """The file of an object: `<workspace>/s3/<bucket>/<key>`, the key as is (`#`, `?`,
        `%`, `+` and spaces are ordinary file-name characters)."""
        return self.bucket_path(bucket) / _relative_key(key)

    def local_uri(self, uri: str) -> str:
        """s3://bucket/key -> file:///<workspace>/s3/bucket/key (other URIs unchanged).

        Only the prefix changes (`s3://` -> `file://<workspace>/s3/`): the key stays
        literal, never %-encoded, as the job reads every object URI
        (glue_jobs/sales_lake/uris.py), and equals `uris.object_uri` for the same object,
        so lineage does not depend on whether the trigger listed it inline or in a manifest.
        """
        if not uris.is_s3(uri):
            return uri
        bucket, key = uris.split_s3(uri)
        base = f"{uris.file_uri(self.s3_root)}/{bucket}"
        return f"{base}/{key}" if key else base

    def lake_uri(self) -> str:
        return self.local_uri(f"s3://{LAKE_BUCKET}")

    def run_metrics_path(self, run_id: str) -> Path:
        return self.object_path(LAKE_BUCKET, run_key(run_id, RUN_METRICS_FILE))

    def run_metrics(self, run_id: str) -> dict | None:
        path = self.run_metrics_path(run_id)
        return json.loads(path.read_text()) if path.exists() else None

    # --- execution records ---

    def save_execution(self, record: dict) -> Path:
        path = self.root / "executions" / f"{record['name']}.json"
        path.write_text(json.dumps(record, indent=2, default=str))
        return path

    def executions(self) -> list[dict]:
        records = [json.loads(p.read_text()) for p in (self.root / "executions").glob("*.json")]
        return sorted(records, key=lambda r: r.get("started_at") or "")

    def execution(self, name: str | None) -> dict:
        """The execution named `name`, or the only one whose name starts with it, or the
        latest when `name` is None; SystemExit naming the choices otherwise."""
        records = self.executions()
        if name is None and records:
            return records[-1]
        path = self.root / "executions" / f"{name}.json"
        if name is not None and path.exists():
            return json.loads(path.read_text())
        matches = [r for r in records if name is not None and r["name"].startswith(name)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            known = ", ".join(r["name"] for r in matches[-5:])
            raise SystemExit(
                f"{len(matches)} executions in {self.root} start with {name!r} ({known}): "
                "give more of the name (`twin executions` lists them)."
            )
        known = ", ".join(r["name"] for r in records[-5:]) or "none yet"
        what = "no execution yet" if name is None else f"no execution named {name!r}"
        raise SystemExit(
            f"{what} in {self.root} (recent: {known}). List them with `twin executions`."
        )


def _relative_key(key: str) -> str:
    """`key` itself when a file can stand for it; a key with an empty, `.` or `..` segment
    (`a//b`, `/a`, `../a`) would land elsewhere, so the twin refuses it instead."""
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(
            f"S3 key {key!r} has an empty, '.' or '..' segment and cannot be a file under "
            "the twin's workspace (local_twin/workspace.py): rename the object"
        )
    return key
