"""The sales event model: what the producer sends and the stream job reads.

Every event carries the full order line as it is after the event (an
"after image"), so applying only the newest event of a row is enough and a
cancellation that arrives before its creation still soft-deletes correctly.

    {"event_id": "...", "event_type": "order_line_created", "event_time": "2026-...Z",
     "order_line": {"row_id": 1, "order_id": "...", ..., "sales": "12.3400", ...}}

Money and rates are JSON strings so no consumer ever sees a float.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

EVENT_TYPES = ("order_line_created", "order_line_updated", "order_line_cancelled")

# Row ids of streamed order lines start here, clear of the batch sample files.
STREAM_ROW_ID_BASE = 10_000_000

_NAMESPACE = uuid.UUID("6f1c1e8e-5b0c-4c4e-9d43-3f4f0b6d2a10")

_PLACES = (  # city, state, country, postal code, market, region
    ("New York City", "New York", "United States", "10035", "US", "East"),
    ("Burlington", "Vermont", "United States", "05401", "US", "East"),
    ("Los Angeles", "California", "United States", "90036", "US", "West"),
    ("Toronto", "Ontario", "Canada", "", "Canada", "Canada"),
    ("Juárez", "Chihuahua", "Mexico", "", "LATAM", "North"),
    ("Paysandú", "Paysandú", "Uruguay", "", "LATAM", "South"),
    ("Berlin", "Berlin", "Germany", "", "EU", "Central"),
    ("Lagos", "Lagos", "Nigeria", "", "Africa", "Africa"),
    ("Sydney", "New South Wales", "Australia", "", "APAC", "Oceania"),
    ("Istanbul", "Istanbul", "Turkey", "", "EMEA", "EMEA"),
)
_PRODUCTS = (  # product id, category, sub-category, name, unit price
    ("TEC-PH-10002033", "Technology", "Phones", "Apple Smart Phone, Full Size", "459.99"),
    ("OFF-PA-10001970", "Office Supplies", "Paper", "Xerox 1881, Premium", "12.28"),
    ("FUR-CH-10004063", "Furniture", "Chairs", 'Harbour "Deluxe" Chair, Black', "180.98"),
    ("OFF-BI-10003527", "Office Supplies", "Binders", "Fellowes PB500 Binding Machine", "99.98"),
    ("TEC-AC-10002167", "Technology", "Accessories", "Logitech Wireless Mouse", "24.99"),
    ("FUR-TA-10001889", "Furniture", "Tables", "Bevis Round Table, Oak", "312.30"),
)
_CUSTOMERS = (  # customer id, name, segment
    ("CG-12520", "Claire Gute", "Consumer"),
    ("DV-13045", "Darrin Van Huff", "Corporate"),
    ("SO-20335", "Seán O'Donnell", "Home Office"),
    ("BH-11710", "Brosina Hoffman", "Consumer"),
    ("JM-15265", "Janet Martin", "Corporate"),
)
_SHIP_MODES = ("First Class", "Second Class", "Standard Class", "Same Day")
_PRIORITIES = ("Critical", "High", "Medium", "Low")
_CENT = Decimal("0.01")


def format_event_time(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, the one format the stream job accepts."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_event(event_type: str, order_line: dict, event_time: datetime, event_id: str) -> dict:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; use one of {EVENT_TYPES}")
    return {
        "event_id": event_id,
        "event_type": event_type,
        "event_time": format_event_time(event_time),
        "order_line": order_line,
    }


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def random_order_line(rng: random.Random, row_id: int, order_id: str, order_date: date) -> dict:
    """One plausible order line with the silver column names."""
    city, state, country, postal, market, region = rng.choice(_PLACES)
    product_id, category, sub_category, product_name, price = rng.choice(_PRODUCTS)
    customer_id, customer_name, segment = rng.choice(_CUSTOMERS)
    return {
        "row_id": row_id,
        "order_id": order_id,
        "order_date": order_date.isoformat(),
        "ship_date": (order_date + timedelta(days=rng.randint(0, 6))).isoformat(),
        "ship_mode": rng.choice(_SHIP_MODES),
        "customer_id": customer_id,
        "customer_name": customer_name,
        "segment": segment,
        "city": city,
        "state": state,
        "country": country,
        "postal_code": postal,
        "market": market,
        "region": region,
        "product_id": product_id,
        "category": category,
        "sub_category": sub_category,
        "product_name": product_name,
        **reprice(rng, Decimal(price), rng.randint(1, 9)),
        "order_priority": rng.choice(_PRIORITIES),
    }


def reprice(rng: random.Random, unit_price: Decimal, quantity: int) -> dict:
    """Money fields for a quantity: sales, discount, profit, shipping cost."""
    discount = rng.choice((Decimal("0"), Decimal("0.1"), Decimal("0.2")))
    sales = unit_price * quantity * (1 - discount)
    profit = sales * Decimal(rng.randint(-10, 30)) / 100
    return {
        "sales": _money(sales),
        "quantity": quantity,
        "discount": str(discount),
        "profit": _money(profit),
        "shipping_cost": _money(sales * Decimal("0.05")),
    }


@dataclass
class EventMix:
    """Share of updates and cancellations among generated events (the rest are creations)."""

    update_ratio: float = 0.2
    cancel_ratio: float = 0.05


def generate_events(
    count: int,
    *,
    seed: int = 7,
    start: datetime | None = None,
    mix: EventMix | None = None,
    first_row_id: int = STREAM_ROW_ID_BASE,
) -> Iterator[dict]:
    """`count` events in production order: creations of new lines, then updates and
    cancellations of lines created earlier. Deterministic for a seed (event ids too)."""
    rng = random.Random(seed)
    mix = mix or EventMix()
    moment = start or datetime.now(UTC)
    live: dict[int, dict] = {}
    live_ids: list[int] = []  # same rows as `live`, for O(1) random picks
    next_row_id = first_row_id
    for index in range(count):
        moment += timedelta(milliseconds=rng.randint(1, 20))
        roll = rng.random()
        event_id = str(uuid.uuid5(_NAMESPACE, f"{seed}:{index}"))
        if live and roll < mix.cancel_ratio:
            position = rng.randrange(len(live_ids))
            live_ids[position], live_ids[-1] = live_ids[-1], live_ids[position]
            line = live.pop(live_ids.pop())
            yield make_event("order_line_cancelled", line, moment, event_id)
        elif live and roll < mix.cancel_ratio + mix.update_ratio:
            row_id = live_ids[rng.randrange(len(live_ids))]
            line = dict(live[row_id])
            unit = Decimal(line["sales"]) / line["quantity"] / (1 - Decimal(line["discount"]))
            line.update(reprice(rng, unit, rng.randint(1, 9)))
            live[row_id] = line
            yield make_event("order_line_updated", line, moment, event_id)
        else:
            order_id = f"ST-{moment.year}-{next_row_id // 3:08d}"  # ~3 lines per order
            line = random_order_line(rng, next_row_id, order_id, moment.date())
            live[next_row_id] = line
            live_ids.append(next_row_id)
            next_row_id += 1
            yield make_event("order_line_created", line, moment, event_id)
