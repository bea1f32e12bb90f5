"""Silver for the gold tests, written the way production writes it.

`GlueSilverFeed` generates landing CSVs with the sample-data generator and runs the
real Glue jobs (batch job for files, stream job for cancellations and updates).
`DeltaSilverFeed` is the fallback used only while those are not importable: it
writes silver rows of the contract schema with delta-rs (MERGE on row_id).

Both expose three chronological batches (oldest first) so a test can load them out
of order, plus `stream_changes` for soft deletes and updates.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from sales_lake.schema import BUSINESS_COLUMNS, QUARANTINE_COLUMNS, SALES_COLUMNS


def real_jobs_available() -> bool:
    return all(
        importlib.util.find_spec(name) is not None
        for name in (
            "local_twin.sample_data",
            "glue_jobs.batch_to_silver",
            "glue_jobs.stream_to_silver",
        )
    )


class GlueSilverFeed:
    """Generated CSVs -> the real batch job; events -> the real stream job."""

    def __init__(self, spark, lake: Path, work: Path, *, rows: int, seed: int):
        from local_twin.sample_data import write_dataset

        self.spark, self.lake, self.work = spark, lake, work
        report = write_dataset(
            work / "landing", rows=rows, files=3, seed=seed, date_format="iso", changes=True
        )
        self.batches = sorted(report.files)

    def load_batch(self, index: int, run_id: str) -> dict:
        from glue_jobs.batch_to_silver import run_batch

        args = {"run_id": run_id, "lake_uri": self.lake.as_uri(),
                "source_uris": self.batches[index].as_uri()}  # fmt: skip
        return run_batch(self.spark, args)

    def stream_changes(self, run_id: str, cancel: list[dict], update: list[dict]) -> dict:
        """Cancel rows and apply updated after-images through the stream job."""
        from glue_jobs.stream_to_silver import run_stream

        moment = datetime(2030, 1, 1, tzinfo=UTC)
        events = [
            _event(f"{run_id}-{index}", kind, row, moment + timedelta(seconds=index))
            for index, (kind, row) in enumerate(
                [("order_line_cancelled", row) for row in cancel]
                + [("order_line_updated", row) for row in update]
            )
        ]
        path = self.work / "topics" / "sales" / f"sales+0+{len(run_id):010d}-{run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(event) + "\n" for event in events))
        args = {"run_id": run_id, "lake_uri": self.lake.as_uri(), "source_uris": path.as_uri()}
        return run_stream(self.spark, args)


def _event(event_id: str, kind: str, row: dict, moment: datetime) -> dict:
    line = {}
    for name, _type, _nullable in BUSINESS_COLUMNS:
        value = row[name]
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        line[name] = value
    time_text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return {"event_id": event_id, "event_type": kind, "event_time": time_text, "order_line": line}


class DeltaSilverFeed:
    """Fallback: contract-shaped silver rows written with delta-rs."""

    START = date(2012, 1, 1)

    def __init__(self, spark, lake: Path, work: Path, *, rows: int, seed: int):
        self.lake = lake
        generated = _synthetic_rows(rows, seed, self.START, days=3 * 365)
        year_of = {0: 2012, 1: 2013, 2: 2014}
        self.batches = [
            [row for row in generated if row["order_date"].year == year_of[index]]
            for index in range(3)
        ]

    def load_batch(self, index: int, run_id: str) -> dict:
        rows = [{**row, "run_id": run_id} for row in self.batches[index]]
        self._merge(rows)
        return {"run_id": run_id, "counts": {"inserted": len(rows)}}

    def stream_changes(self, run_id: str, cancel: list[dict], update: list[dict]) -> dict:
        rows = [{**row, "is_deleted": True, "run_id": run_id} for row in cancel]
        rows += [{**row, "run_id": run_id, "record_hash": _hash(row)} for row in update]
        self._merge(rows)
        return {"run_id": run_id}

    def _merge(self, rows: list[dict]) -> None:
        table = pa.Table.from_pylist(rows, schema=arrow_schema(SALES_COLUMNS))
        path = str(self.lake / "silver" / "sales")
        if not (self.lake / "silver" / "sales" / "_delta_log").exists():
            write_deltalake(path, table)
            quarantine = pa.Table.from_pylist(
                [_quarantine_row(rows[0]["run_id"])], schema=arrow_schema(QUARANTINE_COLUMNS)
            )
            write_deltalake(str(self.lake / "silver" / "quarantine"), quarantine)
            return
        (
            DeltaTable(path)
            .merge(table, predicate="t.row_id = s.row_id", source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )


def arrow_schema(columns) -> pa.Schema:
    def arrow_type(spark_type: str) -> pa.DataType:
        if spark_type.startswith("DECIMAL"):
            precision, scale = spark_type[8:-1].split(",")
            return pa.decimal128(int(precision), int(scale))
        return {
            "BIGINT": pa.int64(), "STRING": pa.string(), "DATE": pa.date32(), "INT": pa.int32(),
            "TIMESTAMP": pa.timestamp("us", tz="UTC"), "BOOLEAN": pa.bool_(),
            "ARRAY<STRING>": pa.list_(pa.string()),
        }[spark_type]  # fmt: skip

    return pa.schema(
        [pa.field(name, arrow_type(type_), nullable) for name, type_, nullable in columns]
    )


def _hash(row: dict) -> str:
    text = "|".join(str(row[name]) for name, _t, _n in BUSINESS_COLUMNS)
    return hashlib.sha256(text.encode()).hexdigest()


_PLACES = (
    ("New York City", "New York", "United States", "10035", "US", "East"),
    ("Burlington", "Vermont", "United States", "05401", "US", "East"),
    ("Toronto", "Ontario", "Canada", None, "Canada", "Canada"),
    ("Juárez", "Chihuahua", "Mexico", None, "LATAM", "North"),
    ("Berlin", "Berlin", "Germany", None, "EU", "Central"),
)


def _synthetic_rows(count: int, seed: int, start: date, days: int) -> list[dict]:
    """Order lines in date order; every 7th customer moves and every 5th product is
    renamed mid-2013, so the middle batch holds the change dates."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        row_id = index + 1
        order_date = start + timedelta(days=index * days // count)
        customer, product = rng.randrange(60), rng.randrange(25)
        home = _PLACES[customer % 3]
        moved = customer % 7 == 0 and order_date >= date(2013, 6, 1)
        city, state, country, postal, market, region = (
            _PLACES[(customer + 1) % 3] if moved else home
        )
        renamed = product % 5 == 0 and order_date >= date(2013, 9, 1)
        sales = Decimal(rng.randrange(100, 90000)) / 100
        row = {
            "row_id": row_id, "order_id": f"ES-{order_date.year}-{row_id // 2:06d}",
            "order_date": order_date, "ship_date": order_date + timedelta(days=rng.randrange(0, 7)),
            "ship_mode": rng.choice(["First Class", "Second Class", "Standard Class", "Same Day"]),
            "customer_id": f"CG-{customer:05d}", "customer_name": f"Customer {customer}",
            "segment": ["Consumer", "Corporate", "Home Office"][customer % 3],
            "city": city, "state": state, "country": country, "postal_code": postal,
            "market": market, "region": region,
            "product_id": f"TEC-PH-{product:08d}", "category": ["Technology", "Furniture"][product % 2],
            "sub_category": ["Phones", "Chairs"][product % 2],
            "product_name": f"Phone {product}, {'Pro' if renamed else 'Basic'}",
            "sales": sales, "quantity": rng.randrange(1, 15), "discount": Decimal("0.1"),
            "profit": (sales * Decimal(rng.randrange(-20, 40)) / 100).quantize(Decimal("0.0001")),
            "shipping_cost": (sales / 20).quantize(Decimal("0.0001")),
            "order_priority": rng.choice(["Critical", "High", "Medium", "Low"]),
            "source_uri": f"file:///landing/sales_{order_date.year}.csv", "source_version": None,
            "source_line": row_id + 1, "source_kind": "batch",
            "ingested_at": datetime(2026, 1, 1, tzinfo=UTC), "event_id": None, "event_time": None,
            "is_deleted": False,
        }  # fmt: skip
        row["record_hash"] = _hash(row)
        rows.append(row)
    return rows


def _quarantine_row(run_id: str) -> dict:
    return {
        "run_id": run_id, "source_uri": "file:///landing/sales_2012.csv", "source_version": None,
        "source_kind": "batch", "line_number": 7, "raw_record": "7,ES-2012,31/02/2012",
        "reason_codes": ["impossible_date", "wrong_type"],
        "reason_detail": "Order Date 31/02/2012 does not exist; fix the date",
        "quarantined_at": datetime(2026, 1, 1, tzinfo=UTC),
    }  # fmt: skip
