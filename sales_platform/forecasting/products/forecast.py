"""Product forecasts: candidates, the per-class choice, new products, bounds and revenue.

*Candidates.* The global forest and the statistical methods of
:mod:`~sales_platform.forecasting.products.methods` forecast every product that is neither new
nor discontinued. Each product publishes the candidate its demand class (ADI / CV²) chose on the
backtest: per class, the lowest mean RMSSE over its products and folds (a choice per product on
five folds of a rare seller would follow the noise; a class pools hundreds of products).

*New products* (fewer than 28 days since the first sale) get their share of the category: the
product's units over its days divided by the category's units over the same days, times the
category's forecast (the sum of its established products, reconciled), flagged ``is_new``.
*Discontinued products* (no sale in 90 days) are not forecast.

*Bounds.* 80%/95% central intervals of a negative binomial around each day's forecast, with the
class's daily dispersion fitted on the backtest (:mod:`.distribution`).

*Coherence.* Units are middle-out (:mod:`.middle_out`): each category's units are forecast as one
series and its established products' forecasts scaled, day by day, to add up to it, so they keep
their own shape (a category forecast split top-down by fixed shares would give every product the
category's weekly and event pattern, wrong for a rare seller); new products add their share on
top, and a category's units forecast is the sum of its products'. Revenue is
top-down from the published ``sales_forecast``: each category's forecast revenue of a day is
split over its products by forecast units x unit price, so the product revenues of a category add
up to the revenue the platform publishes for it, exactly, and the two tables never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sales_platform.forecasting.products.classify import demand_class
from sales_platform.forecasting.products.distribution import interval
from sales_platform.forecasting.products.forest import FOREST, ForestConfig, forest_forecast
from sales_platform.forecasting.products.methods import STATISTICAL_METHODS, statistical_forecasts
from sales_platform.forecasting.products.middle_out import category_targets, reconcile
from sales_platform.forecasting.products.panel import ESTABLISHED, NEW, ProductPanel

CANDIDATES = (FOREST, *STATISTICAL_METHODS)
CATEGORY_SHARE = "category_share"
DEFAULT_METHOD = FOREST
"""Before any backtest, every class publishes the forest (the one candidate that learns from every
product; the lowest WRMSSE of the candidates on a 2,000-product synthetic shop, seed 42)."""
MAX_NEW_SHARE = 0.5
"""New products together take at most this share of their category's forecast."""

FORECAST_COLUMNS = [
    "category", "product_id", "date", "horizon", "units", "lower_80", "upper_80", "lower_95",
    "upper_95", "revenue", "method", "demand_class", "is_new",
]  # fmt: skip


@dataclass
class Calibration:
    """What the backtest decided: a method per demand class, and each class's dispersion of
    daily demand and of lead-time demand (negative binomial ``phi``)."""

    choice: dict[str, str] = field(default_factory=dict)
    dispersion_daily: dict[str, float] = field(default_factory=dict)
    dispersion_lead: dict[str, float] = field(default_factory=dict)
    lead_time_days: int = 7

    def method(self, cls: str) -> str:
        return self.choice.get(cls, DEFAULT_METHOD)

    def phi(self, classes: np.ndarray, lead: bool) -> np.ndarray:
        table = self.dispersion_lead if lead else self.dispersion_daily
        fallback = max(table.values(), default=0.0)  # unknown class: the widest we know
        return np.array([table.get(c, fallback) for c in classes], dtype=np.float64)


def candidate_forecasts(
    panel: ProductPanel,
    horizon: int,
    promotions: pd.DataFrame | None,
    country: str,
    config: ForestConfig | None = None,
    methods: tuple[str, ...] = CANDIDATES,
) -> dict[str, np.ndarray]:
    """``{method: [n_products, horizon]}`` for every product of ``panel``."""
    out = statistical_forecasts(panel.units, horizon, tuple(m for m in methods if m != FOREST))
    if FOREST in methods:
        out[FOREST], _ = forest_forecast(panel, horizon, promotions, country, config)
    return out


def choose(
    candidates: dict[str, np.ndarray],
    classes: np.ndarray,
    calibration: Calibration,
    only: np.ndarray | None = None,
):
    """Each product's chosen forecast ``[n_products, horizon]`` and method name; only the
    products of the bool mask ``only`` (default: all) are chosen, the others stay 0 with method
    ``""`` (the new products, whose class's method need not have been computed)."""
    methods = np.array([calibration.method(c) for c in classes], dtype=object)
    if only is not None:
        methods[~only] = ""
    any_values = next(iter(candidates.values()))
    chosen = np.zeros_like(any_values)
    for name in np.unique(methods[methods != ""]):
        rows = methods == name
        chosen[rows] = candidates[name][rows]
    return chosen, methods


