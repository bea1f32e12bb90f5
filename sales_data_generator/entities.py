"""Customer and product pools, built once per dataset from the seed.

Pools are bounded (customers ~ rows/15 capped, ~1,500 products, a few ship-to places per
customer) so memory does not grow with the number of rows.

Default shapes, as in a real Global Superstore export:
- a customer has one name and one segment but ships each order to one of its own 3-20
  ship-to places over 1-3 markets (a few of them recur);
- with changes, ~5% of customers change segment once, on a date, and stay changed;
- ~4% of product IDs are shared by 2-4 different names at the same time (each line picks
  one), and ~5% of the others are renamed once, on a date (never both);
- a few cities carry two (market, region) labels at the same time (each order picks one).
`simple=True` gives the earlier shapes: one home per customer (with changes, ~10% move
once), one name per product (with changes, ~5% renamed once), one label per city.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import NamedTuple

from sales_data_generator.reference import (
    FIRST_NAMES,
    LAST_NAMES,
    LOCATIONS,
    LOCATIONS_BY_MARKET,
    MARKET_WEIGHTS,
    RENAME_SUFFIXES,
    SEGMENT_WEIGHTS,
    SUB_CATEGORIES,
    VARIANTS,
    Location,
    SubCategory,
)

MIN_CUSTOMERS = 20
MAX_CUSTOMERS = 25_000
ROWS_PER_CUSTOMER = 15
PRODUCT_COUNT = 1_500
CUSTOMER_MOVE_SHARE = 0.10
PRODUCT_RENAME_SHARE = 0.05
# Popular products get renamed too, so even a few thousand rows show a rename.
ALWAYS_RENAMED_PRODUCT_RANKS = (1, 4, 9)
# Default shapes (not with simple=True).
SEGMENT_CHANGE_SHARE = 0.05  # with changes: customers who change segment once
SHIP_TO_PLACES = (3, 20)  # ship-to places per customer (inclusive bounds)
SHIP_TO_MARKET_COUNT_WEIGHTS = (0.55, 0.30, 0.15)  # 1, 2 or 3 markets per customer
SHIP_TO_HOME_MARKET_SHARE = 0.6  # of a multi-market customer's places, in its home market
SHARED_PRODUCT_ID_SHARE = 0.04  # product IDs carried by 2-4 names at the same time
SHARED_NAMES = (2, 4)
# A best seller shares its ID too, so even a few thousand rows show it.
ALWAYS_SHARED_PRODUCT_RANKS = (2,)
DUAL_LABEL_SHARE = 0.015  # of all places: cities under two (market, region) labels
# Where a dual-labelled city's second label comes from (the market must stay a known one).
DUAL_LABEL_MARKETS = {"EU": "EMEA", "EMEA": "EU", "Africa": "EMEA"}


class ShipTo(NamedTuple):
    """One ship-to place of a customer; `labels` holds two (market, region) for a city
    labelled twice (each order picks one), else one."""

    location: Location
    postal_code: str
    labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    segment: str
    home: Location
    home_postal_code: str
    moved_on: date | None = None  # orders on or after this date use the new address
    new_home: Location | None = None
    new_postal_code: str = ""
    # Default shapes: each order ships to one of these (most frequent first); empty with
    # simple=True, where every order goes to `address_on(order_date)`.
    ship_to: tuple[ShipTo, ...] = ()
    segment_changed_on: date | None = None  # orders on or after this date carry new_segment
    new_segment: str = ""

    def address_on(self, order_date: date) -> tuple[Location, str]:
        if self.moved_on is not None and order_date >= self.moved_on:
            return self.new_home, self.new_postal_code  # type: ignore[return-value]
        return self.home, self.home_postal_code

    def segment_on(self, order_date: date) -> str:
        if self.segment_changed_on is not None and order_date >= self.segment_changed_on:
            return self.new_segment
        return self.segment


@dataclass(frozen=True)
class Product:
    product_id: str
    sub_category: SubCategory
    name: str
    unit_price_cents: int
    renamed_on: date | None = None  # rows on or after this date carry new_name
    new_name: str = ""
    # A shared product ID: `name` and these other names, each line picks one at random.
    other_names: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)

    def name_on(self, order_date: date) -> str:
        if self.renamed_on is not None and order_date >= self.renamed_on:
            return self.new_name
        return self.name


def customer_count(rows: int) -> int:
    return max(MIN_CUSTOMERS, min(MAX_CUSTOMERS, rows // ROWS_PER_CUSTOMER))


def _ascii_initial(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    letters = [c for c in decomposed if c.isascii() and c.isalpha()]
    if letters:
        return letters[0].upper()
    # Letters without an ASCII decomposition (Ø, ß) still need an initial.
    return {"Ø": "O", "ß": "S"}.get(text[0], "X")


def _change_date(rng: random.Random, start: date, days: int) -> date:
    """A change somewhere in the middle of the period, so rows exist on both sides."""
    return start + timedelta(days=rng.randint(days // 5, max(days // 5, days * 4 // 5)))


def _location(rng: random.Random, market: str) -> tuple[Location, str]:
    location = rng.choice(LOCATIONS_BY_MARKET[market])
    postal = rng.choice(location.postal_codes) if location.postal_codes else ""
    return location, postal


def _place_slots() -> tuple[list[tuple[Location, str]], dict[str, tuple]]:
    """Ship-to places as slots (a US city has one per postal code), with per market the
    slot ids and their cumulative weights: the first listed places get most orders."""
    slots: list[tuple[Location, str]] = []
    by_market = {}
    for market, places in LOCATIONS_BY_MARKET.items():
        ids, weights = [], []
        for index, location in enumerate(places):
            codes = location.postal_codes or ("",)
            for code in codes:
                ids.append(len(slots))
                slots.append((location, code))
                weights.append(1.0 / (index + 2) ** 0.9 / len(codes))
        cumulative = list(itertools.accumulate(weights))
        # A repeated last id catches random() * total rounding up to total.
        by_market[market] = ((*ids, ids[-1]), cumulative, cumulative[-1])
    return slots, by_market


PLACE_SLOTS, SLOTS_BY_MARKET = _place_slots()
SLOT_IDS = {slot: index for index, slot in enumerate(PLACE_SLOTS)}
_MARKETS = tuple(MARKET_WEIGHTS)
_MARKET_CUMULATIVE = list(itertools.accumulate(MARKET_WEIGHTS.values()))
_MARKET_COUNT_CUMULATIVE = list(itertools.accumulate(SHIP_TO_MARKET_COUNT_WEIGHTS))


def _pick(rng: random.Random, values, cumulative: list[float]):
    index = bisect_right(cumulative, rng.random() * cumulative[-1])
    return values[min(index, len(values) - 1)]


def dual_labels(seed: int) -> dict[Location, tuple[str, str]]:
    """The few places labelled twice: place -> its second (market, region).

    The second label is another market with the place's own region (like Vienna under
    both EU and EMEA). One place is among the three busiest EU places, so a few
    thousand rows show it.
    """
    rng = random.Random(f"{seed}:dual-labels")
    count = max(1, round(DUAL_LABEL_SHARE * len(LOCATIONS)))
    chosen = [rng.choice(LOCATIONS_BY_MARKET["EU"][:3])]
    candidates = [loc for loc in LOCATIONS if loc.market in DUAL_LABEL_MARKETS]
    while len(chosen) < count:
        place = rng.choice(candidates)
        if place not in chosen:
            chosen.append(place)
    return {place: (DUAL_LABEL_MARKETS[place.market], place.region) for place in chosen}


def _ship_to_slots(rng: random.Random, home_slot: int, home_market: str) -> list[int]:
    """3-20 ship-to places (slot ids) over 1-3 markets, the home place first (it recurs
    most). Fast on purpose: up to 25,000 customers are built before the first row."""
    low, high = SHIP_TO_PLACES
    random_ = rng.random
    wanted = low + int(random_() * (high - low + 1))
    market_count = 1 + bisect_right(_MARKET_COUNT_CUMULATIVE, random_())
    others: list[str] = []
    while len(others) < market_count - 1:
        market = _pick(rng, _MARKETS, _MARKET_CUMULATIVE)
        if market != home_market and market not in others:
            others.append(market)
    chosen, seen = [home_slot], {home_slot}
    home_ids, home_cumulative, home_total = SLOTS_BY_MARKET[home_market]
    for _ in range(2 * wanted):  # bounded: a small market may not have `wanted` places
        if others and random_() >= SHIP_TO_HOME_MARKET_SHARE:
            ids, cumulative, total = SLOTS_BY_MARKET[others[int(random_() * len(others))]]
        else:
            ids, cumulative, total = home_ids, home_cumulative, home_total
        slot = ids[bisect_right(cumulative, random_() * total)]
        if slot not in seen:
            seen.add(slot)
            chosen.append(slot)
            if len(chosen) >= wanted:
                break
    return chosen


def _ship_tos(dual: dict[Location, tuple[str, str]]) -> list[ShipTo]:
    """One shared ShipTo per slot (customers hold references, so memory stays small)."""
    return [
        ShipTo(loc, code, ((loc.market, loc.region), dual[loc]) if loc in dual
               else ((loc.market, loc.region),))
        for loc, code in PLACE_SLOTS
    ]  # fmt: skip


def build_customers(
    count: int, seed: int, start: date, days: int, changes: bool, simple: bool = False
) -> list[Customer]:
    rng = random.Random(f"{seed}:customers")
    change_rng = random.Random(f"{seed}:customer-moves")  # the pool is the same either way
    ship_rng = random.Random(f"{seed}:ship-to")
    segment_rng = random.Random(f"{seed}:segment-changes")
    ship_tos = [] if simple else _ship_tos(dual_labels(seed))
    markets, market_weights = list(MARKET_WEIGHTS), list(MARKET_WEIGHTS.values())
    segments, segment_weights = list(SEGMENT_WEIGHTS), list(SEGMENT_WEIGHTS.values())
    customers = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        market = rng.choices(markets, market_weights)[0]
        home, postal = _location(rng, market)
        customer_id = f"{_ascii_initial(first)}{_ascii_initial(last)}-{10000 + index}"
        segment = rng.choices(segments, segment_weights)[0]
        if simple:
            customer = Customer(customer_id, f"{first} {last}", segment, home, postal)
            if changes and change_rng.random() < CUSTOMER_MOVE_SHARE:
                customer = _moved(change_rng, customer, start, days)
        else:
            slots = _ship_to_slots(ship_rng, SLOT_IDS[(home, postal)], market)
            changed_on, new_segment = None, ""
            if changes and segment_rng.random() < SEGMENT_CHANGE_SHARE:
                changed_on = _change_date(segment_rng, start, days)
                new_segment = segment_rng.choice([s for s in segments if s != segment])
            customer = Customer(
                customer_id, f"{first} {last}", segment, home, postal,
                ship_to=tuple([ship_tos[slot] for slot in slots]),
                segment_changed_on=changed_on, new_segment=new_segment,
            )  # fmt: skip
        customers.append(customer)
    return customers


def _moved(rng: random.Random, customer: Customer, start: date, days: int) -> Customer:
    """The same customer at another city of the same market (markets never change)."""
    candidates = [
        loc for loc in LOCATIONS_BY_MARKET[customer.home.market] if loc.city != customer.home.city
    ]
    if not candidates:
        return customer
    new_home = rng.choice(candidates)
    new_postal = rng.choice(new_home.postal_codes) if new_home.postal_codes else ""
    return Customer(
        customer.customer_id, customer.name, customer.segment, customer.home,
        customer.home_postal_code, _change_date(rng, start, days), new_home, new_postal,
    )  # fmt: skip


def _other_names(rng: random.Random, sub: SubCategory, name: str) -> tuple[str, ...]:
    """1-3 more names of the same sub-category for a shared product ID."""
    wanted = rng.randint(*SHARED_NAMES) - 1
    names = {name: None}
    while len(names) <= wanted:  # a sub-category has far more than 4 names
        names.setdefault(f"{rng.choice(sub.brands)} {rng.choice(sub.items)}{rng.choice(VARIANTS)}")
    return tuple(names)[1:]


def build_products(
    seed: int, start: date, days: int, changes: bool, simple: bool = False
) -> list[Product]:
    """~1,500 products, ordered by popularity rank (rank 0 sells most)."""
    rng = random.Random(f"{seed}:products")
    change_rng = random.Random(f"{seed}:product-renames")  # the catalog is the same either way
    shared_rng = random.Random(f"{seed}:shared-product-ids")
    combos = [
        (sub, brand, item, variant)
        for sub in SUB_CATEGORIES
        for brand, item, variant in itertools.product(sub.brands, sub.items, VARIANTS)
    ]
    chosen = rng.sample(combos, min(PRODUCT_COUNT, len(combos)))
    numbers = rng.sample(range(10_000), len(chosen))
    products = []
    for rank, ((sub, brand, item, variant), number) in enumerate(zip(chosen, numbers, strict=True)):
        low, high = sub.price_range
        product = Product(
            product_id=f"{sub.category_code}-{sub.code}-1000{number:04d}",
            sub_category=sub,
            name=f"{brand} {item}{variant}",
            # Log-uniform: cheap items dominate, as in a real catalog.
            unit_price_cents=round(low * (high / low) ** rng.random() * 100),
        )
        # A product is shared or renamed, never both (renamed ranks are never shared).
        shared = not simple and (
            shared_rng.random() < SHARED_PRODUCT_ID_SHARE or rank in ALWAYS_SHARED_PRODUCT_RANKS
        ) and rank not in ALWAYS_RENAMED_PRODUCT_RANKS  # fmt: skip
        if shared:
            product = replace(product, other_names=_other_names(shared_rng, sub, product.name))
        elif changes and (
            change_rng.random() < PRODUCT_RENAME_SHARE or rank in ALWAYS_RENAMED_PRODUCT_RANKS
        ):
            product = Product(
                product.product_id, sub, product.name, product.unit_price_cents,
                _change_date(change_rng, start, days),
                product.name + change_rng.choice(RENAME_SUFFIXES),
            )  # fmt: skip
        products.append(product)
    return products


def popularity_weights(count: int) -> list[float]:
    """Zipf-like weights by rank: a few best sellers, a long tail."""
    return [1.0 / (rank + 8) ** 1.1 for rank in range(count)]
