"""What long twin commands show while they work (on stderr, through Rich).

Three kinds of output, so a default run stays short and a slow one still says why:
- milestones (`progress("...")`): one line each, with the elapsed time; always shown;
- detail (`progress.detail("...")`): every state an execution enters, heartbeats; only
  with `-v` (`verbose=True`);
- live lines: `bar()` for work of known size (bytes uploaded, rows generated, events
  produced: share, rate and time left) and `states()` for executions (current state and
  time in it). On a terminal they redraw in place; in a log (no terminal) Rich prints
  only their last frame, once, so CI logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    ProgressColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as Bars
from rich.text import Text

BYTES = "bytes"
LOG_WIDTH = 120


class RateColumn(ProgressColumn):
    """Items per second, e.g. '52,130 rows/s'."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed  # Rich's, over its recent samples
        if speed is None and task.elapsed:
            speed = task.completed / task.elapsed  # too quick for samples: the average
        if speed is None:
            return Text("")
        if self.unit == BYTES:
            return Text(f"{filesize.decimal(int(speed))}/s")
        return Text(f"{speed:,.0f} {self.unit}/s")


class Progress:
    def __init__(self, stream=None, enabled: bool = True, verbose: bool = False) -> None:
        self.console = Console(file=stream or sys.stderr, highlight=False, soft_wrap=True)
        if not self.console.is_terminal:
            self.console.width = LOG_WIDTH  # a log: one line per bar, not Rich's 80 columns
        self.enabled, self.verbose = enabled, verbose
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        """A milestone: always shown."""
        if self.enabled:
            elapsed = time.perf_counter() - self.started
            self.console.print(f"[{elapsed:6.1f}s] {message}", markup=False)

    def detail(self, message: str) -> None:
        """A step inside a milestone: shown with -v."""
        if self.verbose:
            self(message)

    @contextmanager
    def bar(self, description: str, total: int, unit: str = "rows") -> Iterator[Callable]:
        """A progress bar; yields `done(n)` to call with the amount done so far (thread-safe)."""
        if not self.enabled:
            yield lambda done: None
            return
        if unit == BYTES:
            columns = (DownloadColumn(), RateColumn(unit))
        else:
            columns = (TextColumn("{task.completed:,.0f}/{task.total:,.0f}"), RateColumn(unit))
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), *columns,
                   TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
        with Bars(*columns, console=self.console) as bars:
            task = bars.add_task(description, total=total)
            yield lambda done: bars.update(task, completed=done)

    @contextmanager
    def states(self) -> Iterator[Callable[[str, str], None]]:
        """Live lines, one per key (an execution), each showing its current text and the
        time since the key first appeared; yields `show(key, text)`. Drawn on a terminal
        only (they vanish when done, and a log keeps the milestones); with -v the detail
        lines say the same."""
        if not self.enabled or self.verbose or not self.console.is_terminal:
            yield lambda key, text: None
            return
        with Bars(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=self.console, transient=True) as lines:  # fmt: skip
            tasks: dict[str, int] = {}

            def show(key: str, text: str) -> None:
                if key not in tasks:
                    tasks[key] = lines.add_task(text, total=None)
                lines.update(tasks[key], description=text)

            yield show


def quiet() -> Progress:
    return Progress(enabled=False)


def add_verbose_option(parser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="print every state each execution enters (default: a live line per execution)",
    )  # fmt: skip
