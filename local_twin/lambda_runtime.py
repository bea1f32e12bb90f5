"""Run a Lambda function's real handler in-process with real-shaped events.

moto cannot run Lambda without Docker, and EventBridge cannot target Lambda in
moto, so the twin plays the Lambda service: it loads `lambdas/<name>/app.py` the
way the Lambda runtime does (the asset folder on sys.path) and feeds it SQS
event-source batches built from the messages moto delivered to the queue.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import time
import uuid
from dataclasses import dataclass
from types import ModuleType

from local_twin.paths import LAMBDAS_DIR


def load_handler_module(function: str) -> ModuleType:
    """Import lambdas/<function>/app.py under a unique module name."""
    folder = LAMBDAS_DIR / function
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
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
