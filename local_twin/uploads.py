"""Putting a user's file into the twin's S3 without holding it in memory.

`twin drop` of a 2.4 GB export used to read the file whole and `put_object` it: botocore
sends the body `aws-chunked` (flexible checksums), and moto rebuilds such a body by
concatenating its chunks, which is quadratic in the object's size (no progress after 11
minutes). Here the file streams through boto3's managed transfer, as `aws s3 cp` does on
AWS: a multipart upload above `MULTIPART_BYTES` (S3 announces it as "Object Created",
reason CompleteMultipartUpload, which the pipeline's rule matches like a PUT), request
checksums only where S3 requires them (no aws-chunked framing for moto to rebuild), and a
progress line with the rate every few seconds for files worth waiting on.

What stays whole in memory is moto's: completing a multipart upload joins the parts in
one buffer (docs/fidelity.md) — transient, in the twin only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MULTIPART_BYTES = 64 * 1024 * 1024
SHOW_PROGRESS_BYTES = 64 * 1024 * 1024
PROGRESS_EVERY_SECONDS = 5.0


def streaming_s3_client(region: str):
    """An S3 client that adds request checksums only where S3 requires them."""
    config = Config(request_checksum_calculation="when_required")
    return boto3.client("s3", region_name=region, config=config)


class UploadMeter:
    """boto3's transfer callback -> a progress line with bytes, share and rate."""

    def __init__(self, name: str, total: int, say: Callable[[str], None]) -> None:
        self.name, self.total, self.say = name, total, say
        self.done = 0
        self.started = self.last = time.perf_counter()
        self._lock = threading.Lock()  # the transfer calls back from its worker threads

    def __call__(self, sent: int) -> None:
        with self._lock:
            self.done += sent
            now = time.perf_counter()
            if now - self.last < PROGRESS_EVERY_SECONDS and self.done < self.total:
                return
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            self.say(
                f"uploading {self.name}: {self.done / 1e9:.2f}/{self.total / 1e9:.2f} GB "
                f"({self.done / max(self.total, 1):.0%}, {rate / 1e6:,.0f} MB/s)"
            )


def upload_file(
    path: Path, bucket: str, key: str, region: str, say: Callable[[str], None] | None = None
) -> None:
    """Stream `path` to s3://bucket/key (multipart when big), with progress when big."""
    size = path.stat().st_size
    meter = UploadMeter(path.name, size, say) if say and size >= SHOW_PROGRESS_BYTES else None
    config = TransferConfig(
        multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES, max_concurrency=2
    )
    streaming_s3_client(region).upload_file(str(path), bucket, key, Config=config, Callback=meter)
