"""M5-style scores of product forecasts: per-product scaled errors and WRMSSE over the hierarchy.

For a series with in-sample history ``y`` (from its first sale to the origin) the scales are the
one-step naive forecast's in-sample errors: ``mean |y_t - y_{t-1}|`` (scaled MAE) and
``mean (y_t - y_{t-1})^2`` (RMSSE). ``wrmsse`` averages the levels of the hierarchy (total,
categories, products) with equal weight; within a level each series weighs its share of the
level's revenue over the last 28 days before the origin (Makridakis et al., the M5 guidelines).
"""

from __future__ import annotations

import numpy as np

SCALE_WINDOW_DAYS = 28
"""Revenue weights: the last 28 days before the origin, as in M5."""


def naive_scales(history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``history [n_series, n_days]`` (NaN before the first sale): the in-sample MAE
    and MSE of the one-step naive forecast (NaN with fewer than two days)."""
    diff = np.diff(history, axis=1)
    known = ~np.isnan(diff)
    n = known.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.where(n > 0, np.nansum(np.abs(diff), axis=1) / n, np.nan)
        mse = np.where(n > 0, np.nansum(diff**2, axis=1) / n, np.nan)
    return mae, mse


def scaled_errors(
    actual: np.ndarray, forecast: np.ndarray, history: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per series: MAE / in-sample naive MAE and RMSSE (NaN where the scale is 0 or unknown)."""
    scale_mae, scale_mse = naive_scales(history)
    err = forecast - actual
    with np.errstate(invalid="ignore", divide="ignore"):
        smae = np.where(scale_mae > 0, np.abs(err).mean(axis=1) / scale_mae, np.nan)
        rmsse = np.where(scale_mse > 0, np.sqrt((err**2).mean(axis=1) / scale_mse), np.nan)
    return smae, rmsse


def _level_score(actual, forecast, history, weight) -> float:
    _, rmsse = scaled_errors(actual, forecast, history)
    ok = np.isfinite(rmsse) & (weight > 0)
    if not ok.any():
        return float("nan")
    return float(np.sum(weight[ok] * rmsse[ok]) / np.sum(weight[ok]))


def wrmsse(
    actual: np.ndarray,
    forecast: np.ndarray,
    history: np.ndarray,
    history_revenue: np.ndarray,
    category: np.ndarray,
) -> dict[str, float]:
    """WRMSSE of one origin over the levels total / category / product, and the levels' scores.

    ``actual``/``forecast`` are ``[n_products, horizon]`` units, ``history``/``history_revenue``
    ``[n_products, n_days]`` up to the origin (NaN before a product's first sale), ``category``
    ``[n_products]``.
    """
    revenue = np.nansum(history_revenue[:, -SCALE_WINDOW_DAYS:], axis=1)
    cats, code = np.unique(category.astype(str), return_inverse=True)

    def by_category(m: np.ndarray) -> np.ndarray:
        out = np.zeros((len(cats), m.shape[1]))
        np.add.at(out, code, np.nan_to_num(m))
        return out

    cat_history = by_category(history)
    levels = {
        "total": _level_score(
            actual.sum(axis=0, keepdims=True),
            forecast.sum(axis=0, keepdims=True),
            cat_history.sum(axis=0, keepdims=True),
            np.array([1.0]),
        ),
        "category": _level_score(
            by_category(actual),
            by_category(forecast),
            cat_history,
            np.bincount(code, revenue, minlength=len(cats)),
        ),
        "product": _level_score(actual, forecast, history, revenue),
    }
    finite = [v for v in levels.values() if np.isfinite(v)]
    return {"wrmsse": float(np.mean(finite)) if finite else float("nan"), **levels}
