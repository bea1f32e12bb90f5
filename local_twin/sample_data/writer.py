"""write_dataset: stream generated rows to landing-style CSV files, with faults on request.

Streaming: one row at a time goes from the generator to the file, so memory stays
constant whatever `rows` is; duplicates come from a bounded reservoir of earlier rows.
Deterministic: the same arguments give byte-identical files (gzip without timestamps).
"""

from __future__ import annotations

import gzip as gzip_module
import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from local_twin.sample_data.faults import (
    FaultPicker,
    Injection,
    inject_field_fault,
    latin1_line,
    malformed_line,
    validate_rates,
)
from local_twin.sample_data.formatting import (
    LineRenderer,
    canonical_fields,
    date_formatter,
    header_columns,
)
from local_twin.sample_data.orders import OrderSettings, OrderStream

DEFAULT_DAYS = 1461  # four years, like Global Superstore's 2012-2015
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1")
RESERVOIR_SIZE = 1024
PROGRESS_EVERY = 50_000
FAULTS_SIDECAR = "faults.jsonl"
CHANGES_SIDECAR = "changes.jsonl"


@dataclass
class GenerationReport:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    rows_written: int = 0  # data lines, duplicates included (what a reader counts as read)
    faults: Counter = field(default_factory=Counter)  # injected faults per kind
    next_row_id: int = 1  # first_row_id for a follow-up batch
    customer_moves: int = 0  # moves with rows on both sides of the change date
    product_renames: int = 0  # renames with rows on both sides of the change date
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


class _CsvFile:
    """One output file: encoding, BOM, line endings and optional gzip, tracked by line."""

    def __init__(self, path: Path, *, gzip: bool, encoding: str, newline: str, header: str):
        self.path = path
        self.name = path.name
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._stream = (
            gzip_module.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=6
            )  # fmt: skip
            if gzip
            else self._raw
        )
        self._encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self._newline = newline.encode("ascii")
        self._buffer = io.BytesIO()
        if encoding == "utf-8-sig":
            self._buffer.write(b"\xef\xbb\xbf")
        self.line = 0  # physical line number of the last line written
        self.write_text(header)

    def write_text(self, text: str) -> int:
        return self.write_bytes(text.encode(self._encoding))

    def write_bytes(self, data: bytes) -> int:
        self._buffer.write(data)
        self._buffer.write(self._newline)
        if self._buffer.tell() > 1 << 20:
            self._flush()
        self.line += 1
        return self.line

    def _flush(self) -> None:
        self._stream.write(self._buffer.getvalue())
        self._buffer = io.BytesIO()

    def close(self) -> int:
        self._flush()
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()
        return self.path.stat().st_size


