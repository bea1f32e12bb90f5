"""One-line progress messages with elapsed time, so long runs show what they are doing."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, stream=None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)


def quiet() -> Progress:
    return Progress(enabled=False)
