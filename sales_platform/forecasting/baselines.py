"""Baseline forecasts: seasonal naive (last week repeated) and a moving average.

They are the yardsticks of the backtest and the fallback published when the model fails the
quality gate. Both are coherent by construction: they are linear in the data, so the categories'
forecasts add up to the total's whenever the actuals do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_platform.forecasting.features import to_wide

SEASONAL_NAIVE_7 = "seasonal_naive_7"
MOVING_AVERAGE_28 = "moving_average_28"
BASELINES = (SEASONAL_NAIVE_7, MOVING_AVERAGE_28)


def baseline_values(values: np.ndarray, method: str, horizon: int) -> np.ndarray:
    """Forecasts ``[horizon, n_series]`` of a baseline from ``values [n_days, n_series]``."""
    n = values.shape[0]
    if method == SEASONAL_NAIVE_7:
        if n < 7:
            raise ValueError(f"{method} needs at least 7 days of history, got {n}")
        week = values[n - 7 :]
        steps = np.arange(horizon)
        return week[steps % 7].copy()
    if method == MOVING_AVERAGE_28:
        window = values[max(0, n - 28) :]
        return np.repeat(window.mean(axis=0, keepdims=True), horizon, axis=0)
    raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")


def baseline_forecast(
    daily_sales: pd.DataFrame,
    method: str,
    horizon: int = 30,
    calibration=None,
) -> pd.DataFrame:
    """A baseline's forecast of the ``horizon`` days after the last date, for every series.

    Same columns as :func:`sales_platform.forecasting.forecast` (``date, series, horizon, forecast,
    lower_80, upper_80, lower_95, upper_95, method``). Intervals come from ``calibration`` (an
    :class:`~sales_platform.forecasting.intervals.IntervalCalibration` holding this baseline's
    backtest residuals); without one they are NaN.
    """
    from sales_platform.forecasting.intervals import forecast_frame

    panel = to_wide(daily_sales)
    values = baseline_values(panel.values, method, horizon)
    return forecast_frame(panel.dates[-1], panel.series, values, method, calibration)


def seasonal_naive_in_sample(daily_sales: pd.DataFrame) -> pd.DataFrame:
    """SeasonalNaive(7)'s in-sample forecasts of every day after the first week, shaped like
    backtest predictions (``model, series, horizon, actual, forecast``): what calibrates its
    intervals when the history is too short for a backtest."""
    panel = to_wide(daily_sales)
    n, n_series = panel.values.shape
    days = np.arange(7, n)
    return pd.DataFrame(
        {
            "model": SEASONAL_NAIVE_7,
            "series": np.tile(np.array(panel.series, dtype=object), days.size),
            "horizon": np.repeat(days % 7 + 1, n_series),
            "actual": panel.values[days].reshape(-1),
            "forecast": panel.values[days - 7].reshape(-1),
        }
    )
