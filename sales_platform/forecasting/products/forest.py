"""One global RandomForest over every product: the share of demand a product's own level implies.

*Target.* Units on the target day divided by the product's scale: its mean units per day over
the last :data:`SCALE_DAYS` days at the origin (at least :data:`SCALE_FLOOR`). Every product's
target is of order one, so the best sellers do not drown the tail, and a product of 0.1 units a
day learns from products of 50 units a day. Rows are weighted by that scale: the ratio of a
product selling 10 units a day is measured about ten times as precisely as one selling one
(Poisson counts), so the trees split on the shape of demand, not on the noise of rare sellers.

*Direct.* One row per (product, origin, horizon); features are known at the origin (the
product's recent means relative to its scale, share of days with a sale, days since the last
sale, age, level, price and price relative to its category, the category's weekday profile, its
7- and 28-day means over its 91-day mean, and last year's same-day ratio) or known ahead for the
target day (calendar without the day's position in its month or year, as the sales forest's:
``features.DATE_POSITION_COLUMNS``; the category's promotions, the horizon). No recursion, so
10,000 products x 30 days is one ``predict`` call. Without the date's position the forest
candidate's WRMSSE went 0.764 -> 0.733 (seed 42), 0.714 -> 0.690 (seed 1) and 0.758 -> 0.700
(Superstore); the published forecast's 0.683, 0.620 and 0.634 -> 0.628 (README).

*Budget.* Training rows are drawn at random (origins in the last :data:`TRAIN_DAYS` days, every
product established at its origin), at most ``train_rows``; each tree sees ``rows_per_tree`` of
them, and splits consider half the features. The cost is set by rows per tree x trees x features
(DESIGN.md's measured facts), not by the catalog: 10,000 products cost what 2,000 do, except the
features of the rows forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from sales_platform.forecasting.features import calendar_matrix, model_calendar, promotion_matrix
from sales_platform.forecasting.products.panel import NEW_PRODUCT_DAYS, ProductPanel

FOREST = "forest"
SCALE_DAYS = 91
SCALE_FLOOR = 1.0 / 28
TRAIN_DAYS = 364
PROFILE_DAYS = 182
MISSING = -1.0
ROWS_PER_PRODUCT = 120
"""Training rows drawn per product, up to ``ForestConfig.train_rows``."""
MIN_ROWS_PER_TREE = 5_000


@dataclass(frozen=True)
class ForestConfig:
    """The forest's budget: training rows, rows per tree and trees, bounded whatever the catalog."""

    train_rows: int = 400_000
    rows_per_tree: int = 40_000
    n_estimators: int = 60
    min_samples_leaf: int = 20
    max_features: float = 0.5
    n_jobs: int = 2
    seed: int = 0


class _State:
    """Cumulative sums of a panel, so any window mean at any origin is two lookups."""

    def __init__(self, panel: ProductPanel, prices: np.ndarray, promotions, country: str, horizon):
        units = panel.units
        self.n_days = panel.n_days
        known = ~np.isnan(units)
        z = np.nan_to_num(units)
        pad = ((0, 0), (1, 0))
        self.cum = np.pad(np.cumsum(z, axis=1), pad)
        self.count = np.pad(np.cumsum(known, axis=1, dtype=np.int32), pad)
        self.sold = np.pad(np.cumsum(z > 0, axis=1, dtype=np.int32), pad)
        index = np.where(z > 0, np.arange(self.n_days)[None, :], -1)
        self.last_sale = np.maximum.accumulate(index, axis=1).astype(np.int32)
        self.first_sale = panel.first_sale()
        self.categories, self.cat = np.unique(panel.category.astype(str), return_inverse=True)
        n_cat = len(self.categories)
        cat_units = np.zeros((n_cat, self.n_days))
        np.add.at(cat_units, self.cat, z)
        self.cat_units = cat_units
        self.cat_cum = np.pad(np.cumsum(cat_units, axis=1), pad)
        weekday = panel.dates.dayofweek.to_numpy()
        self.cat_weekday_cum = np.stack(
            [np.pad(np.cumsum(cat_units * (weekday == w), axis=1), pad) for w in range(7)]
        )
        self.log_price = np.log1p(np.maximum(prices, 0.0))
        median = pd.Series(prices).groupby(self.cat).transform("median").to_numpy()
        self.price_rel = np.divide(prices, median, out=np.ones(len(prices)), where=median > 0)
        days = pd.date_range(panel.dates[0], periods=self.n_days + horizon, freq="D")
        names, calendar = calendar_matrix(days, country)
        keep = model_calendar(names)
        self.calendar_names, self.calendar = [names[j] for j in keep], calendar[:, keep]
        self.promotion = promotion_matrix(days, list(self.categories), promotions)
        self.weekday_all = days.dayofweek.to_numpy()

    def window_mean(self, p: np.ndarray, t: np.ndarray, w: int) -> np.ndarray:
        lo = np.maximum(t + 1 - w, 0)
        n = self.count[p, t + 1] - self.count[p, lo]
        return (self.cum[p, t + 1] - self.cum[p, lo]) / np.maximum(n, 1)

    def category_mean(self, c: np.ndarray, t: np.ndarray, w: int) -> np.ndarray:
        lo = np.maximum(t + 1 - w, 0)
        return (self.cat_cum[c, t + 1] - self.cat_cum[c, lo]) / (t + 1 - lo)

    def features(self, p: np.ndarray, t: np.ndarray, h: np.ndarray):
        """The design matrix of rows (product, origin index, horizon) and each row's scale."""
        d = t + h
        c = self.cat[p]
        scale = np.maximum(self.window_mean(p, t, SCALE_DAYS), SCALE_FLOOR)
        lo28 = np.maximum(t + 1 - 28, 0)
        n28 = np.maximum(self.count[p, t + 1] - self.count[p, lo28], 1)
        lo_p = np.maximum(t + 1 - PROFILE_DAYS, 0)
        window = self.cat_cum[c, t + 1] - self.cat_cum[c, lo_p]
        wd = self.cat_weekday_cum[self.weekday_all[d], c, t + 1]
        wd = wd - self.cat_weekday_cum[self.weekday_all[d], c, lo_p]
        profile = np.divide(7.0 * wd, window, out=np.ones(len(p)), where=window > 0)
        ly_t = t - 364
        ly_ok = ly_t - 27 >= 0
        ly_t = np.maximum(ly_t, 27)
        ly_mean = (self.cat_cum[c, ly_t + 1] - self.cat_cum[c, ly_t - 27]) / 28.0
        ly_day = self.cat_units[c, np.minimum(d - 364, self.n_days - 1).clip(0)]
        last_year = np.where(
            ly_ok & (ly_mean > 0), ly_day / np.where(ly_mean > 0, ly_mean, 1.0), MISSING
        )
        category_scale = np.maximum(self.category_mean(c, t, SCALE_DAYS), SCALE_FLOOR)

        def category_recent(w: int) -> np.ndarray:
            return self.category_mean(c, t, w) / category_scale

        columns = [
            c.astype(np.float64),
            h.astype(np.float64),
            np.log(scale),
            self.window_mean(p, t, 7) / scale,
            self.window_mean(p, t, 28) / scale,
            self.window_mean(p, t, PROFILE_DAYS) / scale,
            (self.sold[p, t + 1] - self.sold[p, lo28]) / n28,
            np.minimum(t - self.last_sale[p, t], SCALE_DAYS).astype(np.float64),
            np.minimum(t - self.first_sale[p] + 1, TRAIN_DAYS).astype(np.float64),
            self.log_price[p],
            self.price_rel[p],
            profile,
            category_recent(7),
            category_recent(28),
            last_year,
            self.promotion[d, c],
        ]
        return np.column_stack([*columns, self.calendar[d]]).astype(np.float32), scale


