"""Small, explicit bronze CSV files for precise bad-input tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from sales_lake.schema import CANONICAL_HEADER

from sales_data_generator import battery

HEADER = ",".join(CANONICAL_HEADER)


def row(number: int, **overrides: str) -> str:
    """One valid CSV line (day-first dates); keyword overrides replace snake_case fields."""
    dates = {"order_date": "31/07/2012", "ship_date": "02/08/2012"}
    return battery.row(number, **{**dates, **overrides})


def write_csv(
    path: Path,
    lines: list[str],
    *,
    header: str = HEADER,
    encoding: str = "utf-8",
    newline: str = "\n",
    bom: bool = False,
    compress: bool = False,
    final_newline: bool = True,
) -> Path:
    text = newline.join([header, *lines]) + (newline if final_newline else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    if compress:
        data = gzip.compress(data, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
