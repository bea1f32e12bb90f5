"""What an object is, from its first bytes (never its name): text, gzip, or a binary
format someone saved or renamed as `.csv`.

Users drop what their tools export: an Excel workbook named `sales.csv`, a PDF of a
report, a screenshot, a Parquet file from another pipeline. Parsing those as text gives
confusing per-line errors (or a header "with 1 column"); recognising them first gives
one reason that says what the file is and how to get a CSV out of it.
"""

from __future__ import annotations

import codecs
import io
import zipfile

GZIP_MAGIC = b"\x1f\x8b"
_EXPORT_AS_CSV = "export or save it as CSV (comma-separated, UTF-8) and upload that instead"

# (magic prefix, what it is); checked in order, longest prefixes first where they overlap.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"ORC", "an ORC file"),
    (b"Obj\x01", "an Avro file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls) or other Office file"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
)
_TEXT_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes that never appear in CSV text of any single-byte or UTF-8 encoding.
_CONTROL = (
    frozenset(range(0x00, 0x09)) | frozenset((0x0B, 0x0E, 0x0F)) | frozenset(range(0x10, 0x1B))
)
SNIFF_BYTES = 8192


def _zip_kind(data: bytes) -> str:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "a zip archive"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (.xlsx)"
    if any(n.startswith("word/") for n in names):
        return "a Word document (.docx)"
    if any(n == "content.xml" for n in names):
        return "an OpenDocument file (.ods/.odt)"
    return "a zip archive"


def _looks_utf16_without_bom(head: bytes) -> bool:
    """ASCII text in UTF-16 has a NUL in every other byte."""
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return even.count(0) > 0.9 * len(even) or odd.count(0) > 0.9 * len(odd)


def binary_kind(data: bytes) -> str | None:
    """What a non-text object is ("an Excel workbook (.xlsx)", "binary data"...), or None
    for text (and gzip, which is decompressed and sniffed again)."""
    if data.startswith(GZIP_MAGIC) or data.startswith(_TEXT_BOMS):
        return None
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:SNIFF_BYTES]
    if not head or _looks_utf16_without_bom(head):
        return None
    control = sum(1 for b in head if b in _CONTROL)
    # A few stray control bytes are a damaged line (quarantined alone); text never has
    # more than a handful per 8 KiB, binary formats have hundreds.
    if control > max(8, len(head) // 100):
        return "binary data"
    return None


def not_csv_detail(kind: str) -> str:
    return f"this is {kind}, not a CSV file; fix: {_EXPORT_AS_CSV}"
