"""Turn the bytes of one bronze CSV object into records, keeping what quarantine needs.

Why this exists instead of `spark.read.csv`: quarantine must show each rejected
record's physical line number and its exact text, per-file encodings must be
detected (UTF-8 with/without BOM, Latin-1), gzip and quoted newlines must work, and
a wrong header must reject the whole file with one reason. Spark's CSV source gives
none of the first three together. So the job reads each object whole
(`binaryFile`, one task per object: Glue scales with the number of objects) and
this module, running in the executors, only does the cheap, sequential part:

    bytes -> decompress -> decode -> physical lines -> records (line number, raw text,
    issue) + a file summary.

Splitting records into fields, typing and validation follow in `conform`, in the
same task. The line bookkeeping is vectorised with pyarrow; a Python loop runs
only for files whose records span lines (odd quote counts).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from sales_lake.schema import CANONICAL_HEADER

# A record whose quotes are still open after this many lines is treated as broken:
# its first line is quarantined and reading restarts on the next line, so one stray
# quote cannot swallow the rest of the file.
MAX_RECORD_LINES = 100
QUOTED_FIELD = r'"(?:[^"]|"")*"'
_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII_TEXT = re.compile("[^\x00-\x7f\udc80-\udcff]")

ISSUE_HEADER = "header_mismatch"
ISSUE_ENCODING = "bad_encoding"
ISSUE_UNCLOSED_QUOTE = "unclosed_quote"


@dataclass
class FileSummary:
    """What the job learned about one object; becomes `sources[]` in the run metrics."""

    outcome: str = "ok"  # ok | empty | header_only | rejected
    encoding: str | None = None
    compression: str | None = None
    records: int = 0  # rows read, blank rows excluded
    blank: int = 0  # rows whose every field is empty (Excel padding): counted, skipped
    rejected: int = 0  # records with a reason code (quarantined), set by bronze_reader
    physical_lines: int = 0
    reject_reason: str | None = None  # rejected file: its code (reasons.FILE_REASONS)
    reject_detail: str | None = None  # rejected file: the problem and the fix, one line
    rescued_columns: list[str] = field(default_factory=list)  # unknown columns kept as JSON
    rescued_rows: int = 0  # records with a value in a rescued column
    date_format: str | None = None  # e.g. "dd/MM/yyyy", see dates.decide
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedFile:
    summary: FileSummary
    line_numbers: list[int] | pa.Array
    raw_records: list[str] | pa.Array
    issues: list[str | None] = field(default_factory=list)  # empty list = no issues


def decompress(data: bytes, summary: FileSummary) -> bytes:
    """Gunzip by magic number (not by file name); keep what a truncated stream holds."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    summary.compression = "gzip"
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            partial = inflater.decompress(data)
        except zlib.error:
            partial = b""
        summary.notes.append(
            "gzip stream is truncated or corrupt: read the part that decompressed; "
            "re-upload the complete file to load the rest"
        )
        return partial


def decode(data: bytes, summary: FileSummary) -> str:
    """Decode text, detecting UTF-8 (with or without BOM) vs. Latin-1/Windows-1252.

    A file that is valid UTF-8 except for a few byte sequences is still UTF-8 (it has
    real multi-byte characters elsewhere): only the lines with bad bytes are
    quarantined. A file with no valid multi-byte sequence at all is single-byte text.
    """
    if data.startswith(codecs.BOM_UTF8):
        summary.encoding = "utf-8-sig"
        data = data[len(codecs.BOM_UTF8) :]
    else:
        summary.encoding = "utf-8"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    if summary.encoding == "utf-8-sig" or _NON_ASCII_TEXT.search(text):
        summary.notes.append("some lines are not valid UTF-8: they are quarantined")
        return text
    try:
        text = data.decode("cp1252")
        high_c1 = any(0x80 <= b <= 0x9F for b in set(data))
        summary.encoding = "windows-1252" if high_c1 else "latin-1"
        return text
    except UnicodeDecodeError:
        summary.encoding = "latin-1"
        return data.decode("latin-1")


