"""How the silver job tells the waiting state machine that its run ended.

The state machine starts the job with `.waitForTaskToken` and passes the token as the
run's `--task_token` argument (step_functions/pipeline.asl.json). The job completes it
as its very last act: SendTaskSuccess with the JobRun fields the state machine reads
(the same ones `.sync` returned), or SendTaskFailure with the one-line error of a run
that failed in a way the job can see. While the run works, a thread sends a heartbeat
every `HEARTBEAT_SECONDS`, so an execution whose job died silently fails on its
HeartbeatSeconds instead of waiting out its timeout. What the job cannot report (a
crash, a stop, a Glue timeout) the lambdas/glue_run_ended function reports from
Glue's state-change event; the first completion wins and the others are refused, and
both derive from the same run end, so an outcome never changes.

Owner of the contract: the argument name, the success output, the error names (the
function keeps copies, held to these by tests/lambdas/test_glue_run_ended.py).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

TOKEN_ARGUMENT = "--task_token"
HEARTBEAT_SECONDS = 60.0
ALREADY_COMPLETED = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
JOB_RUN_ID_ARGUMENT = "--JOB_RUN_ID"  # Glue passes the run's id to its script
T = TypeVar("T")


def success_output(job_run_id: str, execution_seconds: float) -> dict:
    """The task result of a run that succeeded: what the state machine's ResultSelector
    reads (Id, JobRunState, ExecutionTime), as Glue's GetJobRun names them."""
    return {"Id": job_run_id, "JobRunState": "SUCCEEDED", "ExecutionTime": int(execution_seconds)}


def failure_error(state: str) -> str:
    """The error name of a run that ended in `state` (FAILED, TIMEOUT, STOPPED, ERROR)."""
    return f"Glue.JobRun{state.title()}"


def failure_cause(job_run_id: str, state: str, message: str) -> str:
    message = " ".join(str(message or "no error message").split())[:500]
    return f"Glue job run {job_run_id} ended {state}: {message}"


class TaskToken:
    """The run's token and a Step Functions client; every call is a no-op without a
    token (a run started by hand or by a test)."""

    def __init__(self, token: str | None, client=None) -> None:
        self.token = token or None
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import boto3  # on Glue; locally the twin's moto

            self._client = boto3.client("stepfunctions")
        return self._client

    def report(
        self, work: Callable[[], T], job_run_id: str, heartbeat: float = HEARTBEAT_SECONDS
    ) -> T:
        """Run `work` with heartbeats, then complete the token with how it ended: its
        result is the run's (the job's last act); an exception is reported and raised."""
        clock = time.monotonic()
        try:
            with self.heartbeats(heartbeat):
                result = work()
        except Exception as error:
            self.fail(job_run_id, f"{type(error).__name__}: {error}")
            raise
        self.succeed(job_run_id, time.monotonic() - clock)
        return result

    def succeed(self, job_run_id: str, execution_seconds: float) -> str:
        output = success_output(job_run_id, execution_seconds)
        return self._send(lambda: self.client.send_task_success(
            taskToken=self.token, output=json.dumps(output)))  # fmt: skip

    @classmethod
    def of(cls, arguments: dict[str, str] | list[str]) -> tuple[TaskToken, str]:
        """(the run's token, its job run id) from Glue's arguments (a dict, or argv)."""
        if isinstance(arguments, list):
            pairs = zip(arguments, [*arguments[1:], None], strict=True)
            arguments = {name: value for name, value in pairs if name.startswith("--") and value}
        return cls(arguments.get(TOKEN_ARGUMENT)), arguments.get(JOB_RUN_ID_ARGUMENT) or "unknown"

    def fail(self, job_run_id: str, message: str) -> str:
        error, cause = failure_error("FAILED"), failure_cause(job_run_id, "FAILED", message)
        return self._send(lambda: self.client.send_task_failure(
            taskToken=self.token, error=error, cause=cause))  # fmt: skip

    def _send(self, call) -> str:
        if not self.token:
            return "no_token"
        from botocore.exceptions import ClientError

        try:
            call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ALREADY_COMPLETED:
                return "already_completed"
            return _not_sent(exc)
        except Exception as exc:  # noqa: BLE001 - e.g. no route to the endpoint
            return _not_sent(exc)
        return "completed"

    @contextlib.contextmanager
    def heartbeats(self, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
        """Send a heartbeat every `every` seconds while the block runs."""
        if not self.token:
            yield
            return
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                # A missed beat is for HeartbeatSeconds to judge, not a reason to stop.
                with contextlib.suppress(Exception):
                    self.client.send_task_heartbeat(taskToken=self.token)

        thread = threading.Thread(target=beat, name="task-token-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5)


def _not_sent(error: BaseException) -> str:
    """The job's report is the fast path, not the only one: when it cannot be sent, the
    run's end still reaches the state machine through Glue's event (and the run keeps
    the outcome its work had, instead of failing for want of a report)."""
    print(f"task token not completed by the job ({type(error).__name__}: {error}); "
          "Glue's run-ended event will complete it", file=sys.stderr)  # fmt: skip
    return "not_sent"
