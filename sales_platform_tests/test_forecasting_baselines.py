"""Baselines on toy series, and reconciliation of the hierarchy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sales_platform.forecasting import (
    MOVING_AVERAGE_28,
    SEASONAL_NAIVE_7,
    IntervalCalibration,
    baseline_forecast,
    top_down,
)
from sales_platform.forecasting.baselines import baseline_values
from sales_platform.forecasting.intervals import FORECAST_FRAME_COLUMNS
from sales_platform_tests.test_forecasting_features import toy_daily_sales


def test_seasonal_naive_repeats_the_last_week() -> None:
    values = np.arange(14.0)[:, None]
    out = baseline_values(values, SEASONAL_NAIVE_7, 10)
    np.testing.assert_array_equal(out[:, 0], [7, 8, 9, 10, 11, 12, 13, 7, 8, 9])


def test_moving_average_is_flat_mean_of_last_28_days() -> None:
    values = np.arange(40.0)[:, None]
    out = baseline_values(values, MOVING_AVERAGE_28, 5)
    np.testing.assert_allclose(out[:, 0], np.arange(12.0, 40.0).mean())


def test_unknown_baseline_and_short_history_raise() -> None:
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_values(np.ones((30, 1)), "drift", 5)
    with pytest.raises(ValueError, match="at least 7"):
        baseline_values(np.ones((3, 1)), SEASONAL_NAIVE_7, 5)


def test_baseline_forecast_frame_is_coherent_and_dated_after_history() -> None:
    daily = toy_daily_sales(days=60)
    frame = baseline_forecast(daily, SEASONAL_NAIVE_7, horizon=9)
    assert list(frame.columns) == FORECAST_FRAME_COLUMNS
    assert len(frame) == 9 * 4
    assert frame["date"].min() == dt.date(2024, 3, 1)  # the day after 2024-02-29
    assert (frame["method"] == SEASONAL_NAIVE_7).all()
    assert frame["lower_80"].isna().all()  # no calibration, no interval
    wide = frame.pivot(index="date", columns="series", values="forecast")
    np.testing.assert_allclose(wide["total"], wide.drop(columns="total").sum(axis=1))


def test_baseline_forecast_uses_its_own_calibration() -> None:
    rng = np.random.default_rng(0)
    preds = pd.DataFrame(
        {
            "model": SEASONAL_NAIVE_7,
            "series": "total",
            "horizon": np.tile(np.arange(1, 8), 40),
            "forecast": 1000.0,
        }
    )
    preds["actual"] = preds["forecast"] * (1 + rng.normal(0, 0.1, len(preds)))
    cal = IntervalCalibration.from_predictions(preds)
    frame = baseline_forecast(toy_daily_sales(days=60), SEASONAL_NAIVE_7, 7, cal)
    total = frame[frame["series"] == "total"]
    assert (total["lower_95"] < total["lower_80"]).all()
    assert (total["lower_80"] < total["forecast"]).all()
    assert (total["forecast"] < total["upper_80"]).all()
    assert (total["upper_80"] < total["upper_95"]).all()
    # A series without calibration rows falls back to the model's pooled scale.
    assert frame["upper_80"].notna().all()


def test_top_down_keeps_the_total_and_shares_it_by_the_categories() -> None:
    base = np.array([[100.0, 30.0, 50.0], [90.0, 0.0, 0.0]])  # total first
    out = top_down(base, 0)
    np.testing.assert_allclose(out[:, 0], base[:, 0])
    np.testing.assert_allclose(out[:, 1:].sum(axis=1), base[:, 0])
    np.testing.assert_allclose(out[0, 1:], [37.5, 62.5])  # 30:50 of 100
    np.testing.assert_allclose(out[1, 1:], [45.0, 45.0])  # no category forecast: equal shares


def test_top_down_without_total_is_identity() -> None:
    base = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(top_down(base, None), base)
