"""Nothing real shops' sales look like breaks the forecast: one fixture per shape, and a property.

Each case runs what the pipeline runs (fit, backtest or its too-short message, then the forecast to
publish) and checks the published table: every series and day, finite, non-negative, intervals
ordered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sales_platform.forecasting import (
    ForecastConfig,
    NotEnoughHistory,
    fit_forecaster,
    forecast_to_publish,
    run_backtest,
)
from sales_platform.tables import COLUMNS, TOTAL_SERIES

HORIZON = 14
CONFIG = ForecastConfig(n_estimators=10, n_jobs=1)
CATEGORIES = ("Garden", "Kitchen", "Toys")


def shop_sales(
    days: int = 200,
    categories: tuple[str, ...] = CATEGORIES,
    with_total: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """``[days, len(categories)]`` of weekly-seasonal, noisy revenue."""
    rng = np.random.default_rng(seed)
    week = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 1.4, 0.8])
    base = rng.uniform(200, 2000, size=len(categories))
    return base * week[np.arange(days) % 7][:, None] * rng.gamma(8, 1 / 8, (days, len(categories)))


def long_frame(values: np.ndarray, categories, with_total: bool = True) -> pd.DataFrame:
    days = pd.date_range("2025-01-06", periods=values.shape[0], freq="D")
    columns = dict(zip(categories, values.T, strict=True))
    if with_total:
        columns = {TOTAL_SERIES: values.sum(axis=1), **columns}
    wide = pd.DataFrame(columns, index=days)
    out = (
        wide.rename_axis("date").reset_index().melt("date", var_name="series", value_name="revenue")
    )
    return out.assign(units=0, orders=0)


def publish(daily: pd.DataFrame, config: ForecastConfig = CONFIG) -> tuple[pd.DataFrame, str]:
    """The pipeline's path from daily sales to the published forecast."""
    model = fit_forecaster(daily, config)
    try:
        result = run_backtest(daily, config, folds=2, horizon=HORIZON)
        backtest, predictions = result.metrics, result.predictions
    except NotEnoughHistory:
        backtest = pd.DataFrame(columns=list(COLUMNS["backtest"]))
        predictions = pd.DataFrame(columns=list(COLUMNS["backtest_predictions"]))
    frame, _passed, reason = forecast_to_publish(model, daily, backtest, predictions, HORIZON)
    return frame, reason


