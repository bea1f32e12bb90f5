"""One big CSV object read as byte ranges by separate tasks, with the whole-file results.

Why: read whole (`binaryFile`), a file is limited by one task's memory, by binaryFile's
2 GB per file and by one core. An uncompressed, byte-oriented (UTF-8 / Latin-1 /
Windows-1252) object larger than `split_bytes` is cut into ranges instead; each task
holds one range. The results equal `bronze_csv.parse_file` + `conform` on the whole file
record for record (line numbers, raw text, issues, summary, date format), because:

- **Cuts fall on safe line starts.** A range starts where a physical line starts (after
  LF, CRLF or a lone CR; these bytes never occur inside a UTF-8 or single-byte
  character) and after at least `MAX_RECORD_LINES` lines with an even number of quotes.
  `assemble_records` joins lines only from a line with an odd quote count and never
  more than `MAX_RECORD_LINES` of them, so no record can cross such a cut: every range
  is a piece of the file whose records are exactly the whole file's for its lines. A
  cut with no such line start within `SEARCH_BYTES` after its nominal offset is dropped
  (the two ranges become one; a file with quoted newlines everywhere reads in fewer,
  larger ranges).
- **What is decided per file is decided once, from every range** (three passes):
  1. `scan_range` (tasks): line count, encoding facts, the first odd-quote lines, and in
     range 0 the lines up to the header. `decide_file` (driver) merges them into the
     encoding (the rules of `bronze_csv.decode`), the header, each range's first line
     number and the `LineRules` (vectorised or line-walking pass, as the whole file
     would take).
  2. `range_evidence` (tasks): the date evidence of each range's records; merged on the
     driver into the file's date format (`conform.decide_date_format`).
  3. `range_records` (tasks): each range's records, typed with that format by the same
     code as a whole file (bronze_reader.record_batches), and a partial summary row;
     the loader adds the partial counts into one summary per object
     (`merge_summaries`).

What stays whole-file: objects up to `split_bytes`, gzip, UTF-16/32, anything whose
first bytes are not plain text, and a file whose header is not found in its first range.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from sales_lake.batch import bronze_csv
from sales_lake.batch.bronze_csv import (
    _NON_ASCII_TEXT,
    _SURROGATE,
    REASON_UNREADABLE,
    FileSummary,
    LineRules,
    ParsedFile,
    _escaped_byte,
    _wide_encoding,
    body_records,
    physical_lines,
)
from sales_lake.batch.file_kind import GZIP_MAGIC, binary_kind
from sales_lake.batch.header_map import HeaderMap, HeaderRejection, map_header
from sales_lake.reasons import filled

# Bytes searched after a nominal cut for a safe line start (then the cut is dropped).
SEARCH_BYTES = 4 * 1024 * 1024
# Bytes before a nominal cut whose lines count towards a safe one.
LOOK_BEHIND_BYTES = 256 * 1024
# Bytes of the start of a file looked at before choosing the split path.
HEAD_BYTES = 64 * 1024
_LINE_END = re.compile(rb"\r\n|\r|\n")
# Bytes that may still be whitespace once decoded (ASCII spaces, C0 separators that
# Python strips, and any non-ASCII byte): a line of only these might be blank.
_MAYBE_BLANK = re.compile(rb"^[\s\x1c-\x1f\x80-\xff]*$")
_C1 = re.compile(rb"[\x80-\x9f]")
_UTF8_BOM = codecs.BOM_UTF8
ENCODING_NOTE = "some lines are not valid UTF-8: they are quarantined"

Reader = Callable[[int, int], bytes]  # (start, length) -> bytes of the object


def splittable_head(head: bytes) -> bool:
    """Whether an object starting with `head` may be read in ranges: plain byte-oriented
    text (not gzip, not UTF-16/32, not a binary format)."""
    if head.startswith(GZIP_MAGIC) or _wide_encoding(head):  # decode's own UTF-16/32 rule
        return False
    return binary_kind(head) is None


def safe_cut(window: bytes, offset: int, at_line_start: bool, earliest: int = 0) -> int | None:
    """The first file offset >= `earliest` in `window` (which starts at file offset
    `offset`; `at_line_start`: whether a line starts there) where a line starts after
    `MAX_RECORD_LINES` consecutive lines with an even number of quotes, all inside the
    window."""
    position = 0
    if not at_line_start:
        found = _LINE_END.search(window)
        if found is None:
            return None
        position = found.end()
    even = 0
    while True:
        if even >= bronze_csv.MAX_RECORD_LINES and offset + position >= earliest:
            return offset + position  # (the limit is read at call time: tests lower it)
        found = _LINE_END.search(window, position)
        if found is None or (found.group() == b"\r" and found.end() == len(window)):
            return None  # the line (or whether a CR is a CRLF) goes on past the window
        quotes = window.count(b'"', position, found.start())
        even = even + 1 if quotes % 2 == 0 else 0
        position = found.end()


def _starts_line(read: Reader, offset: int) -> bool:
    if offset == 0:
        return True
    around = read(offset - 1, 2)  # the byte before and the first one after
    return around[:1] == b"\n" or (around[:1] == b"\r" and around[1:2] != b"\n")


def plan_ranges(read: Reader, size: int, split_bytes: int) -> list[tuple[int, int]]:
    """[(start, end)] byte ranges covering the object, cut at the first safe line start at
    or after each multiple of `split_bytes` (the even lines before it count too)."""
    cuts = [0]
    for nominal in range(split_bytes, size, split_bytes):
        if nominal <= cuts[-1]:
            continue
        begin = max(cuts[-1], nominal - LOOK_BEHIND_BYTES)
        window = read(begin, min(nominal + SEARCH_BYTES, size) - begin)
        cut = safe_cut(window, begin, _starts_line(read, begin), earliest=nominal)
        if cut is not None and cut < size:
            cuts.append(cut)
    return list(zip(cuts, [*cuts[1:], size], strict=True))


@dataclass
class RangeFacts:
    """What pass 1 learns from one range (all of it adds up over the ranges)."""

    lines: int
    utf8_valid: bool
    non_ascii_text: bool  # a valid multi-byte character (under surrogate escapes)
    c1_bytes: bool  # bytes 0x80-0x9F (Windows-1252 punctuation, not Latin-1)
    cp1252_ok: bool
    bom: bool  # range 0 only: starts with the UTF-8 BOM
    odd_lines: list[int]  # local indices of the first lines with an odd quote count
    head: list[bytes] | None = None  # range 0: raw lines up to a surely non-blank one


def scan_range(data: bytes, first: bool) -> RangeFacts:
    """Pass 1 over one range's bytes."""
    bom = first and data.startswith(_UTF8_BOM)
    if bom:
        data = data[len(_UTF8_BOM) :]
    utf8_valid, non_ascii_text, c1_bytes, cp1252_ok = True, False, False, True
    if data.isascii():
        text = data.decode("ascii")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "surrogateescape")
            utf8_valid = False
        non_ascii_text = bool(_NON_ASCII_TEXT.search(text))
        c1_bytes = _C1.search(data) is not None
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            cp1252_ok = False
    lines = physical_lines(text)
    odd = []
    for index, line in enumerate(lines):
        if line.count('"') % 2:
            odd.append(index)
            if len(odd) == 2:  # the header's, and one more: enough to choose the pass
                break
    head = None
    if first:
        head = []
        for raw in _LINE_END.split(data[:HEAD_BYTES])[:-1]:  # complete lines only
            head.append(raw)
            if not _MAYBE_BLANK.match(raw):
                break
        else:
            head = None  # no surely non-blank line near the start: read it whole
    return RangeFacts(len(lines), utf8_valid, non_ascii_text, c1_bytes, cp1252_ok, bom, odd, head)


