"""The sample-data generator writes realistic, deterministic Global Superstore files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sales_lake.rules import ENUMERATIONS
from sales_lake.schema import CANONICAL_HEADER

from local_twin.cli import main as twin
from sales_data_generator import SAMPLE_SUPERSTORE_HEADER, write_dataset
from sales_data_generator.entities import build_products
from sales_data_generator.reading import csv_fields, physical_lines
from sales_data_generator.reference import LOCATIONS, SHIP_DAYS

ROWS, FILES, SEED = 3_000, 3, 7
CENT = Decimal("0.01")
COL = {name: i for i, name in enumerate(CANONICAL_HEADER)}


def dmy(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    report = write_dataset(out, rows=ROWS, files=FILES, seed=SEED, first_row_id=101)
    rows_by_file = {
        path.name: [csv_fields(line) for line in physical_lines(path)] for path in report.files
    }
    return report, rows_by_file


def data_rows(rows_by_file):
    return [row for rows in rows_by_file.values() for row in rows[1:]]


def test_files_are_named_landing_style_and_hold_every_row(clean):
    report, rows_by_file = clean
    assert [p.name for p in report.files] == [
        "sales_2012-01-01_0001.csv",
        "sales_2013-05-02_0002.csv",
        "sales_2014-09-01_0003.csv",
    ]
    assert report.rows_written == ROWS == len(data_rows(rows_by_file))
    assert all(rows[0] == list(CANONICAL_HEADER) for rows in rows_by_file.values())
    assert all(len(row) == 24 for row in data_rows(rows_by_file))
    assert report.faults == {} and report.faults_path.read_text() == ""


def test_row_ids_unique_and_increasing_from_first_row_id(clean):
    report, rows_by_file = clean
    ids = [int(row[COL["Row ID"]]) for row in data_rows(rows_by_file)]
    assert ids == list(range(101, 101 + ROWS))
    assert report.next_row_id == 101 + ROWS


def test_rows_are_in_order_date_order_within_each_files_day_range(clean):
    _, rows_by_file = clean
    starts = [date.fromisoformat(name.split("_")[1]) for name in rows_by_file] + [date.max]
    previous = date.min
    for index, rows in enumerate(rows_by_file.values()):
        for row in rows[1:]:
            order_date = dmy(row[COL["Order Date"]])
            assert starts[index] <= order_date < starts[index + 1]
            assert order_date >= previous
            previous = order_date
    assert previous.year == 2015  # four years by default


def test_ship_dates_follow_ship_mode(clean):
    _, rows_by_file = clean
    for row in data_rows(rows_by_file):
        lag = (dmy(row[COL["Ship Date"]]) - dmy(row[COL["Order Date"]])).days
        low, high = SHIP_DAYS[row[COL["Ship Mode"]]]
        assert low <= lag <= high <= 7


def test_sales_is_unit_price_times_quantity_times_one_minus_discount(clean):
    _, rows_by_file = clean
    prices = {p.product_id: p.unit_price_cents for p in build_products(SEED, date.min, 0, False)}
    for row in data_rows(rows_by_file):
        quantity, discount = int(row[COL["Quantity"]]), Decimal(row[COL["Discount"]])
        assert 1 <= quantity <= 14
        assert discount * 10 in set(range(9))
        unit_price = Decimal(prices[row[COL["Product ID"]]]) / 100
        expected = (unit_price * quantity * (1 - discount)).quantize(CENT, ROUND_HALF_UP)
        assert Decimal(row[COL["Sales"]]) == expected
        assert Decimal(row[COL["Shipping Cost"]]) >= 0
        assert abs(Decimal(row[COL["Profit"]])) <= Decimal(row[COL["Sales"]])
    profits = [Decimal(row[COL["Profit"]]) for row in data_rows(rows_by_file)]
    assert min(profits) < 0 < max(profits)


def test_values_come_from_the_schema_enumerations(clean):
    _, rows_by_file = clean
    for column in ("Segment", "Ship Mode", "Order Priority", "Market"):
        seen = {row[COL[column]] for row in data_rows(rows_by_file)}
        assert seen == set(ENUMERATIONS[column.lower().replace(" ", "_")])


def sidecar(report, entity=None):
    entries = [json.loads(line) for line in report.changes_path.read_text().splitlines()]
    return [e for e in entries if entity is None or e["entity"] == entity]


def test_geography_belongs_together_and_postal_codes_are_us_only(clean):
    report, rows_by_file = clean
    places = {(loc.market, loc.region, loc.country, loc.state, loc.city): loc for loc in LOCATIONS}
    by_city = {(loc.country, loc.state, loc.city): loc for loc in LOCATIONS}
    for entry in sidecar(report, "dual_label_city"):  # the only places with a second label
        loc = by_city[(entry["country"], entry["state"], entry["city"])]
        assert [(label["Market"], label["Region"]) for label in entry["labels"]][0] == (
            loc.market, loc.region,
        )  # fmt: skip
        for label in entry["labels"][1:]:
            assert label["Market"] in ENUMERATIONS["market"]
            places[(label["Market"], label["Region"], loc.country, loc.state, loc.city)] = loc
    labels = {key[:2] for key in places}
    us_codes, blank = set(), 0
    for row in data_rows(rows_by_file):
        key = tuple(row[COL[c]] for c in ("Market", "Region", "Country", "State", "City"))
        postal = row[COL["Postal Code"]]
        if key[2:] == ("", "", "") and postal == "":  # a line without geography
            assert key[:2] in labels, key
            blank += 1
            continue
        assert key in places, key
        if row[COL["Country"]] == "United States":
            assert postal in places[key].postal_codes and len(postal) == 5 and postal.isdigit()
            us_codes.add(postal)
        else:
            assert postal == ""
    assert any(code.startswith("0") for code in us_codes)  # leading zeros kept
    assert 0 < blank < len(data_rows(rows_by_file)) * 0.03


def test_orders_group_lines_of_one_customer_on_one_date(clean):
    _, rows_by_file = clean
    orders = defaultdict(set)
    for row in data_rows(rows_by_file):
        orders[row[COL["Order ID"]]].add(
            tuple(
                row[COL[c]]
                for c in (
                    "Order Date",
                    "Customer ID",
                    "City",
                    "Ship Mode",
                    "Segment",
                    "Market",
                    "Region",
                    "Postal Code",
                )
            )
        )
    assert all(len(variants) == 1 for variants in orders.values())
    assert ROWS / len(orders) > 1.5  # multi-line orders exist


def test_text_is_realistic_non_ascii_and_product_names_hold_commas(clean):
    _, rows_by_file = clean
    text = json.dumps(data_rows(rows_by_file), ensure_ascii=False)
    assert any(name in text for name in ("Juárez", "Paysandú", "São Paulo", "Zürich"))
    names = {row[COL["Product Name"]] for row in data_rows(rows_by_file)}
    assert any("," in name for name in names) and any('"' in name for name in names)
    assert len({row[COL["Customer ID"]] for row in data_rows(rows_by_file)}) <= ROWS // 15


def check_dated_changes(report, rows_by_file) -> Counter:
    """Rows carry the old attributes before the change date and the new ones from it on;
    the sidecar counts them right. Returns the visible changes per entity."""
    changes = [c for c in sidecar(report) if "effective_date" in c]
    column = {"customer": "Customer ID", "product": "Product ID"}
    seen = defaultdict(set)  # (id, side) -> orders (customers) or rows (products)
    for change in changes:
        on = date.fromisoformat(change["effective_date"])
        for row in data_rows(rows_by_file):
            if row[COL[column[change["entity"]]]] != change["id"]:
                continue
            side = "after" if dmy(row[COL["Order Date"]]) >= on else "before"
            for field, value in change[side].items():
                assert row[COL[field]] == value, (change, row)
            unit = "Order ID" if change["entity"] == "customer" else "Row ID"
            seen[(change["id"], side)].add(row[COL[unit]])
    visible = Counter()
    for change in changes:
        assert change["rows_before"] == len(seen[(change["id"], "before")])
        assert change["rows_after"] == len(seen[(change["id"], "after")])
        visible[change["entity"]] += bool(change["rows_before"] and change["rows_after"])
    return visible


def test_customers_change_segment_and_products_are_renamed_from_a_date_on(clean):
    report, rows_by_file = clean
    visible = check_dated_changes(report, rows_by_file)
    customer_changes = sidecar(report, "customer")
    assert customer_changes and all(
        set(c["before"]) == set(c["after"]) == {"Segment"} != {c["before"]["Segment"]}
        for c in customer_changes
    )
    assert report.segment_changes == visible["customer"] > 0 == report.customer_moves
    assert report.product_renames == visible["product"] > 0


def test_simple_customers_move_and_products_are_renamed_from_a_date_on(tmp_path):
    report = write_dataset(tmp_path, rows=ROWS, files=FILES, seed=SEED, simple=True)
    rows_by_file = {p.name: [csv_fields(line) for line in physical_lines(p)] for p in report.files}
    visible = check_dated_changes(report, rows_by_file)
    assert all("City" in c["before"] for c in sidecar(report, "customer"))
    assert report.customer_moves == visible["customer"] > 0 == report.segment_changes
    assert report.product_renames == visible["product"] > 0
    assert {e["entity"] for e in sidecar(report)} == {"customer", "product"}


def test_no_changes_keeps_every_attribute_fixed(tmp_path):
    report = write_dataset(tmp_path, rows=1_500, seed=SEED, changes=False)
    rows = [csv_fields(line) for line in physical_lines(report.files[0])][1:]
    segments, names = defaultdict(set), defaultdict(set)
    for row in rows:
        segments[row[COL["Customer ID"]]].add((row[COL["Customer Name"]], row[COL["Segment"]]))
        names[row[COL["Product ID"]]].add(row[COL["Product Name"]])
    assert all(len(v) == 1 for v in segments.values())
    shared = {e["id"]: set(e["names"]) for e in sidecar(report, "shared_product_id")}
    assert all(len(v) == 1 or v <= shared[k] for k, v in names.items())
    assert not [e for e in sidecar(report) if "effective_date" in e]  # no dated change


def test_simple_without_changes_keeps_every_attribute_fixed(tmp_path):
    report = write_dataset(tmp_path, rows=1_500, seed=SEED, changes=False, simple=True)
    rows = [csv_fields(line) for line in physical_lines(report.files[0])][1:]
    places, names = defaultdict(set), defaultdict(set)
    for row in rows:
        places[row[COL["Customer ID"]]].add(tuple(row[COL["Segment"] + 1 : COL["Region"] + 1]))
        names[row[COL["Product ID"]]].add(row[COL["Product Name"]])
    assert all(len(v) == 1 for v in places.values()) and all(len(v) == 1 for v in names.values())
    assert report.changes_path.read_text() == ""


def test_same_arguments_give_byte_identical_files(tmp_path):
    kwargs = dict(
        rows=800, files=2, seed=3, gzip=True, faults={"duplicate": 0.05, "encoding": 0.05}
    )
    first = write_dataset(tmp_path / "a", **kwargs)
    second = write_dataset(tmp_path / "b", **kwargs)
    other_seed = write_dataset(tmp_path / "c", **(kwargs | {"seed": 4}))
    for one, two, three in zip(first.files, second.files, other_seed.files, strict=True):
        assert one.read_bytes() == two.read_bytes() != three.read_bytes()
    assert first.faults_path.read_bytes() == second.faults_path.read_bytes()
    assert first.changes_path.read_bytes() == second.changes_path.read_bytes()


@pytest.fixture(scope="module")
def reference_text(tmp_path_factory):
    """600 rows in the default options, as text lines, to compare the variants with."""
    report = write_dataset(tmp_path_factory.mktemp("ref"), rows=600, seed=SEED)
    return [line.decode("utf-8") for line in physical_lines(report.files[0])]


@pytest.mark.parametrize(
    "options, raw_check",
    [
        ({"gzip": True}, lambda raw: raw[:2] == b"\x1f\x8b"),
        ({"crlf": True}, lambda raw: raw.count(b"\r\n") == raw.count(b"\n") == 601),
        ({"encoding": "utf-8-sig"}, lambda raw: raw.startswith(b"\xef\xbb\xbfRow ID,")),
        ({"encoding": "latin-1"}, lambda raw: b"\xfc" in raw or b"\xe1" in raw),
    ],
    ids=["gzip", "crlf", "bom", "latin-1"],
)
def test_file_options_change_bytes_not_content(tmp_path, reference_text, options, raw_check):
    report = write_dataset(tmp_path, rows=600, seed=SEED, **options)
    path = report.files[0]
    assert path.name.endswith(".csv.gz" if options.get("gzip") else ".csv")
    assert raw_check(path.read_bytes())
    encoding = "latin-1" if options.get("encoding") == "latin-1" else "utf-8"
    assert [line.decode(encoding) for line in physical_lines(path)] == reference_text


@pytest.mark.parametrize(
    "date_format, pattern, sample",
    [
        ("iso", "%Y-%m-%d", "2012-01-01"),
        ("dmy-dash", "%d-%m-%Y", "01-01-2012"),
        ("mdy", "%m/%d/%Y", "1/1/2012"),
    ],  # fmt: skip
)
def test_date_formats(tmp_path, reference_text, date_format, pattern, sample):
    report = write_dataset(tmp_path, rows=600, seed=SEED, date_format=date_format)
    rows = [csv_fields(line) for line in physical_lines(report.files[0])][1:]
    reference = [csv_fields(line.encode()) for line in reference_text][1:]
    assert rows[0][COL["Order Date"]] == sample
    for row, ref in zip(rows, reference, strict=True):
        for column in ("Order Date", "Ship Date"):
            assert datetime.strptime(row[COL[column]], pattern).date() == dmy(ref[COL[column]])


def test_sample_superstore_header_is_the_21_column_variant(tmp_path):
    report = write_dataset(tmp_path, rows=200, header="sample-superstore")
    rows = [csv_fields(line) for line in physical_lines(report.files[0])]
    assert rows[0] == list(SAMPLE_SUPERSTORE_HEADER) and len(rows[0]) == 21
    assert not {"Market", "Shipping Cost", "Order Priority"} & set(rows[0])
    assert all(len(row) == 21 for row in rows)
    assert rows[0].index("Country") < rows[0].index("City")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"faults": {"typo": 0.1}}, "unknown fault kind"),
        ({"faults": {"malformed": 0.6, "bad_date": 0.6}}, "at most one fault per row"),
        ({"faults": {"encoding": 0.1}, "encoding": "latin-1"}, "use encoding='utf-8'"),
        ({"files": 5, "days": 3}, "each file covers at least one day"),
        ({"date_format": "ymd"}, "use one of iso, dmy"),
        ({"files": 2, "name": "x.csv"}, "an exact name needs files=1"),
        ({"gzip": True, "name": "x.csv"}, "ending in .csv.gz"),
    ],
)
def test_bad_arguments_say_how_to_fix_them(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_dataset(tmp_path, rows=10, **kwargs)


def test_cli_generate_writes_files_and_prints_a_summary(tmp_path, capsys):
    faults = "malformed=0.05,bad_date=0.05"
    code = twin(["generate", "--rows", "300", "--files", "2", "--out", str(tmp_path),
                 "--faults", faults, "--gzip", "--date-format", "iso"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in tmp_path.glob("*.csv.gz")) == [
        "sales_2012-01-01_0001.csv.gz",
        "sales_2014-01-01_0002.csv.gz",
    ]
    faults = [json.loads(line) for line in (tmp_path / "faults.jsonl").read_text().splitlines()]
    assert {f["kind"] for f in faults} == {"malformed", "bad_date"}
    assert "rows:   300" in out and f"faults: {len(faults)} (" in out and "rows/s" in out


def test_cli_rejects_an_unknown_fault_kind(tmp_path, capsys):
    with pytest.raises(SystemExit):
        twin(["generate", "--rows", "10", "--out", str(tmp_path), "--faults", "typo=0.1"])
    assert "unknown fault 'typo'" in capsys.readouterr().err
