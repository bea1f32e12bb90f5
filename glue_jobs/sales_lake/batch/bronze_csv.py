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
import gzip
import re
import zlib
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from sales_lake.batch.file_kind import GZIP_MAGIC, binary_kind, not_csv_detail
from sales_lake.batch.header_map import HeaderMap, HeaderRejection, map_header
from sales_lake.reasons import filled

# A record whose quotes are still open after this many lines is treated as broken:
# its first line is quarantined and reading restarts on the next line, so one stray
# quote cannot swallow the rest of the file.
MAX_RECORD_LINES = 100
QUOTED_FIELD = r'"(?:[^"]|"")*"'
_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII_TEXT = re.compile("[^\x00-\x7f\udc80-\udcff]")

_ANY_NEWLINE = re.compile("\r\n|\r|\n")
# Every field empty (Excel pads sheets with `,,,,` rows): counted as blank, not loaded.
_BLANK_ROW = r'^\s*(?:""\s*)?(?:,\s*(?:""\s*)?)*$'

ISSUE_HEADER = "header_mismatch"
ISSUE_MISSING_COLUMNS = "missing_columns"
ISSUE_ENCODING = "bad_encoding"
ISSUE_UNCLOSED_QUOTE = "unclosed_quote"
ISSUE_NUL = "nul_bytes"

# Why a whole object is rejected (`reject_reason`; header reasons come from header_map).
REASON_NOT_CSV = "not_csv"
REASON_CORRUPT_GZIP = "corrupt_gzip"
REASON_UNREADABLE = "unreadable"


@dataclass
class FileSummary:
    """What the job learned about one object; becomes `sources[]` in the run metrics."""

    outcome: str = "ok"  # ok | empty | header_only | rejected
    encoding: str | None = None
    compression: str | None = None
    records: int = 0  # rows read, blank rows excluded
    blank: int = 0  # rows whose every field is empty (Excel padding): counted, skipped
    rejected: int = 0  # records with a reason code (quarantined), set by bronze_reader
    reasons: dict[str, int] = field(default_factory=dict)  # reason code -> records with it
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
    issues: list[str | None] | pa.Array = field(default_factory=list)  # empty: no issues
    header: HeaderMap | None = None  # where each column is in the records


class Rejected(Exception):
    """The object as a whole cannot be loaded: `reason` (a file reason code) and `detail`
    (the problem and the fix, one line)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def decompress(data: bytes, summary: FileSummary) -> bytes:
    """Gunzip by magic number (not by file name). A corrupt or truncated stream rejects
    the object: loading the part that decompressed would load a file that is not the one
    the user sent (and cut its last record)."""
    if not data.startswith(GZIP_MAGIC):
        return data
    summary.compression = "gzip"
    try:
        return gzip.decompress(data)
    except GZIP_ERRORS as error:
        raise corrupt_gzip(error) from None


GZIP_ERRORS = (EOFError, OSError, zlib.error)


def corrupt_gzip(error: BaseException) -> Rejected:
    """The rejection of a gzip stream that failed to decompress (one of GZIP_ERRORS)."""
    problem = "truncated" if isinstance(error, EOFError) else f"corrupt ({error})"
    return Rejected(
        REASON_CORRUPT_GZIP,
        f"the gzip stream is {problem}; nothing of it was loaded; fix: compress the "
        "complete file again (gzip) and upload it",
    )


_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _wide_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) of UTF-16/32 text, with a BOM or (UTF-16) without one."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    head = data[:4096]
    if len(head) >= 8:
        if head[1::2].count(0) > 0.9 * len(head[1::2]):
            return "utf-16-le", 0
        if head[0::2].count(0) > 0.9 * len(head[0::2]):
            return "utf-16-be", 0
    return None


def decode(data: bytes, summary: FileSummary) -> str:
    """Decode text, detecting UTF-16/32 (BOM), UTF-8 (with or without BOM) vs.
    Latin-1/Windows-1252.

    A file that is valid UTF-8 except for a few byte sequences is still UTF-8 (it has
    real multi-byte characters elsewhere): only the lines with bad bytes are
    quarantined. A file with no valid multi-byte sequence at all is single-byte text.
    """
    wide = _wide_encoding(data)
    if wide:
        codec, bom = wide
        summary.encoding = codec
        try:
            return data[bom:].decode(codec)
        except UnicodeDecodeError as error:
            raise Rejected(
                REASON_UNREADABLE,
                f"the file looks like {codec.upper()} text but byte {error.start + bom} is "
                "not valid there; fix: re-export the file as CSV UTF-8",
            ) from None
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
    """Split on CRLF, LF or a lone CR (old Mac exports), also mixed in one file; the
    last newline ends no line. Not `str.splitlines`: it also splits on form feeds and
    Unicode separators, which are text inside a field."""
    if "\r" not in text:
        lines = text.split("\n")
    elif text.count("\r") == text.count("\r\n"):
        lines = text.replace("\r\n", "\n").split("\n")
    else:
        lines = _ANY_NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


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


def parse_file(data: bytes, header_policy: str = "rescue", gunzipped: bool = False) -> ParsedFile:
    """bytes of one bronze object -> its records and a summary. Never raises on bad input:
    a problem of the whole object makes it a rejected file with a reason and a fix.
    `gunzipped`: `data` is a gzip object's content, decompressed already (gzip_reader)."""
    summary = FileSummary(compression="gzip" if gunzipped else None)
    try:
        return _parse(data, summary, header_policy)
    except Rejected as rejection:
        return rejected_file(summary, rejection.reason, rejection.detail)


