"""Putting a user's file into the twin's S3 without holding it in memory.

`twin drop` of a 2.4 GB export used to read the file whole and `put_object` it: botocore
sends the body `aws-chunked` (flexible checksums), and moto rebuilds such a body by
concatenating its chunks, which is quadratic in the object's size (no progress after 11
minutes). Here the file streams through boto3's managed transfer, as `aws s3 cp` does on
AWS: a multipart upload above `MULTIPART_BYTES` (S3 announces it as "Object Created",
reason CompleteMultipartUpload, which the pipeline's rule matches like a PUT), request
checksums only where S3 requires them (no aws-chunked framing for moto to rebuild), and a
progress bar with the rate for files worth waiting on.

What stays whole in memory is moto's: completing a multipart upload joins the parts in
one buffer (docs/fidelity.md) — transient, in the twin only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from local_twin.progress import BYTES, Progress

MULTIPART_BYTES = 64 * 1024 * 1024
SHOW_PROGRESS_BYTES = 64 * 1024 * 1024


def streaming_s3_client(region: str):
    """An S3 client that adds request checksums only where S3 requires them."""
    config = Config(request_checksum_calculation="when_required")
    return boto3.client("s3", region_name=region, config=config)


class _Sent:
    """boto3's transfer callback (bytes per call, from its worker threads) -> a running
    total handed to a progress bar."""

    def __init__(self, done: Callable[[int], None]) -> None:
        self.total, self.done = 0, done
        self._lock = threading.Lock()

    def __call__(self, sent: int) -> None:
        with self._lock:
            self.total += sent
            self.done(self.total)


def upload_file(
    path: Path, bucket: str, key: str, region: str, progress: Progress | None = None
) -> None:
    """Stream `path` to s3://bucket/key (multipart when big), with a progress bar (bytes,
    share, rate, time left) when it is big enough to wait for."""
    size = path.stat().st_size
    config = TransferConfig(
        multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES, max_concurrency=2
    )
    client = streaming_s3_client(region)
    if progress is None or size < SHOW_PROGRESS_BYTES:
        client.upload_file(str(path), bucket, key, Config=config)
        return
    with progress.bar(f"uploading {path.name}", size, unit=BYTES) as done:
        client.upload_file(str(path), bucket, key, Config=config, Callback=_Sent(done))
