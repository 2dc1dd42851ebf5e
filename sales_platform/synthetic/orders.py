"""The order generator: one row per order line, drawn day by day from the demand model.

For each day (its own random stream ``default_rng([seed, STREAM_ORDERS, day ordinal])``, so a
day's orders never depend on which range they are generated in):

1. A shop-wide and a per-category mean-one Gamma shock multiply the expected lines of each
   category (``demand.day_plan``); each product's line count is Poisson around its long-tail
   share of that (Poisson-Gamma, i.e. negative binomial counts per category, overdispersed and
   correlated across categories).
2. Each line gets a quantity ``1 + Poisson(QUANTITY_EXTRA[c])`` and the product's price after
   the day's discount.
3. The lines, shuffled, are cut into orders of ``1 + Poisson(0.6)`` lines. Each order gets a
   timestamp from an intraday profile (quiet at night, peaks at lunch and in the evening) and a
   customer who had signed up by that day, chosen by purchase propensity.

Orders are numbered in time order within the day: ``order_id`` = ``YYYYMMDD-NNNNNN`` (more
digits on a day with a million orders or more). Everything is vectorized per day; the only Python
loop is over days. Two passes keep memory flat: the first draws each day's line counts, so that
the output columns are allocated once and each day then writes its slice of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from sales_platform import tables
from sales_platform.synthetic.catalog import catalog, discounted_prices
from sales_platform.synthetic.config import CATEGORIES, STREAM_ORDERS, ShopConfig, rng_for
from sales_platform.synthetic.customers import customer_base, customer_ids
from sales_platform.synthetic.demand import QUANTITY_EXTRA, day_plan

DAY_SHOCK_SHAPE = 250.0
"""Shop-wide daily demand shock ~ Gamma(shape, 1/shape): mean 1, CV about 6% (at noise 1)."""
CATEGORY_SHOCK_SHAPE = 150.0
"""Per-category daily demand shock ~ Gamma(shape, 1/shape): mean 1, CV about 8% (at noise 1)."""
EXTRA_LINES_PER_ORDER = 0.6
"""Lines of an order: 1 + Poisson(EXTRA_LINES_PER_ORDER)."""

# Relative order intensity per hour of the day (the shop's clock, timezone-naive).
_HOURLY = np.array(
    [2.0, 1.2, 0.7, 0.5, 0.5, 0.7, 1.2, 2.0, 3.0, 4.0, 4.6, 5.0,
     5.6, 5.3, 4.9, 4.8, 5.0, 5.3, 5.8, 6.6, 7.2, 6.8, 5.0, 3.4]
)  # fmt: skip
_HOURLY_CUM = np.cumsum(_HOURLY) / _HOURLY.sum()
_HOURLY_CUM[-1] = 1.0

_NS_PER_SECOND = 1_000_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()  # a datetime64[D] + this = date.toordinal()


def _shock(rng: np.random.Generator, shape: float, noise: float, size: int) -> np.ndarray:
    """Mean-one Gamma shocks with ``noise`` times the CV of Gamma(shape, 1/shape); ones at 0."""
    if noise == 0:
        return np.ones(size)
    k = shape / noise**2
    return rng.gamma(k, 1.0 / k, size)


def _draw_counts(
    rng: np.random.Generator, expected_lines: np.ndarray, config: ShopConfig
) -> np.ndarray:
    """Lines per product of one day: Poisson around mean-one Gamma shocks of the expectation.

    The expected lines of a category are split over its products by their share of it (summing
    Poisson counts per product gives the Poisson count of the category).
    """
    cat = catalog(config)
    shock = _shock(rng, DAY_SHOCK_SHAPE, config.demand_noise, 1)
    shocks = _shock(rng, CATEGORY_SHOCK_SHAPE, config.demand_noise, len(CATEGORIES))
    per_category = expected_lines * shock * shocks
    return rng.poisson(per_category[cat.category] * cat.share_in_category)


def _fixed_width_strings(chars: np.ndarray) -> pa.LargeStringArray:
    """An Arrow string array from a (n, width) uint8 matrix of ASCII characters, one per row."""
    n, width = chars.shape
    chars = np.ascontiguousarray(chars)
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


def _id_matrix(ids: tuple[str, ...] | np.ndarray) -> np.ndarray:
    """The (n, width) uint8 matrix of equally long ASCII ids, for :func:`_fixed_width_strings`."""
    encoded = np.array(ids, dtype=object).astype("S")
    return encoded.view(np.uint8).reshape(len(ids), encoded.dtype.itemsize)


def _order_ids(day: np.datetime64, order: np.ndarray, n_orders: int) -> pa.LargeStringArray:
    """``YYYYMMDD-NNNNNN`` for each line (``order``: 0-based order number within the day)."""
    width = max(6, len(str(n_orders)))
    prefix = np.frombuffer(pd.Timestamp(day).strftime("%Y%m%d-").encode(), dtype=np.uint8)
    chars = np.empty((len(order), len(prefix) + width), dtype=np.uint8)
    chars[:, : len(prefix)] = prefix
    number = order + 1
    for k in range(width):  # the digits, least significant last
        chars[:, -1 - k] = ord("0") + (number // 10**k) % 10
    return _fixed_width_strings(chars)


def _draw_lines(
    rng: np.random.Generator,
    product_counts: np.ndarray,
    prices: np.ndarray,
    day: np.datetime64,
    config: ShopConfig,
    out: dict[str, np.ndarray],
) -> pa.LargeStringArray:
    """Draw one day's lines into ``out`` (slices of the output columns); return their order ids.

    Continues the day's stream after :func:`_draw_counts`; every draw comes in a fixed order.
    """
    cat = catalog(config)
    customers = customer_base(config)
    n_lines = int(product_counts.sum())

    product = rng.permutation(np.repeat(np.arange(len(product_counts)), product_counts))
    quantity = 1 + rng.poisson(QUANTITY_EXTRA[cat.category[product]])

    # Cut the shuffled lines into orders; drawing n_lines sizes always suffices (each >= 1).
    sizes = 1 + rng.poisson(EXTRA_LINES_PER_ORDER, n_lines)
    ends = np.cumsum(sizes)
    n_orders = int(np.searchsorted(ends, n_lines, side="left")) + 1 if n_lines else 0
    sizes = sizes[:n_orders]
    if n_orders:
        sizes[-1] = n_lines - (ends[n_orders - 2] if n_orders > 1 else 0)
    order = np.repeat(np.arange(n_orders, dtype=np.int64), sizes)
    starts = np.cumsum(sizes) - sizes

    hour = np.searchsorted(_HOURLY_CUM, rng.random(n_orders), side="right")
    seconds = np.sort(hour * 3600 + rng.integers(0, 3600, n_orders))
    eligible = customers.eligible(day)
    cum = customers.cum_activity
    customer = np.searchsorted(cum, rng.random(n_orders) * cum[eligible - 1], side="right")
    customer = np.minimum(customer, eligible - 1)

    day_ns = day.astype("datetime64[ns]").astype(np.int64)
    out["line_number"][:] = np.arange(n_lines) - starts[order] + 1
    out["order_ts"][:] = day_ns + seconds[order] * _NS_PER_SECOND
    out["order_date"][:] = day_ns
    out["customer"][:] = customer[order]
    out["product"][:] = product
    out["quantity"][:] = quantity
    np.take(prices, product, out=out["unit_price"])
    np.multiply(out["quantity"], out["unit_price"], out=out["amount"])
    np.round(out["amount"], 2, out=out["amount"])
    return _order_ids(day, order, n_orders)


_LINE_COLUMNS: dict[str, type] = {
    "line_number": np.int32,
    "order_ts": np.int64,  # viewed as datetime64[ns]
    "order_date": np.int64,  # viewed as datetime64[ns]
    "customer": np.int32,  # index into the customers
    "product": np.int32,  # index into the catalog
    "quantity": np.int32,
    "unit_price": np.float64,
    "amount": np.float64,
}


def generate_orders(start: dt.date, end: dt.date, config: ShopConfig | None = None) -> pd.DataFrame:
    """Order lines of every day from ``start`` to ``end`` (inclusive), ordered by time.

    Exactly the columns of ``tables.COLUMNS["orders"]``, in that order: ``order_id``,
    ``customer_id``, ``product_id`` as ``string[pyarrow]``; ``line_number`` and ``quantity`` as
    int32 (both >= 1); ``order_ts`` (datetime64[ns], within the day) and ``order_date`` (its day);
    ``unit_price`` (after the day's discount) and ``amount`` (= quantity * unit_price, in cents)
    as float64. (order_id, line_number) is unique. A day's rows are the same whenever and in
    whichever range they are generated. An empty range gives an empty frame of the same schema.
    """
    config = config or ShopConfig()
    plan = day_plan(start, end, config)
    cat = catalog(config)
    price_levels = {
        float(d): discounted_prices(cat.price, float(d)) for d in np.unique(plan.discount)
    }
    days = plan.days.values.astype("datetime64[D]")

    # Pass 1: each day's stream starts with its line counts.
    streams, counts = [], []
    for i, day in enumerate(days):
        rng = rng_for(config, STREAM_ORDERS, int(day.astype(np.int64)) + _EPOCH_ORDINAL)
        streams.append(rng)
        counts.append(_draw_counts(rng, plan.lines[i], config))
    lines_per_day = np.array([int(c.sum()) for c in counts], dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(lines_per_day)])
    n_total = int(bounds[-1])

    # Pass 2: each day continues its stream into its slice of the preallocated columns.
    columns = {name: np.empty(n_total, dtype=dtype) for name, dtype in _LINE_COLUMNS.items()}
    order_id_chunks = []
    for i, day in enumerate(days):
        part = {name: col[bounds[i] : bounds[i + 1]] for name, col in columns.items()}
        prices = price_levels[float(plan.discount[i])]
        order_id_chunks.append(_draw_lines(streams[i], counts[i], prices, day, config, part))

    order_id = pa.chunked_array(order_id_chunks, type=pa.large_string())
    customer_chars = _id_matrix(customer_ids(config.n_customers))[columns.pop("customer")]
    customer_id = _fixed_width_strings(customer_chars)
    del customer_chars
    product_id = _fixed_width_strings(_id_matrix(cat.product_id)[columns.pop("product")])
    frame = pd.DataFrame(
        {
            "order_id": pd.arrays.ArrowStringArray(order_id),
            "line_number": columns["line_number"],
            "order_ts": columns["order_ts"].view("datetime64[ns]"),
            "order_date": columns["order_date"].view("datetime64[ns]"),
            "customer_id": pd.arrays.ArrowStringArray(customer_id),
            "product_id": pd.arrays.ArrowStringArray(product_id),
            "quantity": columns["quantity"],
            "unit_price": columns["unit_price"],
            "amount": columns["amount"],
        },
        copy=False,
    )
    assert list(frame.columns) == list(tables.COLUMNS[tables.ORDERS])
    return frame


def orders_by_month(
    start: dt.date, end: dt.date, config: ShopConfig | None = None
) -> Iterator[pd.DataFrame]:
    """The lines of :func:`generate_orders` for ``start`` .. ``end``, one calendar month at a time
    (the first and last clipped to the range), so that a long history never sits in memory whole.

    Concatenated they equal ``generate_orders(start, end, config)``: a day's lines depend on the
    day only. An empty range yields one empty frame, so that the columns are always known.
    """
    if start > end:
        yield generate_orders(start, end, config)
        return
    month_start = start
    while month_start <= end:
        next_month = (month_start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        month_end = min(end, next_month - dt.timedelta(days=1))
        yield generate_orders(month_start, month_end, config)
        month_start = next_month
