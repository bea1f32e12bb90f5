"""The answer keys written next to the data: faults.jsonl and changes.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sales_data_generator.faults import Injection
from sales_data_generator.orders import OrderStream

FAULTS_SIDECAR = "faults.jsonl"
CHANGES_SIDECAR = "changes.jsonl"


class FaultLog:
    """faults.jsonl: one JSON line per injected fault, at its file and physical line."""

    def __init__(self, path: Path):
        self._file = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.counts: Counter = Counter()

    def record(self, file: str, line: int, injection: Injection, row_id: int, **extra) -> None:
        self.counts[injection.kind] += 1
        entry = {"file": file, "line": line, "kind": injection.kind, "row_id": row_id,
                 "field": injection.field, "detail": injection.detail} | extra  # fmt: skip
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._file.close()


def write_changes(path: Path, stream: OrderStream) -> tuple[int, int]:
    """changes.jsonl: every planned attribute change, with how many rows fall on each side.

    A change is visible to an SCD Type 2 dimension only when rows exist on both sides
    (for customers, counted per order): returns the (customer, product) counts of those.
    """
    sides = stream.change_sides
    visible: Counter = Counter()
    with open(path, "w", encoding="utf-8", newline="\n") as sidecar:
        for entity, key, on, before, after in _planned_changes(stream):
            rows = {"rows_before": sides[(key, "before")], "rows_after": sides[(key, "after")]}
            visible[entity] += bool(rows["rows_before"] and rows["rows_after"])
            entry = {"entity": entity, "id": key, "effective_date": on.isoformat(),
                     "before": before, "after": after} | rows  # fmt: skip
            sidecar.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return visible["customer"], visible["product"]


def _planned_changes(stream: OrderStream):
    for customer in stream.customers:
        if customer.moved_on is not None:
            old, new = customer.home, customer.new_home
            yield (
                "customer", customer.customer_id, customer.moved_on,
                {"City": old.city, "State": old.state, "Country": old.country,
                 "Postal Code": customer.home_postal_code, "Region": old.region},
                {"City": new.city, "State": new.state, "Country": new.country,
                 "Postal Code": customer.new_postal_code, "Region": new.region},
            )  # fmt: skip
    for product in stream.products:
        if product.renamed_on is not None:
            yield (
                "product", product.product_id, product.renamed_on,
                {"Product Name": product.name}, {"Product Name": product.new_name},
            )  # fmt: skip
