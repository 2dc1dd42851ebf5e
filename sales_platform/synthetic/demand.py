"""The demand model: the expected number of order lines and revenue per day and category.

The expected order lines of category ``c`` on day ``d`` are a product of factors::

    lines[d, c] = scale * share[c] * trend[c](d) * weekly[c](weekday) * yearly[c](day of year)
                  * events[c](d) * holiday(d) * promotion(d)

- trend: compounding growth of 14-25% a year depending on the category (1 on ``TREND_ANCHOR``);
- weekly: a weekday profile of its own per category (e.g. Home and Toys peak at the weekend,
  Sports on Monday, Beauty on Thursday/Friday);
- yearly: two harmonics per category (Sports in summer, Fashion in spring and autumn, ...);
- events: Black Friday (x2.4..x4.5 by category), the weekend after it, Cyber Monday, the rest of
  cyber week, a lull in the week before Thanksgiving, the December ramp up to the shipping cut-off
  on 22 December (strongest for Toys), then Christmas Eve/Day and the post-Christmas lull;
- holiday: public holidays (``SHOP_COUNTRY``) sell 20% less;
- promotion: the shop's own promotion days (``promotions.promotion_days``, its rule; the
  forecaster only sees the published ``promotions`` table) sell 60% more lines.

Prices are discounted by 15% on promotion days and the Black Friday weekend, 25% on Black Friday
and 20% on Cyber Monday. The expected revenue of a line of category ``c`` is the popularity-weighted
mean discounted price of the category times the mean quantity (1 + a category's Poisson mean).
``scale`` makes the mean of ``lines.sum(axis=1)`` over the reference window equal
``ShopConfig.orders_per_day``. The order generator draws from exactly these expectations (with
mean-one Gamma shocks and Poisson counts), so ``expected_demand`` is an honest oracle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sales_platform import calendar, tables
from sales_platform.synthetic.catalog import catalog
from sales_platform.synthetic.config import (
    CATEGORIES,
    REFERENCE_END,
    REFERENCE_START,
    SHOP_COUNTRY,
    TREND_ANCHOR,
    ShopConfig,
)
from sales_platform.synthetic.promotions import promotion_days

# Per category, in CATEGORIES order: Electronics, Home, Fashion, Beauty, Sports, Toys.
_LINE_SHARE = np.array([0.13, 0.19, 0.25, 0.19, 0.12, 0.12])
_GROWTH = np.array([0.22, 0.15, 0.18, 0.25, 0.16, 0.14])  # per year
_WEEKLY = np.array(
    [  # Mon   Tue   Wed   Thu   Fri   Sat   Sun
        [1.10, 1.05, 1.00, 1.00, 0.95, 0.85, 1.05],  # Electronics
        [0.88, 0.90, 0.92, 0.95, 1.00, 1.20, 1.15],  # Home
        [0.95, 0.92, 0.95, 1.00, 1.08, 1.00, 1.10],  # Fashion
        [0.90, 0.95, 1.00, 1.10, 1.15, 0.95, 0.95],  # Beauty
        [1.25, 1.08, 1.00, 0.95, 0.88, 0.90, 0.94],  # Sports
        [0.85, 0.88, 0.90, 0.95, 1.00, 1.22, 1.20],  # Toys
    ]
)
_WEEKLY = _WEEKLY / _WEEKLY.mean(axis=1, keepdims=True)
# Yearly: exp(a1 cos(2 pi (doy - p1) / 365.25) + a2 cos(4 pi (doy - p2) / 365.25)).
_YEARLY = np.array(
    [  # a1,  p1,   a2,   p2
        [0.12, 340, 0.05, 30],  # Electronics: winter high, summer low
        [0.10, 100, 0.06, 100],  # Home: spring, a smaller autumn bump
        [0.05, 300, 0.12, 85],  # Fashion: spring and autumn collections
        [0.05, 40, 0.03, 40],  # Beauty: mild, Valentine's
        [0.25, 165, 0.05, 10],  # Sports: summer, New Year's resolutions
        [0.15, 330, 0.00, 0],  # Toys: autumn/winter
    ]
)
_BLACK_FRIDAY = np.array([4.5, 2.8, 3.0, 2.6, 2.4, 3.5])
_CYBER_MONDAY_VS_BF = 0.75  # Cyber Monday uplift as a share of Black Friday's
_BF_WEEKEND_VS_BF = 0.35  # Saturday and Sunday after Black Friday
_CYBER_WEEK = 1.15  # Tuesday to Friday after Cyber Monday
_PRE_THANKSGIVING = 0.92  # the week before Thanksgiving: shoppers wait for the deals
_CHRISTMAS_RAMP = np.array([0.60, 0.30, 0.35, 0.50, 0.25, 1.00])  # uplift reached on Dec 22
_DEC_23_VS_RAMP = 0.40  # Dec 23 keeps 40% of the ramp's uplift: past the shipping cut-off
_CHRISTMAS_EVE = 0.75
_CHRISTMAS_DAY = 0.50  # and a public holiday on top
_POST_CHRISTMAS = 0.80  # Dec 26..31
_HOLIDAY = 0.80
_PROMOTION = 1.60
_DISCOUNT_PROMOTION = 0.15
_DISCOUNT_BF_WEEKEND = 0.15
_DISCOUNT_BLACK_FRIDAY = 0.25
_DISCOUNT_CYBER_MONDAY = 0.20
QUANTITY_EXTRA = np.array([0.05, 0.25, 0.35, 0.70, 0.20, 0.30])
"""Per category: quantity of a line is 1 + Poisson(QUANTITY_EXTRA[c])."""


@dataclass(frozen=True)
class DayPlan:
    """The expectations of a run of days: everything the order generator draws from."""

    days: pd.DatetimeIndex
    lines: np.ndarray  # (n_days, n_categories) expected order lines
    discount: np.ndarray  # (n_days,) price discount (fraction) of the day
    revenue_per_line: np.ndarray  # (n_days, n_categories) expected revenue of one line

    @property
    def expected_revenue(self) -> np.ndarray:
        return self.lines * self.revenue_per_line


def _day_index(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")


def _unscaled_lines(days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Expected lines up to the volume scale, and the discount of every day."""
    cal = calendar.calendar_features(days, country=SHOP_COUNTRY)
    n = len(days)
    years = (days - pd.Timestamp(TREND_ANCHOR)).days.to_numpy() / 365.25
    trend = np.exp(np.outer(years, np.log1p(_GROWTH)))
    weekly = _WEEKLY.T[cal["day_of_week"].to_numpy()]
    doy = cal["day_of_year"].to_numpy()[:, None].astype(np.float64)
    a1, p1, a2, p2 = _YEARLY.T
    yearly = np.exp(
        a1 * np.cos(2 * np.pi * (doy - p1) / 365.25) + a2 * np.cos(4 * np.pi * (doy - p2) / 365.25)
    )

    events = np.ones((n, len(CATEGORIES)))
    since_bf = cal["days_since_black_friday"].to_numpy()
    to_bf = cal["days_to_black_friday"].to_numpy()
    is_bf = cal["is_black_friday"].to_numpy() == 1
    is_cm = cal["is_cyber_monday"].to_numpy() == 1
    bf_weekend = (since_bf == 1) | (since_bf == 2)
    cyber_week = (since_bf >= 4) & (since_bf <= 7)
    pre_thanksgiving = (to_bf >= 2) & (to_bf <= 8)
    events[is_bf] = _BLACK_FRIDAY
    events[is_cm] = 1 + _CYBER_MONDAY_VS_BF * (_BLACK_FRIDAY - 1)
    events[bf_weekend] = 1 + _BF_WEEKEND_VS_BF * (_BLACK_FRIDAY - 1)
    events[cyber_week] *= _CYBER_WEEK
    events[pre_thanksgiving] *= _PRE_THANKSGIVING

    month = cal["month"].to_numpy()
    dom = cal["day_of_month"].to_numpy()
    december = month == 12
    ramp = december & (dom <= 22)
    events[ramp] *= 1 + _CHRISTMAS_RAMP * ((dom[ramp, None] - 1) / 21.0)
    events[december & (dom == 23)] *= 1 + _DEC_23_VS_RAMP * _CHRISTMAS_RAMP
    events[december & (dom == 24)] *= _CHRISTMAS_EVE
    events[december & (dom == 25)] *= _CHRISTMAS_DAY
    events[december & (dom >= 26)] *= _POST_CHRISTMAS

    holiday = np.where(cal["is_holiday"].to_numpy() == 1, _HOLIDAY, 1.0)
    promotion = promotion_days(days)
    uplift = np.where(promotion, _PROMOTION, 1.0)

    lines = _LINE_SHARE * trend * weekly * yearly * events * (holiday * uplift)[:, None]

    discount = np.zeros(n)
    discount[promotion] = _DISCOUNT_PROMOTION
    discount[bf_weekend] = _DISCOUNT_BF_WEEKEND
    discount[is_bf] = _DISCOUNT_BLACK_FRIDAY
    discount[is_cm] = _DISCOUNT_CYBER_MONDAY
    return lines, discount