def category_share(panel: ProductPanel, forecast: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Forecasts of the ``new`` products: their share of the category's established forecast."""
    out = forecast.copy()
    units = np.nan_to_num(panel.units)
    first = panel.first_sale()
    for cat in np.unique(panel.category[new]):
        in_cat = panel.category == cat
        established = in_cat & ~new
        cat_forecast = forecast[established].sum(axis=0)
        rows = np.flatnonzero(in_cat & new)
        shares = np.array(
            [units[p, first[p] :].sum() / max(units[in_cat, first[p] :].sum(), 1e-12) for p in rows]
        )
        total = shares.sum()
        if total > MAX_NEW_SHARE:
            shares *= MAX_NEW_SHARE / total
        scale = 1.0 / (1.0 - shares.sum())
        out[rows] = shares[:, None] * cat_forecast[None, :] * scale
    return out


def forecast_products(
    panel: ProductPanel,
    horizon: int,
    calibration: Calibration,
    promotions: pd.DataFrame | None = None,
    country: str = "US",
    config: ForestConfig | None = None,
) -> pd.DataFrame:
    """The forecast of every active product (``FORECAST_COLUMNS`` but ``revenue``, NaN here)."""
    status = panel.status()
    active = panel.select(status != "discontinued")
    status = status[status != "discontinued"]
    if not len(active.product_id):
        return pd.DataFrame({c: [] for c in FORECAST_COLUMNS})
    classes = demand_class(active.units)
    established = status == ESTABLISHED
    needed = tuple(sorted({calibration.method(c) for c in classes[established]}))
    needed = needed or (FOREST,)
    candidates = candidate_forecasts(active, horizon, promotions, country, config, needed)
    units, methods = choose(candidates, classes, calibration, established)
    targets = category_targets(panel, horizon, promotions, country)
    units[established] = reconcile(units[established], active.category[established], targets)
    new = status == NEW
    units = category_share(active, units, new)
    methods = np.where(new, CATEGORY_SHARE, methods)
    phi = calibration.phi(classes, lead=False)[:, None]
    lower_80, upper_80 = interval(units, phi, 0.80)
    lower_95, upper_95 = interval(units, phi, 0.95)
    n = len(active.product_id)
    dates = pd.date_range(active.dates[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    frame = pd.DataFrame(
        {
            "category": np.repeat(active.category, horizon),
            "product_id": np.repeat(active.product_id, horizon),
            "date": np.tile(dates.values, n),
            "horizon": np.tile(np.arange(1, horizon + 1), n),
            "units": units.reshape(-1),
            "lower_80": lower_80.reshape(-1),
            "upper_80": upper_80.reshape(-1),
            "lower_95": lower_95.reshape(-1),
            "upper_95": upper_95.reshape(-1),
            "revenue": np.nan,
            "method": np.repeat(methods, horizon),
            "demand_class": np.repeat(classes, horizon),
            "is_new": np.repeat(new, horizon),
        }
    )
    return frame[FORECAST_COLUMNS]


def allocate_revenue(
    forecast: pd.DataFrame, prices: pd.Series, sales_forecast: pd.DataFrame, total_series: str
) -> pd.DataFrame:
    """``forecast`` with ``revenue``: each category-day's ``sales_forecast`` revenue split over
    its products by units x unit price (``prices`` indexed by product_id).

    A category without its own series in ``sales_forecast`` (a shop of one category publishes
    only the total) takes the total's when it is the only category; otherwise, and on a day
    whose products forecast no units, revenue is units x price (not coherent: nothing to split).
    """
    out = forecast.copy()
    price = out["product_id"].map(prices).fillna(0.0).to_numpy(dtype=np.float64)
    weight = out["units"].to_numpy(dtype=np.float64) * price
    out["revenue"] = weight
    if sales_forecast.empty or out.empty:
        return out
    published = sales_forecast.assign(date=pd.to_datetime(sales_forecast["date"]))
    published = published.set_index(["series", "date"])["forecast"]
    categories = out["category"].unique()
    series = out["category"].astype(str)
    if len(categories) == 1 and categories[0] not in published.index.get_level_values(0):
        series = pd.Series(total_series, index=out.index)
    key = pd.MultiIndex.from_arrays([series, pd.to_datetime(out["date"])])
    target = published.reindex(key).to_numpy(dtype=np.float64)
    groups = [series.to_numpy(), out["date"].to_numpy()]
    group_sum = pd.Series(weight).groupby(groups).transform("sum")
    share = np.divide(weight, group_sum.to_numpy(), out=np.zeros(len(out)), where=group_sum > 0)
    coherent = np.isfinite(target) & (group_sum.to_numpy() > 0)
    out["revenue"] = np.where(coherent, share * np.where(coherent, target, 0.0), weight)
    return out
