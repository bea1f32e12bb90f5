"""Big bronze objects through Spark as byte ranges: the three passes of byte_ranges.py.

Passes 1 and 2 are small Spark jobs (one task per range) whose results come back to the
driver (facts and date evidence: a few numbers per range); pass 3 is a DataFrame, one
partition per range, with the same rows as the whole-file reader (bronze_reader). A
task reads its range with `uris.read_range` (a ranged GET on S3), so its memory is
bounded by the range, never by the object. Whatever goes wrong with one object (a read
error, a parser bug) makes it `unreadable` and the others load, as on the whole-file path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial

import pyarrow as pa

from sales_lake import uris
from sales_lake.batch import byte_ranges
from sales_lake.batch.bronze_reader import (
    BATCH_ROWS,
    PARSED_SCHEMA,
    declared_date_order,
    record_batches,
    unreadable,
)
from sales_lake.batch.conform import date_evidence, decide_date_format
from sales_lake.dates import DateFormat
from sales_lake.load_options import LoadOptions
from sales_lake.run_sources import Source


@dataclass(frozen=True)
class RangeTask:
    source: Source
    index: int
    start: int
    end: int


def plan(
    source: Source, options: LoadOptions, head: bytes | None = None
) -> list[tuple[int, int]] | None:
    """The object's byte ranges, or None when it is not read in ranges (small, gzip,
    UTF-16/32, not plain text, or no safe cut found). `head`: its first HEAD_BYTES, if
    read already."""
    if source.size <= options.split_bytes:
        return None
    if head is None:
        head = uris.read_range(source.uri, 0, byte_ranges.HEAD_BYTES)
    if not byte_ranges.splittable_head(head):
        return None
    ranges = byte_ranges.plan_ranges(
        partial(uris.read_range, source.uri), source.size, options.split_bytes
    )
    return ranges if len(ranges) > 1 else None


def _read(task: RangeTask) -> bytes:
    return uris.read_range(task.source.uri, task.start, task.end - task.start)


def _scan(task: RangeTask):
    try:
        return task.source.index, task.index, byte_ranges.scan_range(_read(task), task.index == 0)
    except Exception as error:  # noqa: BLE001 - one object's failure, reported per object
        return task.source.index, task.index, error


def _evidence(task: RangeTask, decisions: dict[int, byte_ranges.FileDecision]):
    try:
        parsed = byte_ranges.range_parsed(_read(task), decisions[task.source.index], task.index)
        return (
            task.source.index,
            task.index,
            date_evidence(parsed.raw_records, parsed.issues, BATCH_ROWS, parsed.header),
        )
    except Exception as error:  # noqa: BLE001
        return task.source.index, task.index, error


def _plan_batches(plan: tuple) -> Iterator[pa.RecordBatch]:
    """One range's rows (pass 3), or its object's `unreadable` row if reading fails."""
    task, decision, fmt, date_order = plan
    try:
        parsed = byte_ranges.range_parsed(_read(task), decision, task.index)
        yield from record_batches(task.source.index, parsed, date_order, fmt)
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - this object's, by design
        yield unreadable(task.source, error)


def _range_batches(
    rows: Iterable[pa.RecordBatch], plans: dict[tuple[int, int], tuple]
) -> Iterator[pa.RecordBatch]:
    """Pass 3, in the executors: (source index, range index) rows -> the range's rows."""
    for batch in rows:
        for source_index, range_index in zip(
            batch.column("source_index").to_pylist(), batch.column("range_index").to_pylist(),
            strict=True,
        ):  # fmt: skip
            yield from _plan_batches(plans[(source_index, range_index)])


# (tasks, function) -> every task's (source index, range index, value)
Collect = Callable[[list[RangeTask], Callable], list[tuple[int, int, object]]]


def _in_tasks(spark, tasks: list[RangeTask], function) -> list[tuple[int, int, object]]:
    """A small Spark job, one task per range; its few values come back to the driver."""
    return spark.sparkContext.parallelize(tasks, len(tasks)).map(function).collect()


def _here(tasks: list[RangeTask], function) -> list[tuple[int, int, object]]:
    return [function(task) for task in tasks]


