"""The DML an incremental build sends to Snowflake, read back from dbt's target/run/.

dbt writes each model's main statement to target/run/<project>/<path>.sql as it ran it:
for an incremental run of a model that is the adapter's MERGE (strategy `merge`) or
DELETE then INSERT (`delete+insert`), wrapped in BEGIN ... COMMIT. The file is split
into statements the way dbt-snowflake splits it before sending
(snowflake.connector.util_text.split_statements), so what sqlglot parses here is what
the account receives.

    statements = incremental_statements(work / "target-incremental")
    kinds = parse_all(statements)   # {"fact_sales": {"merge"}, "int_...": {"delete", "insert"}}
"""

from __future__ import annotations

import io
from pathlib import Path

import sqlglot
from snowflake.connector.util_text import split_statements
from sqlglot import exp

DML = {exp.Merge: "merge", exp.Delete: "delete", exp.Insert: "insert", exp.Update: "update"}
VERBS = tuple(f"{kind} " for kind in ("merge", "delete", "insert", "update"))


def split(sql: str) -> list[str]:
    """The statements of a script, comments removed, as dbt-snowflake sends them."""
    return [
        text for text, _is_put_or_get in split_statements(io.StringIO(sql), remove_comments=True)
    ]


def incremental_statements(target_dir: Path) -> dict[str, list[str]]:
    """model name -> the MERGE / DELETE / INSERT / UPDATE statements of its run file, for
    every model under <target_dir>/run/ that ran one (a model built from scratch has a
    CREATE TABLE / VIEW only and is left out)."""
    found: dict[str, list[str]] = {}
    for path in sorted((Path(target_dir) / "run").rglob("*.sql")):
        if "models" not in path.parts:
            continue
        dml = [s for s in split(path.read_text()) if " ".join(s.split()).lower().startswith(VERBS)]
        if dml:
            found.setdefault(path.stem, []).extend(dml)
    return found


def parse_all(statements: dict[str, list[str]]) -> dict[str, set[str]]:
    """Parse every statement with sqlglot's Snowflake dialect (any error raises, naming
    the model); model name -> the statement kinds found ('merge', 'delete', ...)."""
    kinds: dict[str, set[str]] = {}
    for model, texts in statements.items():
        for text in texts:
            try:
                parsed = sqlglot.parse_one(
                    text, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE
                )
            except sqlglot.errors.SqlglotError as error:
                raise AssertionError(f"{model}: sqlglot cannot parse\n{text}\n{error}") from error
            kind = DML.get(type(parsed))
            if kind is None:
                raise AssertionError(f"{model}: {type(parsed).__name__} is not DML:\n{text}")
            kinds.setdefault(model, set()).add(kind)
    return kinds
