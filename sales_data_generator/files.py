"""Output files: landing-style names, day ranges, encodings, BOM, line endings, gzip.

Physical line numbers are tracked here because faults.jsonl points at them.
"""

from __future__ import annotations

import gzip as gzip_module
import io
from pathlib import Path

BOM = b"\xef\xbb\xbf"
FLUSH_BYTES = 1 << 20


def file_start_days(files: int, days: int) -> list[int]:
    """First day index of each file's day range (file k covers [start_k, start_k+1))."""
    return [-(-k * days // files) for k in range(files)]


def file_index_for_day(starts: list[int], day: int, current: int = 0) -> int:
    """Index of the file whose day range holds `day`, searching forward from `current`."""
    index = current
    while index + 1 < len(starts) and starts[index + 1] <= day:
        index += 1
    return index


class CsvFile:
    """One output file, written through a 1 MiB buffer; gzip without a timestamp or name,
    so the same rows always give the same bytes."""

    def __init__(self, path: Path, *, gzip: bool, encoding: str, crlf: bool, header: str):
        self.path = path
        self.name = path.name
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._stream = (
            gzip_module.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                 compresslevel=6)
            if gzip
            else self._raw
        )  # fmt: skip
        self._encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self._newline = b"\r\n" if crlf else b"\n"
        self._buffer = io.BytesIO()
        if encoding == "utf-8-sig":
            self._buffer.write(BOM)  # once, at the start: "x".encode("utf-8-sig") adds one per call
        self.line = 0  # physical line number of the last line written
        self.write_text(header)

    def write_text(self, text: str) -> int:
        return self.write_bytes(text.encode(self._encoding))

    def write_bytes(self, data: bytes) -> int:
        """Write one line (without its ending); returns its physical line number."""
        self._buffer.write(data)
        self._buffer.write(self._newline)
        if self._buffer.tell() > FLUSH_BYTES:
            self._flush()
        self.line += 1
        return self.line

    def _flush(self) -> None:
        self._stream.write(self._buffer.getvalue())
        self._buffer = io.BytesIO()

    def close(self) -> int:
        """Flush and close; returns the file's size in bytes."""
        try:
            self._flush()
            if self._stream is not self._raw:
                self._stream.close()
        finally:
            self._raw.close()
        return self.path.stat().st_size
