"""The customer base: Faker identities drawn from small seeded pools, signup dates and activity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from faker import Faker

from sales_platform import tables
from sales_platform.synthetic.config import (
    REFERENCE_END,
    SHOP_LAUNCH,
    STREAM_CUSTOMER_NAMES,
    STREAM_CUSTOMERS,
    ShopConfig,
    rng_for,
)

_POOL_SIZE = 300
_SIGNUP_GROWTH = 1.5  # log-ratio of signups per day at the end vs. the launch of the shop
_ACTIVITY_LOG_SD = 1.0  # heavy buyers: log-normal purchase propensity
MIN_ELIGIBLE = 50
"""Orders of a day go to customers who signed up by that day, but never fewer than this many."""


@dataclass(frozen=True)
class CustomerBase:
    """What the order generator needs: customers (numbered in signup order) and their activity.

    ``signup_day`` is the signup date as ``datetime64[D]`` (non-decreasing),
    ``cum_activity`` the running sum of the purchase propensities.
    """

    signup_day: np.ndarray
    cum_activity: np.ndarray

    def eligible(self, day: np.datetime64) -> int:
        """How many customers (a prefix) may order on ``day``: those who signed up by then."""
        n = int(np.searchsorted(self.signup_day, day, side="right"))
        return max(n, min(MIN_ELIGIBLE, len(self.signup_day)))


@lru_cache(maxsize=16)
def customer_base(config: ShopConfig) -> CustomerBase:
    """Signup dates and activity of ``config``'s customers (depend on seed and n_customers only)."""
    rng = rng_for(config, STREAM_CUSTOMERS)
    n = config.n_customers
    span = (REFERENCE_END - SHOP_LAUNCH).days
    # Signups per day grow exponentially from the launch of the shop: inverse-CDF sampling.
    u = np.sort(rng.random(n))
    g = _SIGNUP_GROWTH
    offset = np.floor(np.log1p(u * np.expm1(g)) / g * (span + 1)).astype(np.int64)
    signup_day = np.datetime64(SHOP_LAUNCH, "D") + np.minimum(offset, span)
    activity = rng.lognormal(0.0, _ACTIVITY_LOG_SD, n)
    base = CustomerBase(signup_day=signup_day, cum_activity=np.cumsum(activity))
    base.signup_day.setflags(write=False)
    base.cum_activity.setflags(write=False)
    return base


@lru_cache(maxsize=16)
def customer_ids(n_customers: int) -> tuple[str, ...]:
    """The ids of ``n_customers`` customers: "C000001", ... (wider beyond a million)."""
    digits = max(6, len(str(n_customers)))
    return tuple(f"C{i:0{digits}d}" for i in range(1, n_customers + 1))


def _ascii_lower(values: list[str]) -> np.ndarray:
    return np.array([re.sub(r"[^a-z]", "", v.lower()) or "x" for v in values], dtype=object)


def generate_customers(config: ShopConfig | None = None) -> pd.DataFrame:
    """The customers: exactly the columns of ``tables.COLUMNS["customers"]``.

    ``customer_id`` ("C000001", ... numbered in signup order), ``name``, ``email`` (unique) and
    ``city`` come from pools of a few hundred first names, last names and cities made by a Faker
    seeded from ``seed``, combined by NumPy (cities with a long-tailed size distribution).
    ``signup_date`` (datetime64[ns], normalized) lies between ``SHOP_LAUNCH`` and
    ``REFERENCE_END``, with more signups as the shop grows. Depends on ``seed`` and
    ``n_customers`` only. Faker output is stable for a given Faker version.
    """
    config = config or ShopConfig()
    base = customer_base(config)
    rng = rng_for(config, STREAM_CUSTOMER_NAMES)
    n = config.n_customers

    fake = Faker("en_US")
    fake.seed_instance(int(rng.integers(2**31)))
    first = [fake.first_name() for _ in range(_POOL_SIZE)]
    last = [fake.last_name() for _ in range(_POOL_SIZE)]
    cities = sorted({fake.city() for _ in range(_POOL_SIZE)})
    domains = sorted({fake.safe_domain_name() for _ in range(20)})

    i_first = rng.integers(len(first), size=n)
    i_last = rng.integers(len(last), size=n)
    city_weight = 1.0 / np.arange(1, len(cities) + 1)
    i_city = rng.choice(len(cities), size=n, p=city_weight / city_weight.sum())
    i_domain = rng.integers(len(domains), size=n)

    first_a, last_a = np.array(first, dtype=object), np.array(last, dtype=object)
    number = np.arange(1, n + 1)
    customer_id = np.array(customer_ids(n), dtype=object)
    email = (
        _ascii_lower(first)[i_first]
        + "."
        + _ascii_lower(last)[i_last]
        + number.astype(str).astype(object)
        + "@"
        + np.array(domains, dtype=object)[i_domain]
    )
    frame = pd.DataFrame(
        {
            "customer_id": customer_id,
            "name": first_a[i_first] + " " + last_a[i_last],
            "email": email,
            "city": np.array(cities, dtype=object)[i_city],
            "signup_date": base.signup_day.astype("datetime64[ns]"),
        }
    )
    return frame[list(tables.COLUMNS[tables.CUSTOMERS])]
