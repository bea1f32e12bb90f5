"""The clean order-line stream: realistic rows, one at a time, in order-date order.

Pure: no I/O, no faults. By default each order ships to one of its customer's ship-to
places (a city labelled twice takes one of its labels at random), ~0.5% of orders have no
city/state/country/postal code, and a shared product ID takes one of its names per line;
`simple=True` gives the earlier shapes (one address per customer at a time).

Money is kept in integer cents (profit in 1/10,000) so the text written to the file is
exact; sales = unit price x quantity x (1 - discount), rounded half up to the cent.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from sales_data_generator.entities import (
    SHIP_TO_PLACES,
    Customer,
    Product,
    build_customers,
    build_products,
    customer_count,
    popularity_weights,
)
from sales_data_generator.reference import (
    DISCOUNT_TENTHS_WEIGHTS,
    LINES_PER_ORDER_WEIGHTS,
    PRIORITY_WEIGHTS,
    QUANTITY_WEIGHTS,
    SHIP_COST_RATE,
    SHIP_DAYS,
    SHIP_MODE_WEIGHTS,
)


class OrderLine(NamedTuple):
    """One row of the Global Superstore layout, typed (dates as date, money as text)."""

    row_id: int
    order_id: str
    order_date: date
    ship_date: date
    ship_mode: str
    customer_id: str
    customer_name: str
    segment: str
    city: str
    state: str
    country: str
    postal_code: str
    market: str
    region: str
    product_id: str
    category: str
    sub_category: str
    product_name: str
    sales: str
    quantity: int
    discount: str
    profit: str
    shipping_cost: str
    order_priority: str


def cents_text(cents: int) -> str:
    return f"{cents / 100:.2f}"


def discount_text(tenths: int) -> str:
    return "0" if tenths == 0 else f"0.{tenths}"


def sales_cents(unit_price_cents: int, quantity: int, discount_tenths: int) -> int:
    """unit price x quantity x (1 - discount), rounded half up to the cent, exactly."""
    return (unit_price_cents * quantity * (10 - discount_tenths) + 5) // 10


class Weighted:
    """Fast weighted choice: one random() and a bisect (random.choices is 3x slower here)."""

    def __init__(self, values, weights):
        values = tuple(values)
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]
        # A repeated last value catches random() * total rounding up to total.
        self._values = (*values, values[-1])

    def pick(self, rng: random.Random):
        return self._values[bisect_right(self._cumulative, rng.random() * self._total)]


SHIP_MODES = Weighted(SHIP_MODE_WEIGHTS, SHIP_MODE_WEIGHTS.values())
PRIORITIES = Weighted(PRIORITY_WEIGHTS, PRIORITY_WEIGHTS.values())
QUANTITIES = Weighted(range(1, 15), QUANTITY_WEIGHTS)
DISCOUNT_TENTHS = Weighted(range(9), DISCOUNT_TENTHS_WEIGHTS)
LINES_PER_ORDER = Weighted(range(1, len(LINES_PER_ORDER_WEIGHTS) + 1), LINES_PER_ORDER_WEIGHTS)
# A customer's n ship-to places by rank (home first): a few recur, the rest are occasional.
SHIP_TO_RANKS = {
    n: Weighted(range(n), [1.0 / (rank + 1) ** 1.3 for rank in range(n)])
    for n in range(1, SHIP_TO_PLACES[1] + 1)
}
MISSING_GEOGRAPHY_SHARE = 0.005  # orders shipped with blank city/state/country/postal code
# If no order of the first ones lacks geography, this one does (small datasets show it).
MISSING_GEOGRAPHY_BY_ORDER = 200


@dataclass(frozen=True)
class OrderSettings:
    rows: int
    seed: int
    start_date: date
    days: int
    changes: bool
    first_row_id: int
    fine_money: bool = False  # sales with 5 decimals, profit with 10, as float exports print
    simple: bool = False  # the earlier shapes: one address per customer, one name per product


class OrderStream:
    """Hands out order lines; a new order starts (on the given day) when one is used up."""

    def __init__(self, settings: OrderSettings):
        self.settings = settings
        self._rng = random.Random(f"{settings.seed}:orders")
        self.customers: list[Customer] = build_customers(
            customer_count(settings.rows), settings.seed, settings.start_date,
            settings.days, settings.changes, settings.simple,
        )  # fmt: skip
        self.products: list[Product] = build_products(
            settings.seed, settings.start_date, settings.days, settings.changes, settings.simple
        )
        self._popular = Weighted(self.products, popularity_weights(len(self.products)))
        # Rows of changed entities on each side of their change: (id, "before"|"after") -> n.
        # Bounded by the pool sizes, so memory stays constant.
        self.change_sides: Counter = Counter()
        # Default shapes, bounded by the pools too: (product_id, name) -> rows of a shared
        # ID; (location, market, region) -> orders of a city labelled twice;
        # "orders"/"rows" -> lines without geography.
        self.shared_name_rows: Counter = Counter()
        self.label_orders: Counter = Counter()
        self.missing_geography: Counter = Counter()
        self._orders_started = 0
        self._next_row_id = settings.first_row_id
        self._remaining_lines = 0
        self._order: tuple | None = None
        self._order_products: set[str] = set()

    @property
    def next_row_id(self) -> int:
        return self._next_row_id

    @property
    def order_open(self) -> bool:
        return self._remaining_lines > 0

    def next_line(self, day_index: int) -> OrderLine:
        """The next line of the open order, or the first line of a new order on day_index."""
        if self._remaining_lines == 0:
            self._start_order(day_index)
        self._remaining_lines -= 1
        return self._line()

    def _start_order(self, day_index: int) -> None:
        rng = self._rng
        order_date = self.settings.start_date + timedelta(days=day_index)
        customer = self.customers[int(rng.random() * len(self.customers))]
        ship_mode = SHIP_MODES.pick(rng)
        low, high = SHIP_DAYS[ship_mode]
        ship_date = order_date + timedelta(days=low + int(rng.random() * (high - low + 1)))
        priority = PRIORITIES.pick(rng)
        if customer.ship_to:
            order_id, geography, segment = self._ship_to(customer, order_date)
        else:  # simple: the customer's address on that date
            location, postal_code = customer.address_on(order_date)
            if customer.moved_on is not None:
                side = "after" if order_date >= customer.moved_on else "before"
                self.change_sides[(customer.customer_id, side)] += 1
            order_id = f"{location.country_code}-{order_date.year}-{self._next_row_id:06d}"
            geography = (location.city, location.state, location.country, postal_code,
                         location.market, location.region)  # fmt: skip
            segment = customer.segment
        self._remaining_lines = LINES_PER_ORDER.pick(rng)
        self._order = (order_id, order_date, ship_date, ship_mode, customer.customer_id,
                       customer.name, segment, geography, priority)  # fmt: skip
        self._order_products = set()

    def _ship_to(self, customer: Customer, order_date: date) -> tuple[str, tuple, str]:
        """(order id, geography, segment) of an order shipped to one of the customer's places."""
        rng = self._rng
        place = customer.ship_to[SHIP_TO_RANKS[len(customer.ship_to)].pick(rng)]
        location, labels = place.location, place.labels
        if len(labels) == 1:
            market, region = labels[0]
        else:  # a city labelled twice: each order takes one of its labels
            market, region = labels[int(rng.random() * len(labels))]
            self.label_orders[(location, market, region)] += 1
        # The Order ID keeps the place's country code even when the fields are blank.
        order_id = f"{location.country_code}-{order_date.year}-{self._next_row_id:06d}"
        self._orders_started += 1
        if rng.random() < MISSING_GEOGRAPHY_SHARE or (
            self._orders_started == MISSING_GEOGRAPHY_BY_ORDER
            and not self.missing_geography["orders"]
        ):
            self.missing_geography["orders"] += 1
            geography = ("", "", "", "", market, region)
        else:
            geography = (location.city, location.state, location.country, place.postal_code,
                         market, region)  # fmt: skip
        if customer.segment_changed_on is None:
            return order_id, geography, customer.segment
        side = "after" if order_date >= customer.segment_changed_on else "before"
        self.change_sides[(customer.customer_id, side)] += 1
        return order_id, geography, customer.segment_on(order_date)

    def _pick_product(self) -> Product:
        """A popular-weighted product not already on this order (a few retries suffice)."""
        for _ in range(5):
            product = self._popular.pick(self._rng)
            if product.product_id not in self._order_products:
                break
        self._order_products.add(product.product_id)
        return product

    def _line(self) -> OrderLine:
        rng = self._rng
        (order_id, order_date, ship_date, ship_mode, customer_id, customer_name, segment, geo,
         priority) = self._order  # type: ignore[misc]  # fmt: skip
        product = self._pick_product()
        quantity = QUANTITIES.pick(rng)
        discount = DISCOUNT_TENTHS.pick(rng)
        sales = sales_cents(product.unit_price_cents, quantity, discount)
        noise = (rng.random() - 0.5) * 0.12
        # Small discounts eat little of the margin; 30% and more usually mean a loss.
        margin = product.sub_category.base_margin - 0.11 * max(0, discount - 1.5) + noise
        profit = round(sales * 100 * margin)  # in 1/10,000 of a dollar
        shipping = round(sales * SHIP_COST_RATE[ship_mode] * (0.5 + rng.random()))
        if product.other_names:  # a shared ID: any of its names, line by line
            names = product.names
            product_name = names[int(rng.random() * len(names))]
            self.shared_name_rows[(product.product_id, product_name)] += 1
        else:
            product_name = product.name_on(order_date)
            if product.renamed_on is not None:
                side = "after" if order_date >= product.renamed_on else "before"
                self.change_sides[(product.product_id, side)] += 1
        if not geo[0]:
            self.missing_geography["rows"] += 1
        row_id = self._next_row_id
        self._next_row_id += 1
        sub = product.sub_category
        sales_text, profit_text = self._money(sales, profit)
        city, state, country, postal, market, region = geo
        return OrderLine(
            row_id, order_id, order_date, ship_date, ship_mode, customer_id, customer_name,
            segment, city, state, country, postal, market, region, product.product_id,
            sub.category, sub.name, product_name, sales_text, quantity,
            discount_text(discount), profit_text, cents_text(shipping), priority,
        )  # fmt: skip

    def _money(self, sales: int, profit: int) -> tuple[str, str]:
        """(sales, profit) as text; with `fine_money`, the sub-cent digits real exports
        carry (amounts computed in floating point: `1213.18876`, `-3.4127000015`)."""
        sales_text, profit_text = cents_text(sales), f"{profit / 10_000:.4f}"
        if self.settings.fine_money:
            sales_text += f"{self._rng.randrange(1, 1000):03d}"
            profit_text += f"{self._rng.randrange(1, 1_000_000):06d}"
        return sales_text, profit_text
