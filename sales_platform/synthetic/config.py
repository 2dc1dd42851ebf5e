"""Configuration of the synthetic shop and the constants its demand model is built from."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass

import numpy as np

CATEGORIES: tuple[str, ...] = ("Electronics", "Home", "Fashion", "Beauty", "Sports", "Toys")
"""The product categories; each is a forecast series next to ``tables.TOTAL_SERIES``."""

SHOP_COUNTRY = "US"
"""Whose public holidays shape demand (and whose Black Friday the shop celebrates)."""

TREND_ANCHOR = dt.date(2025, 12, 1)
"""Day on which the trend factor of every category is 1."""

REFERENCE_START = dt.date(2024, 12, 1)
REFERENCE_END = dt.date(2026, 11, 30)
"""The two years (inclusive) over which ``ShopConfig.orders_per_day`` is the average volume."""

SHOP_LAUNCH = dt.date(2019, 1, 1)
"""Earliest customer signup date."""


@dataclass(frozen=True)
class ShopConfig:
    """Parameters of the synthetic shop: all it generates is a function of these (and the day).

    - ``seed``: the seed of every random draw (a non-negative integer).
    - ``orders_per_day``: average number of ORDER LINES per day over the reference window
      ``REFERENCE_START`` .. ``REFERENCE_END`` (two years, 2024-12-01 .. 2026-11-30). The shop
      grows about 20% a year, so a window after the reference one averages more lines per day and
      one before it fewer. It is a volume knob: ``1400`` gives about 1 million lines in two years,
      ``13_700`` about 10 million. Orders hold 1.6 lines on average.
    - ``n_products``: size of the catalog (at least one per category).
    - ``n_customers``: size of the customer base.
    - ``demand_noise``: scales the spread of the day-level demand shocks (``orders`` module): 1
      is the default shop (shop-wide CV about 6%, per category about 8%), 0.5 halves them, 0
      turns them off (left: Poisson counts and the product mix). Noise sets the floor of any
      forecast: the oracle's error.
    """

    seed: int = 42
    orders_per_day: float = 1400.0
    n_products: int = 250
    n_customers: int = 20000
    demand_noise: float = 1.0

    def __post_init__(self) -> None:
        if (
            not isinstance(self.seed, numbers.Integral)
            or isinstance(self.seed, bool)
            or self.seed < 0
        ):
            raise ValueError(f"ShopConfig.seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        for name in ("orders_per_day", "demand_noise"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"ShopConfig.{name} must be a finite number >= 0, got {value!r}")
        if self.n_products < len(CATEGORIES):
            raise ValueError(
                f"ShopConfig.n_products must be at least {len(CATEGORIES)} (one per category), "
                f"got {self.n_products!r}"
            )
        if self.n_customers < 1:
            raise ValueError(f"ShopConfig.n_customers must be >= 1, got {self.n_customers!r}")


# Independent random streams: np.random.default_rng([seed, stream, key]).
STREAM_PRODUCTS = 1
STREAM_CUSTOMERS = 2
STREAM_CUSTOMER_NAMES = 3
STREAM_ORDERS = 4


def rng_for(config: ShopConfig, stream: int, key: int = 0) -> np.random.Generator:
    """The random generator of one stream (and one key, e.g. a day's ordinal) of ``config``."""
    return np.random.default_rng([config.seed, stream, key])
