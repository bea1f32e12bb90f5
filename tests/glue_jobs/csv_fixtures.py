"""Small, explicit bronze CSV files for precise bad-input tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from sales_lake.schema import CANONICAL_HEADER

HEADER = ",".join(CANONICAL_HEADER)


def row(number: int, **overrides: str) -> str:
    """One valid CSV line (day-first dates); keyword overrides replace snake_case fields."""
    values = {
        "row_id": str(number),
        "order_id": f"ES-2012-{number:06d}",
        "order_date": "31/07/2012",
        "ship_date": "02/08/2012",
        "ship_mode": "Second Class",
        "customer_id": "MH-10116",
        "customer_name": "María Juárez",
        "segment": "Consumer",
        "city": "Paysandú",
        "state": "Paysandú",
        "country": "Uruguay",
        "postal_code": "",
        "market": "LATAM",
        "region": "South",
        "product_id": "TEC-PH-10004093",
        "category": "Technology",
        "sub_category": "Phones",
        "product_name": '"Samsung Galaxy, Full Size"',
        "sales": "221.98",
        "quantity": "2",
        "discount": "0.1",
        "profit": "62.1544",
        "shipping_cost": "40.77",
        "order_priority": "High",
    }
    unknown = set(overrides) - set(values)
    assert not unknown, f"unknown fields {unknown}"
    values.update(overrides)
    return ",".join(values.values())


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
