"""A big drop streams into the twin's S3 as a multipart upload and still starts the pipeline.

The file is copied and uploaded in parts (never read whole), the object in moto is the
file byte for byte, the events announcing a completed multipart upload start one
execution, and the progress lines say how far and how fast.
"""

from __future__ import annotations

import hashlib
import io
import json
import re

import boto3

from local_twin import uploads
from local_twin.aws_hooks import REGION
from local_twin.progress import Progress
from local_twin.twin import Twin
from local_twin.workspace import BATCH_PREFIX, RAW_BUCKET, Workspace

PART = 5 * 1024 * 1024  # S3's (and moto's) smallest part but the last


def test_a_multipart_drop_lands_whole_and_reaches_the_trigger(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MULTIPART_BYTES", PART)
    monkeypatch.setattr(uploads, "SHOW_PROGRESS_BYTES", PART)
    big = tmp_path / "big.csv"
    line = b"1,CA-2014-100006,2014-09-07,2014-09-13,Standard Class,DK-13375,x\r\n"
    big.write_bytes(b"Row ID,Order ID\r\n" + line * (2 * PART // len(line) + 1000))
    said = io.StringIO()
    workspace = Workspace.at(tmp_path / "ws")
    key = BATCH_PREFIX + big.name
    with Twin(workspace, glue_runner=lambda n, a: None, ecs_runner=lambda s: 0) as twin:
        twin.progress = Progress(stream=said)
        twin.put_raw_file(key, big)
        stored = boto3.client("s3", region_name=REGION).get_object(Bucket=RAW_BUCKET, Key=key)
        body = stored["Body"].read()
        messages = twin.trigger.receive()
        assert twin.trigger.invoke(messages) == {"batchItemFailures": []}
        started = twin.executions.arns()
        twin.executions.wait(started, dropped_at=None)
    assert hashlib.sha256(body).digest() == hashlib.sha256(big.read_bytes()).digest()
    assert stored["ETag"].strip('"').endswith("-3")  # three parts: never one whole put
    assert workspace.object_path(RAW_BUCKET, key).read_bytes() == big.read_bytes()
    # moto announces a completed multipart upload twice (S3 once, but EventBridge delivers
    # at least once): the trigger starts one execution for the one object version
    objects = {json.dumps(json.loads(m["Body"])["detail"]["object"], sort_keys=True)
               for m in messages}  # fmt: skip
    [announced] = [json.loads(o) for o in objects]
    assert announced["key"] == key and announced["size"] == big.stat().st_size
    assert len(started) == 1
    # the bar's last frame (a log, not a terminal): name, 100 %, bytes and a rate
    [last] = [line for line in said.getvalue().splitlines() if "uploading big.csv" in line]
    assert (
        "100%" in last
        and f"{big.stat().st_size / 1e6:.1f}/" in last
        and re.search(r"[\d.]+ [kMG]?B/s", last)
    )