def rejected_file(summary: FileSummary, reason: str, detail: str) -> ParsedFile:
    """A file none of whose bytes can be read as records: no rows, one reason."""
    summary.outcome, summary.reject_reason, summary.reject_detail = "rejected", reason, detail
    return ParsedFile(summary, [], [])


def _parse(data: bytes, summary: FileSummary, header_policy: str) -> ParsedFile:
    kind = binary_kind(data)
    if kind is None and data.startswith(GZIP_MAGIC) and not summary.compression:
        data = decompress(data, summary)
        kind = binary_kind(data)
    if kind is not None:
        raise Rejected(REASON_NOT_CSV, not_csv_detail(kind))
    text = decode(data, summary)
    lines = physical_lines(text)
    summary.physical_lines = len(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        summary.outcome = "empty"
        summary.notes.append("the file has no header and no data: nothing to load")
        return ParsedFile(summary, [], [])
    header_text = _SURROGATE.sub(_escaped_byte, lines[first])
    header = map_header(header_text, header_policy)
    if isinstance(header, HeaderRejection):
        summary.reject_reason, summary.reject_detail = header.reason, header.detail
        width = header.width
    else:
        summary.notes.extend(header.notes)
        summary.rescued_columns = [header.rescued[i] for i in sorted(header.rescued)]
        width = header.width
    bad_encoding = bool(_SURROGATE.search(text))
    rules = LineRules(width, bad_encoding or _any_odd(lines[first + 1 :]), bad_encoding)
    numbers, raws, issues, summary.blank = body_records(lines, first + 1, rules)
    summary.records = len(raws)
    if summary.reject_reason:
        summary.outcome = "rejected"
        issues = filled(len(raws), pa.string(), summary.reject_reason)
        header = HeaderMap(width, {})  # nothing to type: the reason replaces every check
    elif not summary.records:
        summary.outcome = "header_only"
        summary.notes.append("the file has a header but no data rows: nothing to load")
    return ParsedFile(summary, numbers, raws, issues, header)


def _escaped_byte(found: re.Match) -> str:
    """An undecodable byte (a surrogate escape) as its `\\xNN` text."""
    return f"\\x{ord(found.group()) - 0xDC00:02x}"


@dataclass(frozen=True)
class LineRules:
    """How a file's body lines become records, decided once for the whole file: its
    header's width, whether records may span lines (any body line with an odd quote
    count, or undecodable bytes: then `assemble_records` walks the lines; else a
    vectorised pass), and whether undecodable bytes are present. A byte range of the
    file (batch/byte_ranges.py) applies the same rules to its lines."""

    width: int
    assemble: bool
    bad_encoding: bool = False


def _any_odd(lines: list[str]) -> bool:
    return bool(lines) and bool(pc.sum(_quote_parity(pa.array(lines, pa.string()))).as_py())


def body_records(lines: list[str], start: int, rules: LineRules, number_offset: int = 0):
    """(line numbers, raw records, reader issue or NULL, blank rows) of `lines[start:]`,
    as Arrow; line i is physical line `number_offset + i + 1`. Blank rows (every field
    empty) are counted and left out."""
    if not rules.assemble:
        body = pa.array(lines[start:], type=pa.string())
        keep = pc.invert(pc.equal(pc.utf8_trim_whitespace(body), ""))
        first_number = number_offset + start + 1
        numbers = pc.filter(
            pa.array(range(first_number, first_number + len(body)), pa.int64()), keep
        )
        raws = pc.filter(body, keep)
        issues = pa.nulls(len(raws), pa.string())
    else:  # records spanning lines, or surrogates (which cannot go into Arrow)
        numbers, raws, issues = assemble_records(lines, start, rules.width)
        if rules.bad_encoding:
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
        numbers = pc.add(pa.array(numbers, pa.int64()), number_offset)
        raws, issues = pa.array(raws, pa.string()), pa.array(issues, pa.string())
    nul = pc.match_substring(raws, "\x00")
    if pc.any(nul).as_py():
        issues = pc.if_else(nul, pa.scalar(ISSUE_NUL, pa.string()), issues)
    blank = pc.match_substring_regex(raws, _BLANK_ROW)
    blanks = 0
    if pc.any(blank).as_py():
        keep = pc.invert(blank)
        blanks = len(raws) - pc.sum(keep).as_py()
        numbers, raws, issues = (pc.filter(a, keep) for a in (numbers, raws, issues))
    return numbers, raws, issues, blanks
