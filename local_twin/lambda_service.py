"""The Lambda service for one SQS-triggered function, played in-process.

moto cannot run Lambda without Docker, and EventBridge cannot target Lambda in moto,
so the twin does what AWS does around the function: sets its environment, loads its
handler as the runtime would (lambda_runtime.py), polls its queue (the event-source
mapping), calls the handler with a real-shaped SQS batch, deletes what the handler
did not report as failed (partial batch response), and keeps what the function
writes where its log group would: the records of its Powertools Logger (through a
handler owned here, on the standard `logging` logger behind it) and its stdout (the
EMF blobs Powertools Metrics prints) go to one log file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import boto3

from local_twin import thread_stdout
from local_twin.aws_hooks import REGION
from local_twin.lambda_runtime import LambdaContext, load_handler_module, sqs_event

POLL_SECONDS = 0.05


class _LogFileWriter:
    """print()'s target: text into the log handler's file, under the handler's lock."""

    def __init__(self, handler: logging.StreamHandler) -> None:
        self.handler = handler

    def write(self, text: str) -> int:
        self.handler.acquire()
        try:
            written = self.handler.stream.write(text)
            self.handler.stream.flush()
        finally:
            self.handler.release()
        return written

    def flush(self) -> None:
        self.handler.flush()


class LambdaService:
    """One function (`lambdas/<function>/`) behind one SQS queue; a context manager.

    While open, the function's environment is set and its log goes to `log_path`;
    both are put back on close.
    """

    def __init__(
        self,
        function: str,
        *,
        function_name: str,
        queue_url: str,
        queue_arn: str,
        environment: Mapping[str, str],
        log_path: Path,
    ) -> None:
        self.function_name = function_name
        self.queue_url, self.queue_arn = queue_url, queue_arn
        self.environment = dict(environment)
        self.log_path = log_path
        self._function = function
        self._stack = contextlib.ExitStack()
        self.module: ModuleType | None = None
        self._log: _LogFileWriter | None = None

    def __enter__(self) -> LambdaService:
        self._set_environment()
        self.module = load_handler_module(self._function)
        self._capture_logs()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def _set_environment(self) -> None:
        previous = {name: os.environ.get(name) for name in self.environment}
        os.environ.update(self.environment)

        def restore() -> None:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

        self._stack.callback(restore)

    def _capture_logs(self) -> None:
        """The function's logger writes to our file, in its own format, until close."""
        # Powertools' Logger is a standard logger named after the service.
        function_logger = logging.getLogger(self.module.logger.name)
        previous = list(function_logger.handlers)
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        if previous:
            # The same formatter object, so the keys Powertools appends (cold start,
            # request id, ...) appear in our lines too.
            handler.setFormatter(previous[0].formatter)
        for old in previous:
            function_logger.removeHandler(old)
        function_logger.addHandler(handler)
        self._log = _LogFileWriter(handler)

        def restore() -> None:
            function_logger.removeHandler(handler)
            handler.close()
            for old in previous:
                function_logger.addHandler(old)

        self._stack.callback(restore)

    # --- what the service does ------------------------------------------------------------

    def handle(self, event: dict) -> dict:
        """Call the handler with `event` as Lambda would: a context, stdout to the log."""
        with thread_stdout.this_thread_to(self._log):
            return self.module.lambda_handler(event, LambdaContext(self.function_name))

    def receive(self, limit: int = 100) -> list[dict]:
        """Everything on the queue now (the poller's batching window)."""
        sqs, messages = _sqs(), []
        while len(messages) < limit:
            batch = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, limit - len(messages)),
                AttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages

    def invoke(self, messages: list[dict]) -> dict:
        """Call the handler with an SQS batch; delete what it processed (like the poller)."""
        response = self.handle(sqs_event(messages, self.queue_arn))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        sqs = _sqs()
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return response

    def poll_once(self) -> dict | None:
        """One poll: the handler's response to what was waiting, None if nothing was."""
        messages = self.receive()
        return self.invoke(messages) if messages else None

    def serve_in_background(self) -> BackgroundPoller:
        """The event-source mapping on its own thread, as on AWS (a context manager)."""
        return BackgroundPoller(self)


class BackgroundPoller:
    """Polls until closed; `paused` holds it back, `errors` keeps what went wrong."""

    def __init__(self, service: LambdaService) -> None:
        self.service = service
        self.paused = threading.Event()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lambda-poller", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.paused.is_set() and self.service.poll_once() is not None:
                    continue
            except Exception as exc:  # kept for the caller: a thread has no one to raise to
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(POLL_SECONDS)

    def __enter__(self) -> BackgroundPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(10)


def _sqs():
    return boto3.client("sqs", region_name=REGION)