def file_start_days(files: int, days: int) -> list[int]:
    """First day index of each file's day range (file k covers [start_k, start_k+1))."""
    return [-(-k * days // files) for k in range(files)]


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
    header: global (24 columns) | sample-superstore (21 columns, a file to reject).
    faults: {kind: share of rows}, kinds in FAULT_KINDS, at most one fault per row;
      each is listed in faults.jsonl with its physical line.
    changes: customers move and products are renamed mid-period (listed in changes.jsonl).
    name: an exact name for a single file (e.g. "sales_with_bad_rows.csv"); its sidecars
      are then "<stem>.faults.jsonl" / "<stem>.changes.jsonl", so named files share a folder.
    progress: called with the rows done every 50,000 rows.
    """
    started = time.perf_counter()
    days = DEFAULT_DAYS if days is None else days
    _check_arguments(rows, files, days, encoding, first_row_id)
    suffix = ".csv.gz" if gzip else ".csv"
    if name is not None and (files != 1 or not name.endswith(suffix) or "/" in name):
        raise ValueError(
            f"name={name!r}: an exact name needs files=1 and a plain file name ending in {suffix}"
        )
    format_date = date_formatter(date_format)
    renderer = LineRenderer(header_columns(header))
    rates = validate_rates(faults, encoding)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    fault_rng = random.Random(f"{seed}:faults")
    picker = FaultPicker(rates, fault_rng)
    reservoir = _Reservoir(fault_rng) if "duplicate" in rates else None
    stream = OrderStream(OrderSettings(rows, seed, start_date, days, changes, first_row_id))
    report = GenerationReport(
        out_dir=out_dir, sidecar_prefix=name.removesuffix(suffix) + "." if name else ""
    )
    starts = file_start_days(files, days)

    def open_file(index: int) -> _CsvFile:
        first_day = start_date + timedelta(days=starts[index])
        path = out_dir / (name or f"{prefix}_{first_day.isoformat()}_{index + 1:04d}{suffix}")
        report.files.append(path)
        return _CsvFile(path, gzip=gzip, encoding=encoding, newline="\r\n" if crlf else "\n",
                        header=renderer.header_line())  # fmt: skip

    file_index, current = 0, open_file(0)
    pending_encoding = 0  # encoding faults drawn on rows without a Latin-1 character
    with open(report.faults_path, "w", encoding="utf-8", newline="\n") as sidecar:

        def record(injection: Injection, row_id: int, line: int, extra: dict | None = None):
            report.faults[injection.kind] += 1
            entry = {
                "file": current.name,
                "line": line,
                "kind": injection.kind,
                "row_id": row_id,
                "field": injection.field,
                "detail": injection.detail,
            }
            sidecar.write(json.dumps(entry | (extra or {}), ensure_ascii=False) + "\n")

        for slot in range(rows):
            if progress is not None and slot and slot % PROGRESS_EVERY == 0:
                progress(slot)
            kind = picker.draw()
            if kind == "duplicate" and reservoir is not None:
                original = reservoir.pick()
                if original is not None:
                    src_file, src_line, row_id, fields = original
                    line = current.write_text(renderer.render(fields))
                    detail = f"exact copy of {src_file} line {src_line}"
                    record(
                        Injection("duplicate", None, detail),
                        row_id,
                        line,
                        {"original_file": src_file, "original_line": src_line},
                    )
                    continue
                kind = None
            if not stream.order_open:
                target = starts_index(starts, slot * days // rows)
                while file_index < target:
                    report.bytes_written += current.close()
                    file_index += 1
                    current = open_file(file_index)
            order_line = stream.next_line(slot * days // rows)
            fields = canonical_fields(order_line, format_date)
            if kind == "encoding" or (kind is None and pending_encoding):
                encoded = latin1_line(fields, renderer)
                if encoded is None:
                    pending_encoding += kind == "encoding"
                    kind = None
                else:
                    pending_encoding -= kind is None
                    data, injection = encoded
                    record(injection, order_line.row_id, current.write_bytes(data))
                    continue
            if kind is None:
                line = current.write_text(renderer.render(fields))
                if reservoir is not None:
                    reservoir.offer((current.name, line, order_line.row_id, fields))
            elif kind == "malformed":
                text, injection = malformed_line(fields, renderer, fault_rng)
                record(injection, order_line.row_id, current.write_text(text))
            else:
                injection = inject_field_fault(kind, fields, order_line, renderer.columns,
                                               date_format, format_date, fault_rng)  # fmt: skip
                record(
                    injection,
                    order_line.row_id,
                    current.write_text(renderer.render_all_quoted(fields)),
                )
        report.bytes_written += current.close()
        while file_index < files - 1:  # day ranges after the last row still get their file
            file_index += 1
            current = open_file(file_index)
            report.bytes_written += current.close()

    report.rows_written = rows
    report.next_row_id = stream.next_row_id
    report.customer_moves, report.product_renames = _write_changes(report.changes_path, stream)
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(rows)
    return report


def starts_index(starts: list[int], day: int) -> int:
    """Index of the file whose day range holds `day`."""
    index = 0
    while index + 1 < len(starts) and starts[index + 1] <= day:
        index += 1
    return index


def _check_arguments(rows: int, files: int, days: int, encoding: str, first_row_id: int):
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


def _write_changes(path: Path, stream: OrderStream) -> tuple[int, int]:
    """Sidecar of every planned attribute change, with how many rows fall on each side.

    A change is visible to an SCD Type 2 dimension only when rows exist on both sides
    (for customers, counted per order): the returned counts are of those.
    """
    sides = stream.change_sides
    visible = Counter()
    with open(path, "w", encoding="utf-8", newline="\n") as sidecar:
        for entity, key, on, before, after in _planned_changes(stream):
            rows = {"rows_before": sides[(key, "before")], "rows_after": sides[(key, "after")]}
            visible[entity] += bool(rows["rows_before"] and rows["rows_after"])
            entry = {"entity": entity, "id": key, "effective_date": on.isoformat(),
                     "before": before, "after": after} | rows  # fmt: skip
            sidecar.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return visible["customer"], visible["product"]


def _planned_changes(stream: OrderStream):
    for customer in stream.customers:
        if customer.moved_on is not None:
            old, new = customer.home, customer.new_home
            yield (
                "customer", customer.customer_id, customer.moved_on,
                {"City": old.city, "State": old.state, "Country": old.country,
                 "Postal Code": customer.home_postal_code, "Region": old.region},
                {"City": new.city, "State": new.state, "Country": new.country,
                 "Postal Code": customer.new_postal_code, "Region": new.region},
            )  # fmt: skip
    for product in stream.products:
        if product.renamed_on is not None:
            yield (
                "product", product.product_id, product.renamed_on,
                {"Product Name": product.name}, {"Product Name": product.new_name},
            )  # fmt: skip