FEATURE_NAMES = [
    "category_id", "horizon", "log_scale", "mean_7", "mean_28", "mean_182", "sale_share_28",
    "days_since_sale", "age", "log_price", "price_vs_category", "category_weekday_profile",
    "category_mean_7", "category_mean_28", "category_last_year", "is_promotion",
]  # fmt: skip


def _training_rows(state: _State, horizon: int, n_rows: int, rng: np.random.Generator):
    """Random (product, origin, horizon) with the target inside the history and the product
    established (older than a new product) and still selling at the origin."""
    last = state.n_days - 1
    first_origin = max(last - TRAIN_DAYS, 0)
    draws = int(n_rows * 1.5) + 1000
    p = rng.integers(0, len(state.first_sale), draws)
    t = rng.integers(first_origin, max(last, first_origin + 1), draws)
    h = rng.integers(1, horizon + 1, draws)
    ok = (t + h <= last) & (t - state.first_sale[p] + 1 >= NEW_PRODUCT_DAYS)
    ok &= t - state.last_sale[p, t] < SCALE_DAYS
    return p[ok][:n_rows], t[ok][:n_rows], h[ok][:n_rows]


@dataclass
class ProductForest:
    estimator: RandomForestRegressor | None
    feature_names: list[str]
    training_rows: int


def forest_forecast(
    panel: ProductPanel,
    horizon: int,
    promotions: pd.DataFrame | None = None,
    country: str = "US",
    config: ForestConfig | None = None,
    prices: np.ndarray | None = None,
) -> tuple[np.ndarray, ProductForest]:
    """Fit the forest on ``panel`` and forecast every product ``horizon`` days past its last day.

    Returns ``[n_products, horizon]`` units (at least 0) and the fitted forest. Too little
    history to draw training rows gives the scale (mean of the last weeks) flat.
    """
    config = config or ForestConfig()
    prices = panel.unit_price() if prices is None else prices
    state = _State(panel, prices, promotions, country, horizon)
    rng = np.random.default_rng(config.seed)
    # A small catalog needs fewer rows to learn from (and CI's default shop stays fast).
    n_rows = min(config.train_rows, ROWS_PER_PRODUCT * len(panel.product_id))
    p, t, h = _training_rows(state, horizon, n_rows, rng)
    n_products = len(panel.product_id)
    fp = np.repeat(np.arange(n_products), horizon)
    ft = np.full(len(fp), state.n_days - 1)
    fh = np.tile(np.arange(1, horizon + 1), n_products)
    x_future, scale = state.features(fp, ft, fh)
    names = [*FEATURE_NAMES, *state.calendar_names]
    if len(p) < config.min_samples_leaf * 10:
        return scale.reshape(n_products, horizon), ProductForest(None, names, len(p))
    x, s = state.features(p, t, h)
    per_tree = min(config.rows_per_tree, max(MIN_ROWS_PER_TREE, len(p) // 4))
    y = state.cum[p, t + h + 1] - state.cum[p, t + h]
    estimator = RandomForestRegressor(
        n_estimators=config.n_estimators,
        min_samples_leaf=config.min_samples_leaf,
        max_features=config.max_features,
        max_samples=min(1.0, per_tree / len(p)),
        n_jobs=config.n_jobs,
        random_state=config.seed,
    )
    estimator.fit(x, y / s, sample_weight=s)
    ratio = estimator.predict(x_future)
    units = np.maximum(ratio * scale, 0.0).reshape(n_products, horizon)
    return units, ProductForest(estimator, names, len(p))
