"""The twin's Lambda service keeps what the trigger writes where Lambda would.

The trigger's log records and its EMF metrics (printed by Powertools) go to
<workspace>/logs/trigger.log; a print on any other thread during the invocation
still reaches the real stdout (a process-wide stdout swap would swallow it); and
the function's logger has its own handlers back once the twin closes.
"""

from __future__ import annotations

import json
import logging
import threading

from local_twin.twin import Twin
from local_twin.workspace import Workspace


def test_trigger_output_goes_to_its_log_and_other_threads_keep_stdout(tmp_path, capsys):
    workspace = Workspace.at(tmp_path / "ws")
    function_logger = None
    with Twin(workspace, glue_runner=lambda name, args: None, ecs_runner=lambda spec: 0) as twin:
        function_logger = logging.getLogger(twin.trigger.module.logger.name)
        handlers_inside = list(function_logger.handlers)
        twin.put_raw_object("landing/sales/orders.csv", b"Row ID\n1\n")
        [message] = twin.trigger.receive()
        handler = twin.trigger.module.lambda_handler

        def handler_with_a_neighbour(event, context):
            neighbour = threading.Thread(target=print, args=("printed by another thread",))
            neighbour.start()
            neighbour.join()
            print("printed by the function")
            return handler(event, context)

        twin.trigger.module.lambda_handler = handler_with_a_neighbour
        try:
            assert twin.trigger.invoke([message]) == {"batchItemFailures": []}
        finally:
            twin.trigger.module.lambda_handler = handler
        started = twin.executions.arns()
        twin.executions.wait(started, dropped_at=None)  # let the execution end inside moto
    out = capsys.readouterr().out
    log = (workspace.logs / "trigger.log").read_text()
    assert "printed by another thread" in out and "printed by another thread" not in log
    assert "printed by the function" in log and "printed by the function" not in out
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    [started_line] = [line for line in lines if line.get("message") == "execution started"]
    assert started_line["function_name"] == "sales-pipeline-trigger"  # Powertools' keys kept
    assert started_line["execution"] == started[0].rsplit(":", 1)[-1]
    [emf] = [line for line in lines if "_aws" in line]
    assert emf["ExecutionsStarted"] == [1.0] and emf["InputObjects"] == [1.0]
    assert "_aws" not in out
    # the twin's handler was the only one while open; the function's own are back after
    assert [type(h) for h in handlers_inside] == [logging.FileHandler]
    assert not any(isinstance(h, logging.FileHandler) for h in function_logger.handlers)
    assert function_logger.handlers
