"""The silver contract: column names and types every writer (the batch and stream
loaders of the silver job) produces and every reader (dbt staging models) relies on.

Money and rates are decimals, never float, and hold exactly what the file says: a
value is typed without rounding or it is quarantined (`too_precise_*`, `too_large_*`).
Scale 10: real exports carry amounts computed in floating point and printed with up to
5 decimals (`1213.18876`), percent discounts gain two more when divided by 100, and 10
leaves room above both. Precision 18: Spark keeps a decimal of at most 18 digits in a
64-bit long (and Parquet as INT64), which keeps MERGE hashing and scans as fast as
before; it leaves 8 integer digits, amounts up to 99,999,999.9999999999 per order line
(the dataset's largest is about 22,638; larger ones are quarantined, never cut). Sums
widen on their own (Spark SUM of DECIMAL(18,10) is DECIMAL(28,10); Snowflake and DuckDB
widen to 38 digits), so gold totals are exact too. `row_id` is the business key of an
order line.
"""

from __future__ import annotations

# The 24 fields of the Global Superstore export, in file order.
CANONICAL_HEADER: tuple[str, ...] = (
    "Row ID", "Order ID", "Order Date", "Ship Date", "Ship Mode", "Customer ID",
    "Customer Name", "Segment", "City", "State", "Country", "Postal Code", "Market",
    "Region", "Product ID", "Category", "Sub-Category", "Product Name", "Sales",
    "Quantity", "Discount", "Profit", "Shipping Cost", "Order Priority",
)  # fmt: skip


def snake_case(field: str) -> str:
    return field.strip().lower().replace(" ", "_").replace("-", "_")


MONEY_PRECISION, MONEY_SCALE = 18, 10
RATE_PRECISION, RATE_SCALE = 11, 10  # a rate is from 0 to 1
MONEY = f"DECIMAL({MONEY_PRECISION},{MONEY_SCALE})"
RATE = f"DECIMAL({RATE_PRECISION},{RATE_SCALE})"

# (column, Spark SQL type, nullable) for the business columns of silver/sales.
BUSINESS_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("row_id", "BIGINT", False),
    ("order_id", "STRING", False),
    ("order_date", "DATE", False),
    ("ship_date", "DATE", False),
    ("ship_mode", "STRING", False),
    ("customer_id", "STRING", False),
    ("customer_name", "STRING", True),
    ("segment", "STRING", False),
    ("city", "STRING", True),
    ("state", "STRING", True),
    ("country", "STRING", True),
    ("postal_code", "STRING", True),  # string: leading zeros; blank outside the US
    ("market", "STRING", False),
    ("region", "STRING", True),
    ("product_id", "STRING", False),
    ("category", "STRING", True),
    ("sub_category", "STRING", True),
    ("product_name", "STRING", True),
    ("sales", MONEY, False),
    ("quantity", "INT", False),
    ("discount", RATE, False),
    ("profit", MONEY, False),
    ("shipping_cost", MONEY, True),
    ("order_priority", "STRING", True),
)

# Lineage columns carried by every silver row.
LINEAGE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("source_uri", "STRING", False),  # s3://bucket/key (or file:// locally) of the bronze object
    ("source_version", "STRING", True),  # S3 version id (or etag) of that object
    ("source_line", "BIGINT", True),  # 1-based physical line of the record in a CSV
    ("source_kind", "STRING", False),  # 'batch' | 'stream'
    ("run_id", "STRING", False),  # the pipeline run (= Step Functions execution name)
    ("ingested_at", "TIMESTAMP", False),
    ("record_hash", "STRING", False),  # sha256 of the business columns; drives MERGE updates
    ("event_id", "STRING", True),  # stream: id of the last event applied to the row
    ("event_time", "TIMESTAMP", True),  # stream: time of that event
    ("is_deleted", "BOOLEAN", False),  # soft delete (stream cancellations)
)

# Values of columns a file has beyond the contract (header policy `rescue`), as a JSON
# object {"header as in the file": "value"} per row; NULL when there are none.
RESCUE_COLUMNS: tuple[tuple[str, str, bool], ...] = (("rescued_data", "STRING", True),)

SALES_COLUMNS = BUSINESS_COLUMNS + LINEAGE_COLUMNS + RESCUE_COLUMNS

# silver/quarantine: every rejected record, with the raw text and why.
QUARANTINE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("run_id", "STRING", False),
    ("source_uri", "STRING", False),
    ("source_version", "STRING", True),
    ("source_kind", "STRING", False),
    ("line_number", "BIGINT", True),  # physical line in the file (stream: record index)
    ("raw_record", "STRING", True),  # the record exactly as read (decoded text)
    ("reason_codes", "ARRAY<STRING>", False),  # machine-readable, e.g. ['bad_order_date']
    ("reason_detail", "STRING", False),  # human-readable: what is wrong and how to fix it
    ("quarantined_at", "TIMESTAMP", False),
)


def ddl(columns: tuple[tuple[str, str, bool], ...], *, not_null: bool = True) -> str:
    """Spark DDL for a column list, e.g. for `spark.createDataFrame(rows, ddl(...))`.

    `not_null=False` leaves every column nullable: the loaders' typed rows hold NULL
    wherever a rejected record's value did not parse."""
    return ", ".join(
        f"{name} {type_}{'' if nullable or not not_null else ' NOT NULL'}"
        for name, type_, nullable in columns
    )
