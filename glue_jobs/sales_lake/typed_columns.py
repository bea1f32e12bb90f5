"""The silver business columns as Arrow fields: what both loaders' executor-side typing
produces (batch `conform`, stream `event_conform`) before the rows reach Spark.

One list, derived from the contract (`schema.BUSINESS_COLUMNS`), so a column added
there reaches both loaders with the same Arrow type.
"""

from __future__ import annotations

import pyarrow as pa

from sales_lake.schema import (
    BUSINESS_COLUMNS,
    MONEY,
    MONEY_PRECISION,
    MONEY_SCALE,
    RATE,
    RATE_PRECISION,
    RATE_SCALE,
)

ARROW_TYPES = {
    "BIGINT": pa.int64(), "INT": pa.int32(), "STRING": pa.string(), "DATE": pa.date32(),
    MONEY: pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
    RATE: pa.decimal128(RATE_PRECISION, RATE_SCALE),
}  # fmt: skip
ARROW_FIELDS = [pa.field(name, ARROW_TYPES[type_]) for name, type_, _ in BUSINESS_COLUMNS]
