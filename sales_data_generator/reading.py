"""Read a generated file back line by line, as bytes, the way faults.jsonl counts lines.

Line numbers are physical (header = 1), so a fault recorded at line N is `lines[N - 1]`.
Bytes, not text: an encoding fault is a line that is not valid UTF-8.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

BOM = b"\xef\xbb\xbf"


def physical_lines(path: Path) -> list[bytes]:
    """All lines of a .csv or .csv.gz file without line endings (BOM removed); small files only."""
    data = Path(path).read_bytes()
    if str(path).endswith(".gz"):
        data = gzip.decompress(data)
    if data.startswith(BOM):
        data = data[len(BOM) :]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def csv_fields(line: bytes, encoding: str = "utf-8") -> list[str]:
    """The fields of one physical line (RFC 4180 quoting)."""
    return next(csv.reader([line.decode(encoding)]))