def physical_lines(text: str) -> list[str]:
    """Split on CRLF / LF (or lone CR for old Mac exports); the last newline ends no line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\n" not in text:
            text = text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def normalise_header_name(name: str) -> str:
    return " ".join(name.strip().strip('"').split()).casefold()


def header_problem(header_text: str) -> str | None:
    """None when the header is the 24 canonical fields (any case, spaces, quotes, BOM)."""
    fields = next(csv.reader([header_text]), [])
    got = [normalise_header_name(f) for f in fields]
    want = [normalise_header_name(f) for f in CANONICAL_HEADER]
    if got == want:
        return None
    fix = "re-export the file with the 24 Global Superstore columns, comma-separated, in order: "
    fix += ", ".join(CANONICAL_HEADER)
    if len(fields) <= 1 and any(d in header_text for d in (";", "\t", "|")):
        sep = next(d for d in (";", "\t", "|") if d in header_text)
        return f"header is not comma-separated (found {sep!r} as separator); fix: {fix}"
    missing = [c for c, n in zip(CANONICAL_HEADER, want, strict=True) if n not in got]
    unexpected = [f.strip() for f, n in zip(fields, got, strict=True) if n not in want]
    if not missing and not unexpected:
        return f"header has the right columns in a different order; fix: {fix}"
    parts = [f"header has {len(fields)} columns, expected {len(CANONICAL_HEADER)}"]
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if unexpected:
        parts.append("unexpected: " + ", ".join(unexpected))
    if len(fields) == 21 and set(missing) == {"Market", "Shipping Cost", "Order Priority"}:
        parts.append("this looks like the 21-column 'Sample Superstore' export")
    return "; ".join(parts) + f"; fix: {fix}"


def _quote_parity(lines: pa.Array) -> pa.Array:
    return pc.bit_wise_and(pc.count_substring(lines, '"'), 1)


def field_counts(records: pa.Array) -> pa.Array:
    """Fields per record: commas outside quoted fields, plus one.

    Only records holding a quote need the (slower) regex that drops quoted fields.
    """
    counts = pc.add(pc.count_substring(records, ","), 1).cast(pa.int32())
    quoted = pc.match_substring(records, '"')
    if not pc.any(quoted).as_py():
        return counts
    unquoted = pc.replace_substring_regex(pc.filter(records, quoted), QUOTED_FIELD, "")
    exact = pc.add(pc.count_substring(unquoted, ","), 1).cast(pa.int32())
    return pc.replace_with_mask(counts, quoted, exact)


def _count_fields(raw: str) -> int:
    return re.sub(QUOTED_FIELD, "", raw).count(",") + 1


def assemble_records(
    lines: list[str], first: int, expected_fields: int
) -> tuple[list[int], list[str], list[str | None]]:
    """Group physical lines into records where quoted fields hold newlines.

    A record is complete when its quote count is even (RFC 4180 escapes quotes by
    doubling). A multi-line record with the wrong number of fields, or one still open
    after MAX_RECORD_LINES, was a stray quote: its first line becomes a record of its
    own and reading restarts on the next line, so nothing after it is lost.
    """
    numbers: list[int] = []
    raws: list[str] = []
    issues: list[str | None] = []
    i, n = first, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.count('"') % 2 == 0:
            numbers.append(i + 1)
            raws.append(line)
            issues.append(None)
            i += 1
            continue
        j, quotes = i + 1, line.count('"')
        while j < n and quotes % 2 and j - i < MAX_RECORD_LINES:
            quotes += lines[j].count('"')
            j += 1
        candidate = "\n".join(lines[i:j])
        if quotes % 2 == 0 and _count_fields(candidate) == expected_fields:
            numbers.append(i + 1)
            raws.append(candidate)
            issues.append(None)
            i = j
        else:
            numbers.append(i + 1)
            raws.append(line)
            issues.append(ISSUE_UNCLOSED_QUOTE if quotes % 2 else None)
            i += 1
    return numbers, raws, issues


def parse_file(data: bytes) -> ParsedFile:
    """bytes of one bronze object -> its records and a summary. Never raises on bad input."""
    summary = FileSummary()
    text = decode(decompress(data, summary), summary)
    lines = physical_lines(text)
    summary.physical_lines = len(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        summary.outcome = "empty"
        summary.notes.append("the file has no header and no data: nothing to load")
        return ParsedFile(summary, [], [])
    header = lines[first]
    summary.reject_detail = header_problem(header)
    summary.reject_reason = ISSUE_HEADER if summary.reject_detail else None
    expected = len(CANONICAL_HEADER)
    bad_encoding = bool(_SURROGATE.search(text))
    if bad_encoding:  # surrogates cannot go into Arrow: take the Python path
        numbers, raws, issues = assemble_records(lines, first + 1, expected)
    else:
        body = pa.array(lines[first + 1 :], type=pa.string())
        if pc.sum(_quote_parity(body)).as_py():
            numbers, raws, issues = assemble_records(lines, first + 1, expected)
        else:
            keep = pc.invert(pc.equal(pc.utf8_trim_whitespace(body), ""))
            numbers = pc.filter(
                pa.array(range(first + 2, first + 2 + len(body)), type=pa.int64()), keep
            )
            raws = pc.filter(body, keep)
            issues = []
    if bad_encoding:
        issues = [
            ISSUE_ENCODING if _SURROGATE.search(raw) else issue
            for raw, issue in zip(raws, issues, strict=True)
        ]
        raws = [
            raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            if _SURROGATE.search(raw)
            else raw
            for raw in raws
        ]
    summary.records = len(raws)
    if summary.reject_detail:
        summary.outcome = "rejected"
        issues = [ISSUE_HEADER] * len(raws)
    elif not summary.records:
        summary.outcome = "header_only"
        summary.notes.append("the file has a header but no data rows: nothing to load")
    return ParsedFile(summary, numbers, raws, issues)
