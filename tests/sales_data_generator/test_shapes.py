"""The default shapes of a real Global Superstore export, visible in ~2,400 rows.

Expectations come from the data itself; the changes sidecar is checked against it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime
from itertools import groupby
from statistics import mean

import pytest
from sales_lake.rules import ENUMERATIONS
from sales_lake.schema import CANONICAL_HEADER

from sales_data_generator import write_dataset
from sales_data_generator.reading import csv_fields, physical_lines
from sales_data_generator.reference import LOCATIONS

ROWS, FILES, SEED = 2_400, 3, 11
COL = {name: i for i, name in enumerate(CANONICAL_HEADER)}
GEOGRAPHY = ("City", "State", "Country", "Postal Code")


def dmy(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def read(report) -> tuple[list[dict[str, str]], list[dict]]:
    rows = [
        dict(zip(CANONICAL_HEADER, csv_fields(line), strict=True))
        for path in report.files
        for line in physical_lines(path)[1:]
    ]
    entries = [json.loads(line) for line in report.changes_path.read_text().splitlines()]
    return rows, entries


@pytest.fixture(scope="module")
def shaped(tmp_path_factory):
    report = write_dataset(tmp_path_factory.mktemp("shapes"), rows=ROWS, files=FILES, seed=SEED)
    return report, *read(report)


@pytest.fixture(scope="module")
def simple(tmp_path_factory):
    report = write_dataset(
        tmp_path_factory.mktemp("simple"), rows=ROWS, files=FILES, seed=SEED, simple=True
    )
    return report, *read(report)


def by(rows, key, value):
    groups = defaultdict(set)
    for row in rows:
        groups[row[key]].add(value(row))
    return groups


def test_customers_have_one_name_and_one_segment_unless_they_change_it(shaped):
    report, rows, entries = shaped
    assert all(
        len(names) == 1 for names in by(rows, "Customer ID", lambda r: r["Customer Name"]).values()
    )
    segments = by(rows, "Customer ID", lambda r: r["Segment"])
    changers = {cid for cid, values in segments.items() if len(values) > 1}
    assert changers and len(changers) <= 0.1 * len(segments)
    # A changer switches once, on a date, and stays switched: two runs by order date.
    dated = {e["id"]: e for e in entries if e["entity"] == "customer"}
    for cid in changers:
        history = sorted(
            (dmy(r["Order Date"]), r["Segment"]) for r in rows if r["Customer ID"] == cid
        )
        runs = [segment for segment, _ in groupby(segment for _, segment in history)]
        assert runs == [dated[cid]["before"]["Segment"], dated[cid]["after"]["Segment"]], cid
        switch = next(day for day, segment in history if segment == runs[1])
        assert switch >= date.fromisoformat(dated[cid]["effective_date"])
    assert report.segment_changes == len(changers)


def test_customers_order_to_several_places_some_over_markets(shaped):
    _, rows, _ = shaped
    located = [r for r in rows if r["City"]]
    cities = by(located, "Customer ID", lambda r: (r["Country"], r["State"], r["City"]))
    markets = by(located, "Customer ID", lambda r: r["Market"])
    orders = by(rows, "Customer ID", lambda r: r["Order ID"])
    assert mean(len(places) for places in cities.values()) >= 3
    assert sum(len(m) >= 2 for m in markets.values()) >= 0.1 * len(markets)
    # a few places recur: a customer's busiest place takes more than its share of orders
    busiest = []
    for cid, order_ids in orders.items():
        if len(order_ids) >= 6:
            per_order = {(r["Order ID"], r["City"]) for r in located if r["Customer ID"] == cid}
            top = Counter(city for _, city in per_order).most_common(1)[0][1]
            busiest.append(top / len(order_ids))
    assert busiest and mean(busiest) > 0.3


def test_a_product_id_carries_names_interleaved_over_time(shaped):
    report, rows, entries = shaped
    names = by(rows, "Product ID", lambda r: r["Product Name"])
    interleaved = []
    for pid, seen in names.items():
        if len(seen) < 2:
            continue
        history = sorted((dmy(r["Order Date"]), int(r["Row ID"]), r["Product Name"])
                         for r in rows if r["Product ID"] == pid)  # fmt: skip
        runs = [name for name, _ in groupby(name for *_, name in history)]
        if len(runs) > len(set(runs)):  # a name, another one, then the first again
            interleaved.append(pid)
        categories = {(r["Category"], r["Sub-Category"]) for r in rows if r["Product ID"] == pid}
        assert len(categories) == 1, pid
    assert interleaved
    shared = {e["id"]: e for e in entries if e["entity"] == "shared_product_id"}
    renamed = {e["id"] for e in entries if e["entity"] == "product"}
    assert not shared.keys() & renamed  # shared or renamed, never both
    assert set(interleaved) <= shared.keys()
    for pid, entry in shared.items():  # the sidecar counts what the data holds
        counts = Counter(r["Product Name"] for r in rows if r["Product ID"] == pid)
        assert entry["rows"] == [counts[name] for name in entry["names"]]
        assert len(set(entry["names"])) == len(entry["names"]) >= 2
    assert report.shared_product_ids == sum(len(v) >= 2 for k, v in names.items() if k in shared)


def test_a_city_appears_under_two_market_region_labels(shaped):
    report, rows, entries = shaped
    labels = by(
        [r for r in rows if r["City"]],
        "City",
        lambda r: (r["Country"], r["State"], r["Market"], r["Region"]),
    )
    twice = {city: values for city, values in labels.items() if len(values) >= 2}
    assert twice
    for city, values in twice.items():
        assert len({(country, state) for country, state, _, _ in values}) == 1, city
        assert {market for _, _, market, _ in values} <= ENUMERATIONS["market"]
    dual = {e["city"]: e for e in entries if e["entity"] == "dual_label_city"}
    assert twice.keys() <= dual.keys()
    for city, entry in dual.items():
        per_label = Counter(
            (market, region) for _, market, region in
            {(r["Order ID"], r["Market"], r["Region"]) for r in rows if r["City"] == city}
        )  # fmt: skip
        # the sidecar also counts orders there that ship without geography
        for label in entry["labels"]:
            assert label["orders"] >= per_label[(label["Market"], label["Region"])]
        (blank,) = [e["orders"] for e in entries if e["entity"] == "missing_geography"]
        assert sum(label["orders"] for label in entry["labels"]) <= sum(per_label.values()) + blank
    assert report.dual_label_cities == len(twice)


def test_some_lines_have_no_geography_but_keep_market_and_region(shaped):
    report, rows, entries = shaped
    blank = [r for r in rows if not any(r[c] for c in GEOGRAPHY)]
    assert blank and all(r["City"] == "" for r in blank)
    assert not [r for r in rows if not r["City"] and any(r[c] for c in GEOGRAPHY)]
    codes = {loc.country_code for loc in LOCATIONS}
    for row in blank:
        assert row["Market"] in ENUMERATIONS["market"] and row["Region"], row
        assert row["Order ID"].split("-")[0] in codes
    (entry,) = [e for e in entries if e["entity"] == "missing_geography"]
    assert entry["rows"] == len(blank) == report.rows_missing_geography
    assert entry["orders"] == len({r["Order ID"] for r in blank})
    assert len(blank) < 0.03 * len(rows)


def test_simple_keeps_one_place_per_customer_before_and_after_a_move(simple):
    report, rows, entries = simple
    moves = {e["id"]: e for e in entries if e["entity"] == "customer"}
    assert moves and all("City" in e["before"] for e in moves.values())
    places = defaultdict(list)
    for row in rows:
        place = tuple(row[c] for c in ("City", "State", "Country", "Postal Code", "Market"))
        places[row["Customer ID"]].append((dmy(row["Order Date"]), place, row["Segment"]))
    for cid, history in places.items():
        history.sort()
        runs = [place for place, _ in groupby(place for _, place, _ in history)]
        assert len(runs) <= 2 and all(place[0] for place in runs), cid
        assert len(runs) == 1 or cid in moves, cid
        assert len({segment for *_, segment in history}) == 1, cid
    names = by(rows, "Product ID", lambda r: r["Product Name"])
    renamed = {e["id"] for e in entries if e["entity"] == "product"}
    assert all(len(v) == 1 or (len(v) == 2 and k in renamed) for k, v in names.items())
    labels = by(rows, "City", lambda r: (r["Market"], r["Region"]))
    assert all(len(v) == 1 for v in labels.values())
    assert {e["entity"] for e in entries} == {"customer", "product"}
    assert report.rows_missing_geography == report.shared_product_ids == 0
