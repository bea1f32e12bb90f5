"""Silver for the gold tests, written the way production writes it: landing CSVs
from the sample-data generator go through the real Glue batch job, three files in
order-date order so a test can load them out of order (a late file); stream
cancellations and updates are MERGEd into silver the way the stream job writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sales_lake.schema import BUSINESS_COLUMNS, SALES_COLUMNS


class GlueSilverFeed:
    """Generated CSVs -> the real batch job; stream changes -> a Delta MERGE."""

    def __init__(self, spark, lake: Path, work: Path, *, rows: int, seed: int):
        from sales_data_generator import write_dataset

        self.spark, self.lake, self.work = spark, lake, work
        report = write_dataset(
            work / "landing", rows=rows, files=3, seed=seed, date_format="iso", changes=True,
            fine_money=True,  # gold must keep the 5- and 10-decimal values exactly
            faults={"bad_date": 0.01, "negative_quantity": 0.01, "unknown_enum": 0.01},
        )  # fmt: skip
        self.batches = sorted(report.files)

    def load_batch(self, indexes: list[int], run_id: str) -> dict:
        from sales_lake.silver_run import run_silver

        uris = ",".join(self.batches[index].as_uri() for index in indexes)
        args = {"run_id": run_id, "lake_uri": self.lake.as_uri(), "source_uris": uris,
                "quality_policy": "continue"}  # fmt: skip
        return run_silver(self.spark, {"source_kind": "batch", **args})

    def restamp(self, run_id: str, moment: datetime) -> None:
        """Give one silver run's rows another run start time (`ingested_at`)."""
        from delta.tables import DeltaTable
        from pyspark.sql import functions as F

        table = DeltaTable.forPath(self.spark, f"{self.lake.as_uri()}/silver/sales")
        table.update(F.col("run_id") == run_id, {"ingested_at": F.lit(moment)})

    def stream_changes(self, run_id: str, cancel: list[dict], update: list[dict]) -> dict:
        """Write what the stream job writes: cancellations set is_deleted, updates bring
        a new after-image and record_hash, both stamp event lineage and ingested_at (the
        run start). A Delta MERGE on row_id with the silver jobs' record_hash; not
        through the stream job (it has its own tests): gold only needs its rows."""
        from delta.tables import DeltaTable as SparkDeltaTable
        from sales_lake.schema import ddl
        from sales_lake.silver_rows import record_hash

        moment, now = datetime(2030, 1, 1, tzinfo=UTC), datetime.now(UTC)
        changed = [{**row, "is_deleted": True} for row in cancel] + update
        changed = [
            {**row, "run_id": run_id, "source_kind": "stream", "event_id": f"{run_id}-{index}",
             "event_time": moment + timedelta(seconds=index), "ingested_at": now}
            for index, row in enumerate(changed)
        ]  # fmt: skip
        names = [name for name, _type, _nullable in SALES_COLUMNS]
        frame = self.spark.createDataFrame(
            [tuple(row.get(name) for name in names) for row in changed], ddl(SALES_COLUMNS)
        ).withColumn("record_hash", record_hash([name for name, _t, _n in BUSINESS_COLUMNS]))
        (
            SparkDeltaTable.forPath(self.spark, f"{self.lake.as_uri()}/silver/sales")
            .alias("t")
            .merge(frame.alias("s"), "t.row_id = s.row_id")
            .whenMatchedUpdateAll()
            .execute()
        )
        return {"run_id": run_id, "rows": len(changed)}