def assert_publishable(frame: pd.DataFrame, daily: pd.DataFrame) -> None:
    assert set(frame["series"]) == set(daily["series"].astype(str))
    assert len(frame) == HORIZON * daily["series"].nunique()
    bounds = frame[["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]].to_numpy()
    assert np.isfinite(bounds).all()
    assert (bounds >= 0).all()
    lo95, lo80, _f, hi80, hi95 = bounds.T
    assert (lo95 <= lo80 + 1e-9).all() and (lo80 <= hi80 + 1e-9).all()
    assert (hi80 <= hi95 + 1e-9).all()


def closed_weekends() -> pd.DataFrame:
    values = shop_sales()
    values[np.arange(len(values)) % 7 >= 5] = 0.0  # 2025-01-06 is a Monday
    return long_frame(values, CATEGORIES)


def days_without_sales() -> pd.DataFrame:
    values = shop_sales(seed=1)
    values[np.random.default_rng(1).random(len(values)) < 0.3] = 0.0
    return long_frame(values, CATEGORIES)


def missing_days() -> pd.DataFrame:
    daily = long_frame(shop_sales(seed=2), CATEGORIES)
    gone = pd.to_datetime(daily["date"]).dt.day.isin([3, 17])
    return daily[~gone]


def category_silent_for_weeks() -> pd.DataFrame:
    values = shop_sales(seed=3)
    values[-42:, 1] = 0.0
    return long_frame(values, CATEGORIES)


def lumpy_category() -> pd.DataFrame:
    values = shop_sales(seed=4)
    rng = np.random.default_rng(4)
    values[:, 2] = np.where(rng.random(len(values)) < 0.04, rng.uniform(2e4, 8e4, len(values)), 0)
    return long_frame(values, CATEGORIES)


def outlier_order() -> pd.DataFrame:
    values = shop_sales(seed=5)
    values[-20, 0] = 50 * values[:, 0].mean()
    return long_frame(values, CATEGORIES)


def returns_exceed_sales() -> pd.DataFrame:
    values = shop_sales(seed=6)
    values[-9, 0] = -3 * values[-9, 0]
    return long_frame(values, CATEGORIES)


def single_series() -> pd.DataFrame:
    return long_frame(shop_sales(seed=7, categories=(TOTAL_SERIES,)), (TOTAL_SERIES,), False)


def categories_without_total() -> pd.DataFrame:
    return long_frame(shop_sales(seed=8), CATEGORIES, with_total=False)


def eight_weeks() -> pd.DataFrame:
    return long_frame(shop_sales(days=56, seed=9), CATEGORIES)


SHAPES = {
    "closed weekends": closed_weekends,
    "days without sales": days_without_sales,
    "missing days": missing_days,
    "a category silent for six weeks": category_silent_for_weeks,
    "a lumpy category": lumpy_category,
    "one order 50x the daily mean": outlier_order,
    "returns larger than sales on a day": returns_exceed_sales,
    "a single series": single_series,
    "categories without a total": categories_without_total,
    "eight weeks of history": eight_weeks,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_publishes_a_sound_forecast(shape: str) -> None:
    daily = SHAPES[shape]()
    frame, _reason = publish(daily)
    assert_publishable(frame, daily)


def test_closed_weekdays_are_forecast_closed() -> None:
    frame, _reason = publish(closed_weekends())
    weekend = pd.to_datetime(frame["date"]).dt.dayofweek >= 5
    open_days = frame.loc[~weekend & (frame["series"] == TOTAL_SERIES), "forecast"]
    assert frame.loc[weekend, "forecast"].max() < 0.1 * open_days.mean()


def test_eight_weeks_publish_the_baseline_and_say_why() -> None:
    frame, reason = publish(eight_weeks())
    assert (frame["method"] == "seasonal_naive_7").all()
    assert "too short" in reason


@pytest.mark.parametrize("country", ["GB", "JP", "BR", "IN", "KE"])
def test_other_countries_forecast(country: str) -> None:
    daily = days_without_sales()
    frame, _reason = publish(daily, CONFIG.with_(country=country))
    assert_publishable(frame, daily)


def test_an_unknown_country_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ZZ"):
        fit_forecaster(days_without_sales(), CONFIG.with_(country="ZZ"))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    days=st.integers(min_value=56, max_value=160),
    n_categories=st.integers(min_value=1, max_value=3),
    with_total=st.booleans(),
    closed=st.sets(st.integers(min_value=0, max_value=6), max_size=2),
    zero_share=st.floats(min_value=0.0, max_value=0.6),
    outlier=st.floats(min_value=0.0, max_value=80.0),
    negative_day=st.booleans(),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_property_any_such_shop_gets_a_sound_forecast(
    days, n_categories, with_total, closed, zero_share, outlier, negative_day, seed
) -> None:
    categories = CATEGORIES[:n_categories]
    values = shop_sales(days, categories, seed=seed)
    rng = np.random.default_rng(seed)
    values[rng.random(values.shape) < zero_share] = 0.0
    values[np.isin(np.arange(days) % 7, list(closed))] = 0.0
    values[rng.integers(days), 0] += outlier * values[:, 0].mean()
    if negative_day:
        values[rng.integers(days), -1] = -2 * values[:, -1].max() - 1
    daily = long_frame(values, categories, with_total)
    frame, _reason = publish(daily)
    assert_publishable(frame, daily)