@dataclass
class FileDecision:
    """What pass 1 decides for the whole file; every range task gets a copy."""

    ranges: list[tuple[int, int]]
    encoding: str  # the summary's label
    codec: str  # how range bytes decode
    rules: LineRules | None
    first_lines: list[int]  # global index of each range's first line
    header_index: int = -1  # global index of the header line
    header: HeaderMap | None = None
    summary: FileSummary = field(default_factory=FileSummary)

    def decode(self, data: bytes, range_index: int) -> str:
        if range_index == 0 and self.encoding == "utf-8-sig":
            data = data[len(_UTF8_BOM) :]
        if self.codec == "utf-8":
            return data.decode("utf-8", "surrogateescape")
        return data.decode(self.codec)


def decide_file(ranges: list[tuple[int, int]], facts: list[RangeFacts], policy: str):
    """Merge pass 1 (the rules of `bronze_csv.decode` and `_parse`) into a FileDecision,
    or None when the file must be read whole (no header found near its start)."""
    summary = FileSummary()
    first = facts[0]
    if first.head is None:
        return None
    if first.bom:
        encoding, codec = "utf-8-sig", "utf-8"
    else:
        encoding, codec = "utf-8", "utf-8"
    if not all(f.utf8_valid for f in facts):
        if first.bom or any(f.non_ascii_text for f in facts):
            summary.notes.append(ENCODING_NOTE)
        elif all(f.cp1252_ok for f in facts):
            encoding = "windows-1252" if any(f.c1_bytes for f in facts) else "latin-1"
            codec = "cp1252"
        else:
            encoding, codec = "latin-1", "latin-1"
    summary.encoding = encoding
    decision = FileDecision(ranges, encoding, codec, None, [], summary=summary)
    head_lines = [_decode_line(raw, codec) for raw in first.head]  # the BOM is off already
    header_index = next((i for i, line in enumerate(head_lines) if line.strip()), None)
    if header_index is None:
        return None
    starts, total = [], 0
    for f in facts:
        starts.append(total)
        total += f.lines
    summary.physical_lines = total
    header_text = _SURROGATE.sub(_escaped_byte, head_lines[header_index])
    header = map_header(header_text, policy)
    if isinstance(header, HeaderRejection):
        summary.reject_reason, summary.reject_detail = header.reason, header.detail
    else:
        summary.notes.extend(header.notes)
        summary.rescued_columns = [header.rescued[i] for i in sorted(header.rescued)]
    bad_encoding = codec == "utf-8" and not all(f.utf8_valid for f in facts)
    odd_body = any(
        start + index > header_index for start, f in zip(starts, facts, strict=True)
        for index in f.odd_lines
    )  # fmt: skip
    decision.rules = LineRules(header.width, bad_encoding or odd_body, bad_encoding)
    decision.first_lines, decision.header_index = starts, header_index
    decision.header = header if isinstance(header, HeaderMap) else HeaderMap(header.width, {})
    return decision


