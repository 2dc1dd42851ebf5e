"""Rolling-origin backtest of the product forecasts, the per-class choice and the dispersions.

Folds: ``folds`` consecutive windows of ``horizon`` days ending on the last day (the platform's
:func:`~sales_platform.forecasting.backtest.fold_origins`); each cuts the panel at its origin,
refits every candidate on what was known then and forecasts the window. A product is scored in a
fold when it was established at the origin (neither new nor discontinued).

``published`` is the whole procedure: each class's method chosen on the *earlier* folds (fold 1
publishes the default), so its scores include the choice, then scaled to each category's
middle-out target (:mod:`.middle_out`, fitted on every product sold before the origin). The
:class:`Calibration` returned for publishing uses every fold. Coverage of the service-level
quantity is out-of-sample the same way: fold ``k``'s lead-time quantity (its first
``lead_time`` days) uses the dispersion fitted on folds ``1 .. k-1`` (of the reconciled
forecasts, over each of their consecutive lead-time windows).

Rows of the result (the ``product_backtest`` table): one per product and method (``mae``,
``rmse``, ``bias`` in units; ``scaled_mae`` and ``rmsse`` scaled by the in-sample one-step naive
errors), and per category one pooled row per method (``product_id = "__all__"``: ``scaled_mae``
the mean over its products, ``wrmsse`` over the levels category and product, ``coverage`` of the
service-level quantity for ``published``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sales_platform.forecasting.backtest import fold_origins
from sales_platform.forecasting.products.classify import demand_class
from sales_platform.forecasting.products.distribution import demand_quantile, fit_dispersion
from sales_platform.forecasting.products.forecast import (
    CANDIDATES,
    Calibration,
    candidate_forecasts,
    choose,
)
from sales_platform.forecasting.products.forest import ForestConfig
from sales_platform.forecasting.products.metrics import scaled_errors, wrmsse
from sales_platform.forecasting.products.middle_out import category_targets, reconcile
from sales_platform.forecasting.products.panel import ESTABLISHED, ProductPanel
from sales_platform.tables import ALL_PRODUCTS

PUBLISHED = "published"
MIN_TRAINING_DAYS = 56
BACKTEST_COLUMNS = [
    "category", "product_id", "demand_class", "method", "folds", "mae", "rmse", "bias",
    "scaled_mae", "rmsse", "wrmsse", "coverage", "chosen", "dispersion_daily", "dispersion_lead",
]  # fmt: skip


@dataclass
class Fold:
    """One origin: the products scored, their actuals, history and every method's forecast."""

    origin: pd.Timestamp
    product_id: np.ndarray
    category: np.ndarray
    classes: np.ndarray
    actual: np.ndarray  # [n, horizon]
    history: np.ndarray  # [n, n_days] units up to the origin
    history_revenue: np.ndarray
    forecasts: dict[str, np.ndarray] = field(default_factory=dict)
    category_targets: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class ProductBacktest:
    metrics: pd.DataFrame
    calibration: Calibration
    folds: list[Fold]
    coverage: float


def backtest_folds(
    panel: ProductPanel,
    horizon: int,
    folds: int,
    promotions: pd.DataFrame | None,
    country: str,
    config: ForestConfig | None = None,
) -> list[Fold]:
    """Every candidate's out-of-sample forecasts, fold by fold (folds too early are skipped)."""
    out = []
    for origin in fold_origins(panel.n_days, folds, horizon):
        if origin + 1 < MIN_TRAINING_DAYS:
            continue
        cut = panel.cut(origin)
        established = cut.status() == ESTABLISHED
        if not established.any():
            continue
        scored = cut.select(established)
        rows = np.isin(panel.product_id, scored.product_id)
        out.append(
            Fold(
                origin=panel.dates[origin],
                product_id=scored.product_id,
                category=scored.category,
                classes=demand_class(scored.units),
                actual=np.nan_to_num(panel.units[rows, origin + 1 : origin + 1 + horizon]),
                history=scored.units,
                history_revenue=scored.revenue,
                forecasts=candidate_forecasts(scored, horizon, promotions, country, config),
                category_targets=category_targets(cut, horizon, promotions, country),
            )
        )
    return out