@lru_cache(maxsize=16)
def volume_scale(orders_per_day: float) -> float:
    """Lines-per-day multiplier so that the reference window averages ``orders_per_day`` lines."""
    lines, _ = _unscaled_lines(_day_index(REFERENCE_START, REFERENCE_END))
    return float(orders_per_day) / float(lines.sum(axis=1).mean())


def day_plan(start: dt.date, end: dt.date, config: ShopConfig) -> DayPlan:
    """Expected lines, discount and revenue per line for every day of ``start`` .. ``end``."""
    days = _day_index(start, end)
    unscaled, discount = _unscaled_lines(days)
    lines = unscaled * volume_scale(config.orders_per_day)
    cat = catalog(config)
    revenue_per_line = np.empty_like(lines)
    mean_quantity = 1.0 + QUANTITY_EXTRA
    for level in np.unique(discount):
        revenue_per_line[discount == level] = cat.mean_price(float(level)) * mean_quantity
    return DayPlan(days=days, lines=lines, discount=discount, revenue_per_line=revenue_per_line)


def expected_demand(start: dt.date, end: dt.date, config: ShopConfig | None = None) -> pd.DataFrame:
    """The ground truth: expected revenue per day (``start`` .. ``end`` inclusive) and series.

    Columns ``date`` (datetime64[ns], normalized), ``series`` (``tables.TOTAL_SERIES``, then each
    of ``CATEGORIES``) and ``expected_revenue`` (float64); rows ordered by date, then series. The
    total is the sum of the categories. It is the mean of the revenue ``generate_orders`` draws for
    that day, so a forecast can be scored against the best any model could do.
    """
    plan = day_plan(start, end, config or ShopConfig())
    revenue = plan.expected_revenue
    values = np.column_stack([revenue.sum(axis=1), revenue])
    series = np.array((tables.TOTAL_SERIES, *CATEGORIES), dtype=object)
    n_series = len(series)
    return pd.DataFrame(
        {
            "date": np.repeat(plan.days.values.astype("datetime64[ns]"), n_series),
            "series": np.tile(series, len(plan.days)),
            "expected_revenue": values.reshape(-1).astype(np.float64),
        }
    )


def expected_product_units(
    start: dt.date, end: dt.date, config: ShopConfig | None = None
) -> pd.DataFrame:
    """The ground truth per product: expected units per day (``start`` .. ``end`` inclusive).

    Columns ``date`` (datetime64[ns]), ``product_id`` and ``expected_units`` (float64), ordered by
    product, then date. A product's expected lines are its share of its category's expected lines
    (the day shocks have mean one), times the mean quantity of a line in its category; summed over
    a category's products they give that category's expected units. The forecaster never sees it:
    only the benchmark and the ``expected_product_demand`` asset use it, as the oracle.
    """
    config = config or ShopConfig()
    plan = day_plan(start, end, config)
    cat = catalog(config)
    units_per_line = (1.0 + QUANTITY_EXTRA) * plan.lines  # [n_days, n_categories]
    values = units_per_line[:, cat.category].T * cat.share_in_category[:, None]
    n_days = len(plan.days)
    return pd.DataFrame(
        {
            "date": np.tile(plan.days.values.astype("datetime64[ns]"), len(cat.product_id)),
            "product_id": np.repeat(cat.product_id, n_days),
            "expected_units": values.reshape(-1).astype(np.float64),
        }
    )
