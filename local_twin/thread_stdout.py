"""One thread's stdout sent to a file while every other thread keeps the real stdout.

Lambda sends what a function prints to its log group; Powertools Metrics prints its
EMF blobs, so the twin sends the invoking thread's stdout to the function's log.
contextlib.redirect_stdout would swap sys.stdout for the whole process, and a print
on any other thread meanwhile (a progress line, a test's background poller) would
land in the function's log. Here sys.stdout becomes a proxy that routes by thread:
a thread with a route writes there, every other thread to the stream it wraps.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

_installing = threading.Lock()


class ThreadRoutedStdout:
    """sys.stdout for all threads; writes from a routed thread go to its route."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._routes = threading.local()

    def route(self, target: TextIO | None) -> TextIO | None:
        """Send this thread's writes to `target` (None: the wrapped stream); the previous one."""
        previous = getattr(self._routes, "target", None)
        self._routes.target = target
        return previous

    def _target(self) -> TextIO:
        return getattr(self._routes, "target", None) or self.stream

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)  # encoding, isatty, fileno... of the real stream


def _installed() -> ThreadRoutedStdout:
    """The proxy in sys.stdout, wrapping whatever is there now if it is not the proxy.

    Installed on first use and left in place (it passes unrouted writes straight
    through); installed again around the new stream if something replaced sys.stdout
    since (pytest's capture does, per test).
    """
    with _installing:
        if not isinstance(sys.stdout, ThreadRoutedStdout):
            sys.stdout = ThreadRoutedStdout(sys.stdout)
        return sys.stdout


@contextlib.contextmanager
def this_thread_to(target: TextIO) -> Iterator[None]:
    """Route the calling thread's stdout to `target` for the block; other threads untouched."""
    proxy = _installed()
    previous = proxy.route(target)
    try:
        yield
    finally:
        proxy.route(previous)
