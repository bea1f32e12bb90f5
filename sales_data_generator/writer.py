"""write_dataset: stream generated rows to landing-style CSV files, with faults on request.

Streaming: one row at a time goes from the generator to the file, so memory stays
constant whatever `rows` is; duplicates come from a bounded reservoir of earlier rows.
Deterministic: the same arguments give byte-identical files (gzip without timestamps).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sales_data_generator.faults import (
    FaultPicker,
    Injection,
    inject_field_fault,
    latin1_line,
    malformed_line,
    validate_rates,
)
from sales_data_generator.files import CsvFile, file_index_for_day, file_start_days
from sales_data_generator.formatting import (
    LineRenderer,
    canonical_fields,
    date_formatter,
    header_columns,
)
from sales_data_generator.orders import OrderSettings, OrderStream
from sales_data_generator.sidecars import (
    CHANGES_SIDECAR,
    FAULTS_SIDECAR,
    FaultLog,
    write_changes,
)

DEFAULT_DAYS = 1461  # four years, like Global Superstore's 2012-2015
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1")
RESERVOIR_SIZE = 1024
PROGRESS_EVERY = 50_000


@dataclass
class GenerationReport:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    rows_written: int = 0  # data lines, duplicates included (what a reader counts as read)
    faults: Counter = field(default_factory=Counter)  # injected faults per kind
    next_row_id: int = 1  # first_row_id for a follow-up batch
    customer_moves: int = 0  # moves with rows on both sides of the change date (simple)
    segment_changes: int = 0  # segment changes with rows on both sides of the change date
    product_renames: int = 0  # renames with rows on both sides of the change date
    shared_product_ids: int = 0  # product IDs with rows under two names or more
    dual_label_cities: int = 0  # cities with orders under both of their labels
    rows_missing_geography: int = 0  # lines with blank city, state, country, postal code
    bytes_written: int = 0
    seconds: float = 0.0
    sidecar_prefix: str = ""  # "<name>." when the file was given an exact name

    @property
    def faults_path(self) -> Path:
        return self.out_dir / (self.sidecar_prefix + FAULTS_SIDECAR)

    @property
    def changes_path(self) -> Path:
        return self.out_dir / (self.sidecar_prefix + CHANGES_SIDECAR)

    @property
    def rows_per_second(self) -> float:
        return self.rows_written / self.seconds if self.seconds else 0.0


@dataclass
class _Reservoir:
    """A bounded uniform sample of earlier clean rows (Algorithm R), source of duplicates."""

    rng: random.Random
    items: list = field(default_factory=list)
    seen: int = 0

    def offer(self, item) -> None:
        self.seen += 1
        if len(self.items) < RESERVOIR_SIZE:
            self.items.append(item)
        else:
            slot = int(self.rng.random() * self.seen)
            if slot < RESERVOIR_SIZE:
                self.items[slot] = item

    def pick(self):
        return self.rng.choice(self.items) if self.items else None


@dataclass(frozen=True)
class _Output:
    """Where and how files are written."""

    out_dir: Path
    prefix: str
    name: str | None
    gzip: bool
    encoding: str
    crlf: bool
    start_date: date
    starts: list[int]  # first day index of each file

    @property
    def suffix(self) -> str:
        return ".csv.gz" if self.gzip else ".csv"

    def path(self, index: int) -> Path:
        first_day = self.start_date + timedelta(days=self.starts[index])
        return self.out_dir / (
            self.name or f"{self.prefix}_{first_day.isoformat()}_{index + 1:04d}{self.suffix}"
        )


class _DatasetWriter:
    """The write loop: one slot per data line, each slot a clean row, a fault or a duplicate."""

    def __init__(self, output, renderer, stream, rates, seed, date_format, report, log):
        self.output, self.renderer, self.stream = output, renderer, stream
        self.report, self.log = report, log
        self.date_format, self.format_date = date_format, date_formatter(date_format)
        self.fault_rng = random.Random(f"{seed}:faults")
        self.picker = FaultPicker(rates, self.fault_rng)
        self.reservoir = _Reservoir(self.fault_rng) if "duplicate" in rates else None
        self.pending_encoding = 0  # encoding faults drawn on rows without a Latin-1 character
        self.file_index = 0
        self.current = self._open(0)

    def _open(self, index: int) -> CsvFile:
        path = self.output.path(index)
        self.report.files.append(path)
        return CsvFile(path, gzip=self.output.gzip, encoding=self.output.encoding,
                       crlf=self.output.crlf, header=self.renderer.header_line())  # fmt: skip

    def _advance_to(self, index: int) -> None:
        """Close files until `index` is open (day ranges without rows still get a file)."""
        while self.file_index < index:
            self.report.bytes_written += self.current.close()
            self.file_index += 1
            self.current = self._open(self.file_index)

    def finish(self) -> None:
        self._advance_to(len(self.output.starts) - 1)
        self.report.bytes_written += self.current.close()

    def _record(self, injection: Injection, row_id: int, line: int, **extra) -> None:
        self.log.record(self.current.name, line, injection, row_id, **extra)

    def write_slot(self, day: int) -> None:
        kind = self.picker.draw()
        if kind == "duplicate":
            if self._write_duplicate():
                return
            kind = None  # nothing earlier to copy yet
        if not self.stream.order_open:  # a new order may start a new day range
            self._advance_to(file_index_for_day(self.output.starts, day, self.file_index))
        order_line = self.stream.next_line(day)
        fields = canonical_fields(order_line, self.format_date)
        if (kind == "encoding" or (kind is None and self.pending_encoding)) and (
            self._write_encoding_fault(kind, fields, order_line.row_id)
        ):
            return
        if kind in (None, "encoding"):
            line = self.current.write_text(self.renderer.render(fields))
            if self.reservoir is not None:
                self.reservoir.offer((self.current.name, line, order_line.row_id, fields))
        elif kind == "malformed":
            text, injection = malformed_line(fields, self.renderer, self.fault_rng)
            self._record(injection, order_line.row_id, self.current.write_text(text))
        else:
            injection = inject_field_fault(kind, fields, order_line, self.renderer.columns,
                                           self.date_format, self.format_date,
                                           self.fault_rng)  # fmt: skip
            text = self.renderer.render_all_quoted(fields)
            self._record(injection, order_line.row_id, self.current.write_text(text))

    def _write_duplicate(self) -> bool:
        original = self.reservoir.pick() if self.reservoir is not None else None
        if original is None:
            return False
        source_file, source_line, row_id, fields = original
        line = self.current.write_text(self.renderer.render(fields))
        detail = f"exact copy of {source_file} line {source_line}"
        self._record(Injection("duplicate", None, detail), row_id, line,
                     original_file=source_file, original_line=source_line)  # fmt: skip
        return True

    def _write_encoding_fault(self, kind: str | None, fields: list[str], row_id: int) -> bool:
        """Latin-1 bytes in one field; a row without such a character defers the fault."""
        encoded = latin1_line(fields, self.renderer)
        if encoded is None:
            self.pending_encoding += kind == "encoding"
            return False
        self.pending_encoding -= kind is None
        data, injection = encoded
        self._record(injection, row_id, self.current.write_bytes(data))
        return True


def write_dataset(
    out_dir,
    *,
    rows: int,
    files: int = 1,
    seed: int = 42,
    date_format: str = "dmy",
    gzip: bool = False,
    faults: dict[str, float] | None = None,
    encoding: str = "utf-8",
    header: str = "global",
    changes: bool = True,
    start_date: date = date(2012, 1, 1),
    days: int | None = None,
    first_row_id: int = 1,
    crlf: bool = False,
    fine_money: bool = False,
    simple: bool = False,
    prefix: str = "sales",
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> GenerationReport:
    """Write `rows` data lines over `files` CSV files in order-date order.

    rows: data lines, duplicates included; Row IDs run from `first_row_id` (a duplicate
      repeats an earlier row and takes no new id; `report.next_row_id` chains batches).
    files/days: the order dates cover `days` days from `start_date` (default four years);
      file k holds the k-th equal day range, named `<prefix>_<first day>_<k:04d>.csv[.gz]`.
    date_format: iso 2012-07-31 | dmy 31/07/2012 | dmy-dash 31-07-2012 | mdy 7/31/2012.
    encoding: utf-8 | utf-8-sig (BOM) | latin-1; crlf: CRLF line endings; gzip: .csv.gz.
    fine_money: sales with 5 decimals and profit with 10 (floating-point exports do).
    header: global (24 columns) | sample-superstore (21 columns, a file to reject).
    faults: {kind: share of rows}, kinds in FAULT_KINDS, at most one fault per row;
      each is listed in faults.jsonl with its physical line.
    changes: dated changes mid-period, listed in changes.jsonl: ~5% of customers change
      segment once and ~5% of products are renamed once (simple: ~10% of customers move).
    simple: the earlier shapes. By default (simple=False), as in a real export, each order
      ships to one of its customer's 3-20 ship-to places over 1-3 markets; ~4% of product
      IDs are shared by 2-4 names at the same time (each line picks one); ~1.5% of cities
      carry two (market, region) labels (each order picks one); ~0.5% of orders have blank
      city/state/country/postal code. These shapes stay on with changes=False and are
      listed in changes.jsonl too. simple=True: one address per customer (with changes, a
      move), one name per product ID, one label per city, no blank geography.
    name: an exact name for a single file (e.g. "sales_with_bad_rows.csv"); its sidecars
      are then "<stem>.faults.jsonl" / "<stem>.changes.jsonl", so named files share a folder.
    progress: called with the rows done every 50,000 rows.
    """
    started = time.perf_counter()
    days = DEFAULT_DAYS if days is None else days
    _check_arguments(rows, files, days, encoding, first_row_id, name, gzip)
    date_formatter(date_format)  # fail on an unknown format before touching the disk
    renderer = LineRenderer(header_columns(header))
    rates = validate_rates(faults, encoding)
    output = _Output(Path(out_dir), prefix, name, gzip, encoding, crlf, start_date,
                     file_start_days(files, days))  # fmt: skip
    output.out_dir.mkdir(parents=True, exist_ok=True)
    report = GenerationReport(
        out_dir=output.out_dir,
        sidecar_prefix=name.removesuffix(output.suffix) + "." if name else "",
    )
    stream = OrderStream(
        OrderSettings(rows, seed, start_date, days, changes, first_row_id, fine_money, simple)
    )
    log = FaultLog(report.faults_path)
    try:
        writer = _DatasetWriter(output, renderer, stream, rates, seed, date_format, report, log)
        for slot in range(rows):
            if progress is not None and slot and slot % PROGRESS_EVERY == 0:
                progress(slot)
            writer.write_slot(slot * days // rows)
        writer.finish()
    finally:
        log.close()
    report.faults = log.counts
    report.rows_written = rows
    report.next_row_id = stream.next_row_id
    visible = write_changes(report.changes_path, stream)
    report.customer_moves, report.segment_changes = visible["move"], visible["segment"]
    report.product_renames, report.shared_product_ids = visible["rename"], visible["shared"]
    report.dual_label_cities = visible["dual_label"]
    report.rows_missing_geography = stream.missing_geography["rows"]
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(rows)
    return report


def _check_arguments(rows, files, days, encoding, first_row_id, name, gzip) -> None:
    if rows < 0:
        raise ValueError(f"rows={rows}: pass a number of rows >= 0")
    if files < 1:
        raise ValueError(f"files={files}: pass at least 1 file")
    if days < files:
        raise ValueError(f"days={days} < files={files}: each file covers at least one day")
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    if first_row_id < 1:
        raise ValueError(f"first_row_id={first_row_id}: Row IDs start at 1 or more")
    suffix = ".csv.gz" if gzip else ".csv"
    if name is not None and (files != 1 or not name.endswith(suffix) or "/" in name):
        raise ValueError(
            f"name={name!r}: an exact name needs files=1 and a plain file name ending in {suffix}"
        )