@dataclass
class Decided:
    """Passes 1 and 2 over the planned objects: what pass 3 reads, and what it cannot."""

    plans: dict[tuple[int, int], tuple] = field(default_factory=dict)  # -> _plan_batches
    failed: dict[int, BaseException] = field(default_factory=dict)  # source index -> error
    whole: list[Source] = field(default_factory=list)  # no header found near the start


def decide(planned, options: LoadOptions, collect: Collect, compression: str | None = None):
    """Passes 1 and 2 (`collect` runs their per-range functions: Spark tasks or here).
    `planned`: source index -> (source, its ranges); `compression`: what the objects were
    before they became these plain-text ones (the summaries say so)."""
    tasks = {
        i: [RangeTask(s, k, a, b) for k, (a, b) in enumerate(r)] for i, (s, r) in planned.items()
    }
    facts = _by_source(collect([task for group in tasks.values() for task in group], _scan))
    decided, decisions = Decided(), {}
    for index, (source, ranges) in planned.items():
        found = [facts[index][k] for k in range(len(ranges))]
        error = next((f for f in found if isinstance(f, BaseException)), None)
        if error is not None:
            decided.failed[index] = error
            continue
        decision = byte_ranges.decide_file(ranges, found, options.header_policy)
        if decision is None:
            decided.whole.append(source)
        else:
            decision.summary.compression = compression
            decisions[index] = decision
    evidence_tasks = [t for i in decisions for t in tasks[i]]
    evidence = (
        _by_source(collect(evidence_tasks, partial(_evidence, decisions=decisions)))
        if evidence_tasks
        else {}
    )
    for index, decision in decisions.items():
        source = planned[index][0]
        found = [evidence[index][k] for k in range(len(decision.ranges))]
        error = next((e for e in found if isinstance(e, BaseException)), None)
        if error is not None:
            decided.failed[index] = error
            continue
        date_order = declared_date_order(source.uri, options.date_order, source.date_order)
        fmt: DateFormat = decide_date_format([e for e in found if e] or [{}], date_order)
        for task in tasks[index]:
            decided.plans[(index, task.index)] = (task, decision, fmt, date_order)
    return decided


def _by_source(results: list[tuple[int, int, object]]) -> dict[int, dict[int, object]]:
    found: dict[int, dict[int, object]] = {}
    for source_index, range_index, value in results:
        found.setdefault(source_index, {})[range_index] = value
    return found


def read_ranges(spark, planned: dict[int, tuple[Source, list[tuple[int, int]]]], options):
    """(DataFrame of the split objects' rows in PARSED_SCHEMA, or None; the sources that
    must be read whole after all). `planned`: source index -> (source, its ranges)."""
    decided = decide(planned, options, partial(_in_tasks, spark))
    frames = []
    if decided.plans:
        keys = sorted(decided.plans)
        descriptors = spark.sparkContext.parallelize(keys, len(keys)).toDF(
            "source_index int, range_index int"
        )
        frames.append(
            descriptors.mapInArrow(partial(_range_batches, plans=decided.plans), PARSED_SCHEMA)
        )
    if decided.failed:
        rows = [unreadable(planned[i][0], error) for i, error in decided.failed.items()]
        records = [tuple(r.values()) for r in pa.Table.from_batches(rows).to_pylist()]
        frames.append(spark.createDataFrame(records, PARSED_SCHEMA))
    frame = None
    for part in frames:
        frame = part if frame is None else frame.unionByName(part)
    return frame, decided.whole


def batches_here(source: Source, ranges, options: LoadOptions, compression: str | None = None):
    """The three passes over one object's ranges in this process (a task that has the
    object as a local file: a gunzipped one): its rows as an iterator of batches, or None
    when it must be read whole after all."""
    decided = decide({source.index: (source, ranges)}, options, _here, compression)
    if decided.whole:
        return None
    if decided.failed:
        return iter([unreadable(source, decided.failed[source.index])])
    return (batch for key in sorted(decided.plans) for batch in _plan_batches(decided.plans[key]))