def _decode_line(raw: bytes, codec: str) -> str:
    return raw.decode("utf-8", "surrogateescape") if codec == "utf-8" else raw.decode(codec)


def range_parsed(data: bytes, decision: FileDecision, index: int) -> ParsedFile:
    """One range's records as a ParsedFile (summary: this range's counts + the file's
    decisions), ready for bronze_reader.record_batches with the file's date format."""
    lines = physical_lines(decision.decode(data, index))
    offset = decision.first_lines[index]
    start = max(0, decision.header_index + 1 - offset)
    numbers, raws, issues, blank = body_records(lines, start, decision.rules, offset)
    summary = FileSummary(**{**decision.summary.as_dict(), "notes": list(decision.summary.notes)})
    summary.blank, summary.records = blank, len(raws)
    if summary.reject_reason:
        summary.outcome = "rejected"
        issues = filled(len(raws), pa.string(), summary.reject_reason)
    return ParsedFile(summary, numbers, raws, issues, decision.header)


ADDED = ("records", "blank", "rejected", "rescued_rows")


def added_reasons(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Summaries' reason counts (code -> records) added up."""
    total: dict[str, int] = {}
    for one in counts:
        for code, rows in one.items():
            total[code] = total.get(code, 0) + rows
    return total


def merge_summaries(parts: list[dict]) -> dict:
    """One object's summary from the partial ones of its ranges (one part: itself). Counts
    add up; a range that could not be read makes the whole object unreadable."""
    if len(parts) == 1:
        return parts[0]
    failed = [p for p in parts if p.get("reject_reason") == REASON_UNREADABLE]
    if failed:
        return failed[0]
    merged = dict(parts[0])
    merged["date_format"] = next((p["date_format"] for p in parts if p.get("date_format")), None)
    for name in ADDED:
        merged[name] = sum(p.get(name, 0) for p in parts)
    merged["reasons"] = added_reasons(p.get("reasons", {}) for p in parts)
    if merged["outcome"] == "ok" and not merged["records"]:
        merged["outcome"] = "header_only"
        merged["notes"] = [
            *merged["notes"],
            "the file has a header but no data rows: nothing to load",
        ]
    return merged
