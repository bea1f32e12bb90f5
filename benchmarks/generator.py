"""Benchmark the sample-data generator: rows/s, peak memory and file sizes for 1M rows.

    .venv/bin/python -m benchmarks.generator [--rows 1000000] [--files 10] [--gzip]

Peak RSS (getrusage) covers the whole process. The current RSS is sampled at every
progress tick: it stays flat while rows grow (the customer pool stops growing at 25,000
customers = 375,000 rows), which is what "streamed in constant memory" means. A short
tracemalloc run reports the Python heap peak separately.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sales_data_generator import FAULT_KINDS, write_dataset

MIXED_FAULTS = dict.fromkeys(FAULT_KINDS, 0.0005)  # 0.55% of rows, every kind


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class _Progress:
    def __init__(self, total: int):
        self.total, self.started, self.rss_samples = total, time.perf_counter(), []

    def __call__(self, done: int) -> None:
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        self.rss_samples.append((done, current_rss_mib()))
        print(f"\r  {done:>10,}/{self.total:,} rows  {rate:>9,.0f} rows/s  "
              f"RSS {self.rss_samples[-1][1]:.0f} MiB", end="", flush=True)  # fmt: skip


def _heap_peak_mib(rows: int, out: Path) -> float:
    tracemalloc.start()
    write_dataset(out, rows=rows, files=2, faults=MIXED_FAULTS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="generator-bench-") as tmp:
        print(f"generating {args.rows:,} rows in {args.files} files "
              f"({'gzip' if args.gzip else 'plain'} CSV, 0.55% mixed faults) ...")  # fmt: skip
        cpu = time.process_time()
        progress = _Progress(args.rows)
        report = write_dataset(
            Path(tmp) / "main", rows=args.rows, files=args.files, gzip=args.gzip,
            faults=MIXED_FAULTS, progress=progress,
        )  # fmt: skip
        cpu = time.process_time() - cpu
        print()
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"rows written      {report.rows_written:,}")
        print(f"wall time         {report.seconds:.1f} s  ({report.rows_per_second:,.0f} rows/s)")
        print(f"cpu time          {cpu:.1f} s  ({report.rows_written / cpu:,.0f} rows/cpu-s)")
        print(f"peak RSS          {peak_rss:.0f} MiB (whole process)")
        samples = progress.rss_samples
        tenth = next((s for s in samples if s[0] >= args.rows // 10), samples[0])
        print(f"RSS over the run  {tenth[1]:.0f} MiB at {tenth[0]:,} rows -> "
              f"{samples[-1][1]:.0f} MiB at {samples[-1][0]:,} rows")  # fmt: skip
        print(f"faults injected   {sum(report.faults.values()):,}")
        total = sum(path.stat().st_size for path in report.files)
        print(f"files             {len(report.files)}, {total / 2**20:.1f} MiB in total, "
              f"{total / max(report.rows_written, 1):.0f} bytes/row")  # fmt: skip
        for path in report.files[:3]:
            print(f"  {path.name:<32} {path.stat().st_size / 2**20:8.1f} MiB")
        heap = _heap_peak_mib(50_000, Path(tmp) / "traced")
        print(f"python heap peak  {heap:.1f} MiB for 50,000 rows (tracemalloc)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
