"""The answer keys written next to the data: faults.jsonl and changes.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sales_data_generator.entities import dual_labels
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


def write_changes(path: Path, stream: OrderStream) -> Counter:
    """changes.jsonl: every planned attribute change, with how many rows fall on each side,
    then the default shapes (shared product IDs, cities labelled twice, blank geography).

    A change is visible to an SCD Type 2 dimension only when rows exist on both sides
    (for customers, counted per order). Returns counts per kind: "move", "segment" and
    "rename" changes visible that way; "shared" product IDs with rows under two names or
    more; "dual_label" cities with orders under both labels.
    """
    sides = stream.change_sides
    visible: Counter = Counter()
    with open(path, "w", encoding="utf-8", newline="\n") as sidecar:
        for kind, entity, key, on, before, after in _planned_changes(stream):
            rows = {"rows_before": sides[(key, "before")], "rows_after": sides[(key, "after")]}
            visible[kind] += bool(rows["rows_before"] and rows["rows_after"])
            entry = {"entity": entity, "id": key, "effective_date": on.isoformat(),
                     "before": before, "after": after} | rows  # fmt: skip
            sidecar.write(json.dumps(entry, ensure_ascii=False) + "\n")
        for entry in _shapes(stream):
            if entry["entity"] == "shared_product_id":
                visible["shared"] += sum(n > 0 for n in entry["rows"]) >= 2
            elif entry["entity"] == "dual_label_city":
                visible["dual_label"] += all(label["orders"] for label in entry["labels"])
            sidecar.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return visible


def _planned_changes(stream: OrderStream):
    for customer in stream.customers:
        if customer.moved_on is not None:
            old, new = customer.home, customer.new_home
            yield (
                "move", "customer", customer.customer_id, customer.moved_on,
                {"City": old.city, "State": old.state, "Country": old.country,
                 "Postal Code": customer.home_postal_code, "Region": old.region},
                {"City": new.city, "State": new.state, "Country": new.country,
                 "Postal Code": customer.new_postal_code, "Region": new.region},
            )  # fmt: skip
        if customer.segment_changed_on is not None:
            yield (
                "segment", "customer", customer.customer_id, customer.segment_changed_on,
                {"Segment": customer.segment}, {"Segment": customer.new_segment},
            )  # fmt: skip
    for product in stream.products:
        if product.renamed_on is not None:
            yield (
                "rename", "product", product.product_id, product.renamed_on,
                {"Product Name": product.name}, {"Product Name": product.new_name},
            )  # fmt: skip


def _shapes(stream: OrderStream):
    """The undated default shapes (none with simple=True): no effective_date, their own
    `entity` values, so a reader of the dated changes can skip them."""
    for product in stream.products:
        if product.other_names:
            yield {
                "entity": "shared_product_id", "id": product.product_id,
                "names": list(product.names),
                "rows": [stream.shared_name_rows[(product.product_id, n)] for n in product.names],
            }  # fmt: skip
    planned = {} if stream.settings.simple else dual_labels(stream.settings.seed)
    for location, second in planned.items():
        labels = ((location.market, location.region), second)
        yield {
            "entity": "dual_label_city", "city": location.city, "state": location.state,
            "country": location.country,
            "labels": [{"Market": m, "Region": r,
                        "orders": stream.label_orders[(location, m, r)]} for m, r in labels],
        }  # fmt: skip
    if not stream.settings.simple:
        yield {"entity": "missing_geography",
               "columns": ["City", "State", "Country", "Postal Code"],
               "orders": stream.missing_geography["orders"],
               "rows": stream.missing_geography["rows"]}  # fmt: skip
