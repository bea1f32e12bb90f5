"""A process and its descendants, read from /proc: CPU seconds and resident memory.

A Spark run is a JVM plus Python workers that it forks; what a run costs is the sum
over that tree, not the Python process that started it.
"""

from __future__ import annotations

import os
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, float, int]]:
    """pid -> (parent pid, user+system CPU seconds, resident bytes) of every process."""
    found: dict[int, tuple[int, float, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        # fields[0] is field 3 of proc(5): state; ppid 4, utime 14, stime 15, rss 24
        cpu = (int(fields[11]) + int(fields[12])) / _TICK
        found[int(entry.name)] = (int(fields[1]), cpu, int(fields[21]) * _PAGE)
    return found


def tree(root_pid: int) -> dict[int, tuple[float, int]]:
    """pid -> (CPU seconds, resident bytes) of `root_pid` and all its descendants."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu, _rss) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {}, [root_pid]
    while stack:
        pid = stack.pop()
        if pid in stats:
            found[pid] = stats[pid][1:]
        stack.extend(children.get(pid, []))
    return found


def cpu_seconds(root_pid: int) -> float:
    return sum(cpu for cpu, _rss in tree(root_pid).values())


def resident_bytes(root_pid: int) -> int:
    return sum(rss for _cpu, rss in tree(root_pid).values())
