"""Pure DataFrame transforms of the stream job: JSON-lines event files -> silver rows.

Every line read gets exactly one outcome, which is what makes conservation
checkable: `quarantined` (malformed), `duplicate` (an event id seen earlier in
the run), `superseded` (a newer event for the same row is in the run; counted as
a duplicate, as the batch job counts older copies of a row), and for
the newest event of each row, compared with silver: `inserted`, `updated`,
`refreshed` (newer event, same content: only the event lineage moves),
`stale` (silver holds a newer event) or `replayed` (silver holds this event).

Events carry the full order line after the change (see msk_connect/events.py),
so applying the newest event of each row is the same as applying all of them
in event-time order. Ordering is total: (event_time, event_id).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sales_lake.schema import BUSINESS_COLUMNS, ENUMERATIONS, SALES_COLUMNS

EVENT_TYPES = ("order_line_created", "order_line_updated", "order_line_cancelled")
CANCELLED = "order_line_cancelled"

# Outcomes and the metrics count each one adds to.
OUTCOME_COUNT = {
    "quarantined": "quarantined",
    "duplicate": "duplicates",
    "superseded": "duplicates",  # an older copy of the row in this run, as in the batch job
    "stale": "unchanged",
    "replayed": "unchanged",
    "refreshed": "unchanged",
    "inserted": "inserted",
    "updated": "updated",
}
WRITE_OUTCOMES = ("inserted", "updated", "refreshed")

_ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DECIMAL = {"DECIMAL(18,4)": r"^-?\d{1,14}(\.\d{1,4})?$", "DECIMAL(5,4)": r"^-?\d(\.\d{1,4})?$"}
_INTEGER = r"^-?\d{1,18}$"
_CORRUPT = "_corrupt_record"

# Parse every field as text: a wrong type then becomes a reason code, not a lost line.
EVENT_SCHEMA = (
    "event_id STRING, event_type STRING, event_time STRING, order_line STRUCT<"
    + ", ".join(f"{name}: STRING" for name, _type, _nullable in BUSINESS_COLUMNS)
    + f">, {_CORRUPT} STRING"
)


def explode_lines(files: DataFrame) -> DataFrame:
    """(source_uri, text) per file -> one row per non-blank line, numbered from 1."""
    lines = files.select(
        "source_uri", F.posexplode(F.split("text", "\n")).alias("position", "raw_record")
    )
    return (
        lines.withColumn("raw_record", F.regexp_replace("raw_record", "\r$", ""))
        .where(F.trim("raw_record") != "")
        .select("source_uri", (F.col("position") + 1).alias("line_number"), "raw_record")
    )


def _field(name: str) -> Column:
    return F.col(name)


def _blank(column: Column) -> Column:
    return column.isNull() | (F.trim(column) == "")


def _checks() -> list[tuple[str, Column, Column]]:
    """(reason code, failing condition, human detail) for every rule of a valid event."""
    event_id, event_type, event_time = (
        F.col("event_id"),
        F.col("event_type"),
        F.col("event_time_text"),
    )
    checks: list[tuple[str, Column, Column]] = [
        ("missing_event_id", _blank(event_id), F.lit("event_id is missing or blank")),
        (
            "unknown_event_type",
            event_type.isNull() | ~event_type.isin(*EVENT_TYPES),
            F.concat(
                F.lit("event_type "),
                F.coalesce(event_type, F.lit("null")),
                F.lit(f" is not one of {', '.join(EVENT_TYPES)}"),
            ),
        ),
        (
            "bad_event_time",
            event_time.isNull() | ~event_time.rlike(_ISO_INSTANT) | F.col("event_ts").isNull(),
            F.concat(
                F.lit("event_time "),
                F.coalesce(event_time, F.lit("null")),
                F.lit(" is not ISO-8601 with a zone (e.g. 2026-11-26T07:41:15.123Z)"),
            ),
        ),
        ("missing_order_line", ~F.col("has_order_line"), F.lit("order_line object is missing")),
    ]
    for name, type_, nullable in BUSINESS_COLUMNS:
        value = _field(name)
        shown = F.coalesce(value, F.lit("null"))
        if not nullable:
            checks.append(
                (f"missing_{name}", _blank(value), F.lit(f"order_line.{name} is missing"))
            )
        if type_ == "DATE":
            bad = ~value.rlike(_ISO_DATE) | F.to_date(value, "yyyy-MM-dd").isNull()
            detail = F.concat(
                F.lit(f"order_line.{name} "), shown, F.lit(" is not a YYYY-MM-DD date")
            )
        elif type_ in _DECIMAL:
            bad = ~value.rlike(_DECIMAL[type_])
            detail = F.concat(
                F.lit(f"order_line.{name} "),
                shown,
                F.lit(f' is not a {type_} (send money as a string, e.g. "12.34")'),
            )
        elif type_ in ("BIGINT", "INT"):
            bad = ~value.rlike(_INTEGER) | (value.cast("bigint") <= 0)
            detail = F.concat(
                F.lit(f"order_line.{name} "), shown, F.lit(" is not a positive integer")
            )
        elif name in ENUMERATIONS:
            bad = ~value.isin(*sorted(ENUMERATIONS[name]))
            detail = F.concat(
                F.lit(f"order_line.{name} "),
                shown,
                F.lit(f" is not one of {', '.join(sorted(ENUMERATIONS[name]))}"),
            )
        else:
            continue
        checks.append((f"bad_{name}", ~_blank(value) & bad, detail))
    return checks


def parse_json(lines: DataFrame) -> DataFrame:
    """Parse each line into flat text columns (`not_json` marks lines that are no object).

    Materialize the result (the job checkpoints it) before validating: otherwise
    Spark pushes each field access into its own copy of from_json.
    """
    event = F.from_json("raw_record", EVENT_SCHEMA, {"columnNameOfCorruptRecord": _CORRUPT})
    parsed = lines.withColumn("event", event)
    return parsed.select(
        "source_uri",
        "line_number",
        "raw_record",
        (F.col("event").isNull() | F.col(f"event.{_CORRUPT}").isNotNull()).alias("not_json"),
        F.col("event.event_id").alias("event_id"),
        F.col("event.event_type").alias("event_type"),
        F.col("event.event_time").alias("event_time_text"),
        F.col("event.event_time").cast("timestamp").alias("event_ts"),
        F.col("event.order_line").isNotNull().alias("has_order_line"),
        *[F.col("event.order_line").getField(n).alias(n) for n, _t, _n in BUSINESS_COLUMNS],
    )


def validate(parsed: DataFrame) -> DataFrame:
    """Add `reason_codes` (empty when the event is valid) and a readable `reason_detail`.

    One cheap test (any rule failed?) splits the events; the codes and details, ~70
    rules of text building that outgrow the JVM's 64 KB method limit and run
    interpreted, are computed only for the failing few.
    """
    checks = _checks()
    not_json = F.col("not_json")
    failed = not_json
    for _code, bad, _detail in checks:
        failed = failed | F.coalesce(bad, F.lit(False))
    codes = F.when(not_json, F.array(F.lit("invalid_json"))).otherwise(
        F.filter(F.array(*[F.when(bad, F.lit(code)) for code, bad, _ in checks]), F.isnotnull)
    )
    details = F.when(
        not_json, F.lit("line is not a JSON object: each line must be one event object")
    ).otherwise(F.concat_ws("; ", *[F.when(bad, detail) for _code, bad, detail in checks]))
    marked = parsed.withColumn("_failed", failed)
    passing = marked.where(~F.col("_failed")).withColumns(
        {"reason_codes": F.array().cast("array<string>"), "reason_detail": F.lit("")}
    )
    failing = marked.where(F.col("_failed")).withColumns(
        {"reason_codes": codes, "reason_detail": details}
    )
    return passing.unionByName(failing).drop("_failed")


def typed_rows(events: DataFrame) -> DataFrame:
    """Validated events -> silver business columns (typed; NULL where invalid), event
    lineage columns, and the reason columns to split valid from quarantined."""
    columns = []
    for name, type_, _nullable in BUSINESS_COLUMNS:
        value = _field(name)
        if type_ == "DATE":
            typed = F.to_date(value, "yyyy-MM-dd")
        elif type_ == "STRING":
            typed = F.when(~_blank(value), value)  # blank optional text -> NULL
        else:
            typed = value.cast(type_)
        columns.append(typed.alias(name))
    return events.select(
        *columns,
        "event_id",
        F.col("event_ts").alias("event_time"),
        (F.col("event_type") == F.lit(CANCELLED)).alias("is_deleted"),
        "source_uri",
        "line_number",
        "raw_record",
        "reason_codes",
        "reason_detail",
    )


def rank_events(rows: DataFrame) -> DataFrame:
    """Add `outcome`: NULL for the newest event of each row, `duplicate` for another copy
    of an event id already ranked, `superseded` for an older event of the row.

    One window (one shuffle): copies of an event share its time and id, so they sort
    next to each other within the row.
    """
    newest_first = Window.partitionBy("row_id").orderBy(
        F.col("event_time").desc(), F.col("event_id").desc(), "source_uri", "line_number"
    )
    rank = F.row_number().over(newest_first)
    previous_id = F.lag("event_id").over(newest_first)
    outcome = (
        F.when(rank == 1, F.lit(None).cast("string"))
        .when(previous_id == F.col("event_id"), F.lit("duplicate"))
        .otherwise(F.lit("superseded"))
    )
    return rows.withColumn("outcome", outcome)


def newer_than_stored(
    event_time: Column, event_id: Column, stored_time: Column, stored_id: Column
) -> Column:
    """The one ordering rule, used for counting and as the MERGE guard."""
    return (
        stored_time.isNull()
        | (event_time > stored_time)
        | ((event_time == stored_time) & (event_id > F.coalesce(stored_id, F.lit(""))))
    )


def classify(ranked: DataFrame, silver: DataFrame | None) -> DataFrame:
    """Decide the outcome of each row's newest event against the stored silver row."""
    if silver is None:
        return ranked.withColumn("outcome", F.coalesce("outcome", F.lit("inserted")))
    stored = silver.select(
        F.col("row_id").alias("_s_row_id"),
        F.col("event_time").alias("_s_time"),
        F.col("event_id").alias("_s_id"),
        F.col("record_hash").alias("_s_hash"),
        F.col("is_deleted").alias("_s_deleted"),
    )
    joined = ranked.join(
        stored, (F.col("row_id") == F.col("_s_row_id")) & F.col("outcome").isNull(), "left"
    )
    newer = newer_than_stored(
        F.col("event_time"), F.col("event_id"), F.col("_s_time"), F.col("_s_id")
    )
    same_content = (F.col("record_hash") == F.col("_s_hash")) & (
        F.col("is_deleted") == F.col("_s_deleted")
    )
    outcome = (
        F.when(F.col("outcome").isNotNull(), F.col("outcome"))
        .when(F.col("_s_row_id").isNull(), F.lit("inserted"))
        .when(F.col("event_id") == F.col("_s_id"), F.lit("replayed"))
        .when(~newer, F.lit("stale"))
        .when(same_content, F.lit("refreshed"))
        .otherwise(F.lit("updated"))
    )
    return joined.withColumn("outcome", outcome).drop(
        *[c for c in joined.columns if c.startswith("_s_")]
    )


def sales_columns() -> list[str]:
    return [name for name, _type, _nullable in SALES_COLUMNS]