def _best_per_class(folds: list[Fold]) -> dict[str, str]:
    """Per demand class, the candidate with the lowest mean RMSSE over its products and folds."""
    rows = []
    for fold in folds:
        for method in CANDIDATES:
            _, rmsse = scaled_errors(fold.actual, fold.forecasts[method], fold.history)
            rows.append(pd.DataFrame({"cls": fold.classes, "method": method, "rmsse": rmsse}))
    if not rows:
        return {}
    scores = pd.concat(rows).groupby(["cls", "method"])["rmsse"].mean().dropna()
    return {cls: str(g.droplevel(0).idxmin()) for cls, g in scores.groupby(level=0)}


def _window_sums(x: np.ndarray, window: int) -> np.ndarray:
    """``x [n, horizon]`` summed over consecutive windows of ``window`` days (at least one)."""
    n = max(x.shape[1] // window, 1)
    return np.stack([x[:, k * window : (k + 1) * window].sum(axis=1) for k in range(n)], axis=1)


def _fit_per_class(folds: list[Fold], window: int) -> dict[str, float]:
    """Each demand class's dispersion of the published forecast's sums over ``window`` days:
    every window of every fold, not only the first (a lead time's first week of each fold
    alone saw as few demand shocks as there were folds)."""
    classes = np.concatenate([f.classes for f in folds])
    actual = np.concatenate([_window_sums(f.actual, window) for f in folds])
    forecast = np.concatenate([_window_sums(f.forecasts[PUBLISHED], window) for f in folds])
    return {
        str(cls): fit_dispersion(actual[classes == cls], forecast[classes == cls])
        for cls in np.unique(classes)
    }


def _dispersions(folds: list[Fold], lead_time: int) -> tuple[dict, dict]:
    if not folds:
        return {}, {}
    return _fit_per_class(folds, 1), _fit_per_class(folds, lead_time)


def _publish(folds: list[Fold], lead_time: int, service_level: float) -> float:
    """Add each fold's ``published`` forecast (choice on earlier folds); return the coverage of
    the service-level quantity over the folds that had an earlier one to calibrate on."""
    covered, total = 0, 0
    for k, fold in enumerate(folds):
        earlier = folds[:k]
        calibration = Calibration(choice=_best_per_class(earlier), lead_time_days=lead_time)
        chosen, _ = choose(fold.forecasts, fold.classes, calibration)
        fold.forecasts[PUBLISHED] = reconcile(chosen, fold.category, fold.category_targets)
        if earlier:
            calibration.dispersion_lead = _fit_per_class(earlier, lead_time)
            mean = fold.forecasts[PUBLISHED][:, :lead_time].sum(axis=1)
            phi = calibration.phi(fold.classes, lead=True)
            quantity = demand_quantile(mean, phi, service_level)
            covered += int((fold.actual[:, :lead_time].sum(axis=1) <= quantity).sum())
            total += len(quantity)
    return covered / total if total else float("nan")


def _metric_rows(folds: list[Fold], calibration: Calibration, coverage: float) -> pd.DataFrame:
    parts = []
    for k, fold in enumerate(folds):
        for method, forecast in fold.forecasts.items():
            smae, rmsse = scaled_errors(fold.actual, forecast, fold.history)
            err = forecast - fold.actual
            parts.append(
                pd.DataFrame(
                    {
                        "category": fold.category,
                        "product_id": fold.product_id,
                        "demand_class": fold.classes,
                        "method": method,
                        "fold": k,
                        "abs": np.abs(err).mean(axis=1),
                        "sq": (err**2).mean(axis=1),
                        "err": err.mean(axis=1),
                        "scaled_mae": smae,
                        "rmsse": rmsse,
                    }
                )
            )
    if not parts:
        return pd.DataFrame({c: [] for c in BACKTEST_COLUMNS})
    long = pd.concat(parts, ignore_index=True)
    per_product = long.groupby(["category", "product_id", "method"], as_index=False).agg(
        demand_class=("demand_class", "last"),
        folds=("fold", "nunique"),
        mae=("abs", "mean"),
        rmse=("sq", lambda s: float(np.sqrt(s.mean()))),
        bias=("err", "mean"),
        scaled_mae=("scaled_mae", "mean"),
        rmsse=("rmsse", "mean"),
    )
    per_product["wrmsse"] = np.nan
    per_product["coverage"] = np.nan
    per_product["chosen"] = per_product["method"] == per_product["demand_class"].map(
        calibration.method
    )
    # The class's dispersions ride on its products' published rows: the forecast reads them back.
    published = per_product["method"] == PUBLISHED
    for column, table in (
        ("dispersion_daily", calibration.dispersion_daily),
        ("dispersion_lead", calibration.dispersion_lead),
    ):
        per_product[column] = np.where(
            published, per_product["demand_class"].map(table).astype(float), np.nan
        )
    pooled = []
    for cat in np.unique(np.concatenate([f.category for f in folds])):
        for method in folds[0].forecasts:
            scores = []
            for fold in folds:
                rows = fold.category == cat
                if rows.any():
                    scores.append(
                        wrmsse(
                            fold.actual[rows],
                            fold.forecasts[method][rows],
                            fold.history[rows],
                            fold.history_revenue[rows],
                            fold.category[rows],
                        )
                    )
            # Within one category the total level is the category itself: score it once.
            mean = pd.DataFrame(scores)[["category", "product"]].mean()
            sub = per_product[(per_product["category"] == cat) & (per_product["method"] == method)]
            pooled.append(
                {
                    "category": cat,
                    "product_id": ALL_PRODUCTS,
                    "demand_class": ALL_PRODUCTS,
                    "method": method,
                    "folds": len(scores),
                    "mae": sub["mae"].mean(),
                    "rmse": sub["rmse"].mean(),
                    "bias": sub["bias"].mean(),
                    "scaled_mae": sub["scaled_mae"].mean(),
                    "rmsse": sub["rmsse"].mean(),
                    "wrmsse": float(mean.mean()),
                    "coverage": coverage if method == PUBLISHED else np.nan,
                    "chosen": method == PUBLISHED,
                    "dispersion_daily": np.nan,
                    "dispersion_lead": np.nan,
                }
            )
    frame = pd.concat([per_product, pd.DataFrame(pooled)], ignore_index=True)
    return frame[BACKTEST_COLUMNS]


def run_product_backtest(
    panel: ProductPanel,
    horizon: int = 28,
    folds: int = 5,
    lead_time: int = 7,
    service_level: float = 0.95,
    promotions: pd.DataFrame | None = None,
    country: str = "US",
    config: ForestConfig | None = None,
) -> ProductBacktest:
    """Backtest every candidate and the published choice; the calibration to publish with."""
    fold_data = backtest_folds(panel, horizon, folds, promotions, country, config)
    coverage = _publish(fold_data, lead_time, service_level)
    choice = _best_per_class(fold_data)
    daily, lead = _dispersions(fold_data, lead_time)
    calibration = Calibration(choice, daily, lead, lead_time)
    metrics = _metric_rows(fold_data, calibration, coverage)
    return ProductBacktest(metrics, calibration, fold_data, coverage)


def calibration_from_table(product_backtest: pd.DataFrame, lead_time: int) -> Calibration:
    """The :class:`Calibration` a ``product_backtest`` table holds (empty table: the defaults)."""
    rows = product_backtest[product_backtest["product_id"] != ALL_PRODUCTS]
    chosen = rows[rows["chosen"].astype(bool) & (rows["method"] != PUBLISHED)]
    published = rows[rows["method"] == PUBLISHED].groupby("demand_class")
    return Calibration(
        choice=chosen.groupby("demand_class")["method"].first().to_dict(),
        dispersion_daily=published["dispersion_daily"].first().dropna().to_dict(),
        dispersion_lead=published["dispersion_lead"].first().dropna().to_dict(),
        lead_time_days=lead_time,
    )
