"""Customer and product pools, built once per dataset from the seed.

Pools are bounded (customers ~ rows/15 capped, ~1,500 products) so memory does not grow
with the number of rows. Each entity may carry one dated change (a customer moves city,
a product is renamed) so an SCD Type 2 dimension has history to track.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from sales_data_generator.reference import (
    FIRST_NAMES,
    LAST_NAMES,
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

    def address_on(self, order_date: date) -> tuple[Location, str]:
        if self.moved_on is not None and order_date >= self.moved_on:
            return self.new_home, self.new_postal_code  # type: ignore[return-value]
        return self.home, self.home_postal_code


@dataclass(frozen=True)
class Product:
    product_id: str
    sub_category: SubCategory
    name: str
    unit_price_cents: int
    renamed_on: date | None = None  # rows on or after this date carry new_name
    new_name: str = ""

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


def build_customers(count: int, seed: int, start: date, days: int, changes: bool) -> list[Customer]:
    rng = random.Random(f"{seed}:customers")
    change_rng = random.Random(f"{seed}:customer-moves")  # the pool is the same either way
    markets, market_weights = list(MARKET_WEIGHTS), list(MARKET_WEIGHTS.values())
    segments, segment_weights = list(SEGMENT_WEIGHTS), list(SEGMENT_WEIGHTS.values())
    customers = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        market = rng.choices(markets, market_weights)[0]
        home, postal = _location(rng, market)
        customer = Customer(
            customer_id=f"{_ascii_initial(first)}{_ascii_initial(last)}-{10000 + index}",
            name=f"{first} {last}",
            segment=rng.choices(segments, segment_weights)[0],
            home=home,
            home_postal_code=postal,
        )
        if changes and change_rng.random() < CUSTOMER_MOVE_SHARE:
            customer = _moved(change_rng, customer, start, days)
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


def build_products(seed: int, start: date, days: int, changes: bool) -> list[Product]:
    """~1,500 products, ordered by popularity rank (rank 0 sells most)."""
    rng = random.Random(f"{seed}:products")
    change_rng = random.Random(f"{seed}:product-renames")  # the catalog is the same either way
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
        if changes and (
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
