"""What the Lambda runtime gives a function's code: its modules, a context, an event.

moto cannot run Lambda without Docker, so the twin runs the real handler in-process:
`lambdas/<name>/app.py` loaded the way the runtime loads it (the asset folder on
sys.path, so the function's modules import each other by plain name), a context
object with what Powertools reads, and SQS event-source batches shaped as Lambda's
poller builds them. The service around it (environment, polling, deleting, logs)
is lambda_service.py; tests that call a handler directly use these pieces alone.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from local_twin.paths import LAMBDAS_DIR


def _asset_folder_on_path(function: str) -> Path:
    folder = LAMBDAS_DIR / function
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return folder


def load_asset_module(function: str, name: str) -> ModuleType:
    """A module of lambdas/<function>/ by its plain name: the very module the handler imports."""
    _asset_folder_on_path(function)
    return importlib.import_module(name)


def load_handler_module(function: str) -> ModuleType:
    """Import lambdas/<function>/app.py under a unique module name."""
    folder = _asset_folder_on_path(function)
    module_name = f"lambda_{function}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class LambdaContext:
    """The attributes Powertools reads from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    """An SQS event-source batch, as Lambda's poller builds it from ReceiveMessage output."""
    now_ms = str(int(time.time() * 1000))
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", now_ms),
                    "SenderId": attributes.get("SenderId", "AIDAEVENTBRIDGE"),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", now_ms
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        )
    return {"Records": records}
