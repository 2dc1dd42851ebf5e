"""What the platform publishes: the per-series choice when it passes the gate, else a baseline."""

from __future__ import annotations

import pandas as pd

from sales_platform.forecasting.backtest import best_baseline, gate_passes
from sales_platform.forecasting.baselines import baseline_forecast, seasonal_naive_in_sample
from sales_platform.forecasting.intervals import IntervalCalibration
from sales_platform.forecasting.model import FittedForecaster
from sales_platform.forecasting.selection import published_forecast


def forecast_to_publish(
    model: FittedForecaster,
    daily_sales: pd.DataFrame,
    backtest: pd.DataFrame,
    backtest_predictions: pd.DataFrame,
    horizon: int,
    promotions: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, bool, str]:
    """The forecast to publish, whether the backtest's choice passed the gate, and why.

    The backtest's per-series choice when it beats SeasonalNaive(7) (:func:`gate_passes`); else
    the baseline with the lowest backtest MASE. Without a backtest (a history too short for one)
    that is SeasonalNaive(7), its intervals calibrated on its own in-sample errors.
    """
    if backtest.empty:
        reason = "no backtest: the history is too short for one"
        scored = seasonal_naive_in_sample(daily_sales)
    else:
        passed, reason = gate_passes(backtest)
        if passed:
            published = published_forecast(
                model, daily_sales, backtest_predictions, horizon, promotions
            )
            return published, True, reason
        scored = backtest_predictions
    baseline = best_baseline(backtest)
    calibration = IntervalCalibration.from_predictions(scored)
    frame = baseline_forecast(daily_sales, baseline, horizon, calibration)
    return frame, False, f"{reason}; published {baseline}"
