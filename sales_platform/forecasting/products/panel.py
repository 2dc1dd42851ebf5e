"""Products as a dense panel: units and revenue per product and day, and each product's status.

The ``product_daily_sales`` table holds a product's days from its first sale to the last day
(zero-filled); here they become ``[n_products, n_days]`` matrices with NaN before a product's
first sale, so "no sale yet" is never mistaken for "sold nothing".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NEW_PRODUCT_DAYS = 28
"""A product with fewer days since its first sale is new: a category-based forecast."""
DISCONTINUED_DAYS = 90
"""A product with no sale in this many days is discontinued: not forecast."""
PRICE_DAYS = 28
"""A product's price: its revenue per unit over its last this-many days (else its lifetime)."""

NEW = "new"
DISCONTINUED = "discontinued"
ESTABLISHED = "established"


@dataclass(frozen=True)
class ProductPanel:
    """Per product (rows) and day (columns); NaN before a product's first sale."""

    product_id: np.ndarray  # [P] str
    category: np.ndarray  # [P] str
    dates: pd.DatetimeIndex  # [D]
    units: np.ndarray  # [P, D] float64
    revenue: np.ndarray  # [P, D] float64

    @property
    def n_days(self) -> int:
        return len(self.dates)

    def first_sale(self) -> np.ndarray:
        """Index of each product's first day in the panel (its first sale)."""
        return np.argmax(~np.isnan(self.units), axis=1)

    def last_sale(self) -> np.ndarray:
        """Index of each product's last day with a sale (-1 if none)."""
        sold = np.nan_to_num(self.units) > 0
        last = self.n_days - 1 - np.argmax(sold[:, ::-1], axis=1)
        return np.where(sold.any(axis=1), last, -1)

    def status(self) -> np.ndarray:
        """``new``, ``discontinued`` or ``established`` for each product on the last day."""
        age = self.n_days - self.first_sale()
        since_sale = self.n_days - 1 - self.last_sale()
        return np.where(
            since_sale >= DISCONTINUED_DAYS,
            DISCONTINUED,
            np.where(age < NEW_PRODUCT_DAYS, NEW, ESTABLISHED),
        )

    def unit_price(self) -> np.ndarray:
        """Revenue per unit over the last :data:`PRICE_DAYS` days with a sale (else lifetime)."""
        units = np.nan_to_num(self.units)
        revenue = np.nan_to_num(self.revenue)
        recent_units = units[:, -PRICE_DAYS:].sum(axis=1)
        recent = np.divide(
            revenue[:, -PRICE_DAYS:].sum(axis=1),
            recent_units,
            where=recent_units > 0,
            out=np.zeros(len(units)),
        )
        total_units = units.sum(axis=1)
        lifetime = np.divide(
            revenue.sum(axis=1), total_units, where=total_units > 0, out=np.zeros(len(units))
        )
        return np.where(recent_units > 0, recent, lifetime)

    def cut(self, last_index: int) -> ProductPanel:
        """The panel up to day ``last_index`` (inclusive); products not yet sold are dropped."""
        units = self.units[:, : last_index + 1]
        keep = ~np.isnan(units).all(axis=1)
        return ProductPanel(
            product_id=self.product_id[keep],
            category=self.category[keep],
            dates=self.dates[: last_index + 1],
            units=units[keep],
            revenue=self.revenue[keep, : last_index + 1],
        )

    def select(self, mask: np.ndarray) -> ProductPanel:
        return ProductPanel(
            product_id=self.product_id[mask],
            category=self.category[mask],
            dates=self.dates,
            units=self.units[mask],
            revenue=self.revenue[mask],
        )


def to_panel(product_daily_sales: pd.DataFrame) -> ProductPanel:
    """The panel of a ``product_daily_sales`` frame (product_id, category, date, units, revenue).

    Days a product lacks before its first row are NaN; days missing after it are zero.
    """
    missing = {"product_id", "category", "date", "units", "revenue"} - set(product_daily_sales)
    if missing:
        raise ValueError(f"product_daily_sales lacks column(s) {sorted(missing)}")
    if product_daily_sales.empty:
        raise ValueError("product_daily_sales is empty")
    df = product_daily_sales
    dates = pd.to_datetime(df["date"]).dt.normalize()
    all_days = pd.date_range(dates.min(), dates.max(), freq="D")
    product_codes, product_id = pd.factorize(df["product_id"].astype(str), sort=True)
    day = ((dates - all_days[0]).dt.days).to_numpy()
    shape = (len(product_id), len(all_days))
    units = np.zeros(shape)
    revenue = np.zeros(shape)
    units[product_codes, day] = df["units"].to_numpy(dtype=np.float64)
    revenue[product_codes, day] = df["revenue"].to_numpy(dtype=np.float64)
    first = np.full(len(product_id), len(all_days))
    np.minimum.at(first, product_codes, day)
    before = np.arange(len(all_days))[None, :] < first[:, None]
    units[before] = np.nan
    revenue[before] = np.nan
    category = (
        df.assign(_code=product_codes).groupby("_code")["category"].first().astype(str).to_numpy()
    )
    return ProductPanel(
        product_id=np.asarray(product_id, dtype=object),
        category=category.astype(object),
        dates=all_days,
        units=units,
        revenue=revenue,
    )
