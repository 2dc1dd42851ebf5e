"""Forecasting core: features, the global RandomForest forecaster, baselines, backtest, intervals.

Plain Python, NumPy, pandas and scikit-learn (no Dagster, no DuckDB); the assets in
``sales_platform.defs`` wire these functions up. Public API:

- ``build_features(daily_sales, config) -> DataFrame``: the ``sales_features`` table.
- ``fit_forecaster(features, config) -> FittedForecaster`` (skops-safe; ``TRUSTED_TYPES``,
  ``.metadata()``, ``MODEL_VERSION``).
- ``forecast(model, daily_sales, calibration, horizon) -> DataFrame``: date, series, horizon,
  forecast, lower/upper 80/95, method.
- ``baseline_forecast(daily_sales, method, horizon, calibration)``: ``seasonal_naive_7`` or
  ``moving_average_28``, the same frame.
- ``run_backtest(daily_sales, config, *, expected_demand, folds, horizon) -> BacktestResult``
  (``.metrics`` = ``backtest`` table, ``.predictions`` = ``backtest_predictions`` table,
  ``.calibration``); ``IntervalCalibration.from_predictions(backtest_predictions)``.
- ``gate_passes(metrics) -> (bool, reason)``, ``best_baseline(metrics) -> str``.
- ``score_forecasts(forecast_history, daily_sales) -> DataFrame``: the ``forecast_accuracy`` table.

How it works
------------
*Target.* Revenue divided by a seasonal baseline known at the origin: the series' clean level
(mean of the last 28 days, skipping known event days: promotions, public holidays, the Black
Friday weeks, Christmas to New Year) times its weekday profile (26 weeks, event days skipped) for
the target's weekday. Growth is carried by the level, so the trees never extrapolate a trend.

*Features.* Lags 1/7/14/28 and rolling mean/std over 7 and 28 days (all divided by the level),
the weekday profile, 28-day and year-on-year level growth, last year's value and seasonal change
at the target day, the calendar of the target day (weekday, day/week of month, month, day of
year, holidays, Black Friday / Cyber Monday, promotions, days to/since the events) and a series
id: one global forest for the total and every category.

*Multi-step.* Recursive: the one-step forest is iterated over the 30 days; each step's lags,
rolling statistics, level and profile are recomputed from the history extended by the earlier
predictions, and its calendar is the one of its own target day. (``strategy="direct"``, one forest
with the horizon as a feature, is available and was compared.)

*Coherence.* The base forecasts are reconciled with MinT (diagonal covariance proportional to each
forecast): the total's own forecast and the sum of the categories meet half way, the categories
share their half by size; the categories then add up to the total exactly. Intervals are
calibrated per series around these coherent forecasts (bounds are not additive: quantiles are
not).

*Intervals.* Normalized split-conformal on the backtest's out-of-sample residuals: relative
residual (actual - forecast) / forecast, scaled per series and per horizon bucket (1-7, 8-14,
15-21, 22+ days), empirical quantiles with the finite-sample correction. In the backtest each
fold's intervals come from the *other* folds only (cross-conformal), so its coverage is
out-of-sample; the published forecast uses all folds.

*Backtest.* 5 rolling origins, 30 days each, ending on the last day; the model is refit on the
data up to each origin; compared with SeasonalNaive(7), a 28-day moving average and (synthetic
data) the oracle, the generator's expected demand. Metrics per series and ``series="__all__"``
(every series pooled; MASE of "__all__" is the mean of the series' MASE).

*Gate.* The model is published only if its backtest MASE on the ``total`` series is below
SeasonalNaive(7)'s (``__all__`` if there is no total); otherwise the best baseline by MASE.

How the defaults were chosen
----------------------------
``python benchmarks/forecast_benchmark.py --select`` backtests the candidates on three development
data sets (synthetic shops with seeds 7 and 11, ending 2026-11-27, 2026-01-10 and 2026-06-30; the
benchmark's seed 42 was not used for choosing). Relative MAE on the total (lower is better):

=====================================================  =======  =======  =======  =====
configuration                                          7 / Nov  7 / Jan  11 / Jun  mean
=====================================================  =======  =======  =======  =====
default: recursive, ratio to clean level x profile       0.753    0.519    0.633  0.635
ratio to clean level only (no weekday profile)           0.755    0.525    0.647  0.642
ratio to plain 28-day mean x profile                     0.869    0.518    0.672  0.686
log ratio                                                0.771    0.535    0.610  0.639
raw revenue (no level: trees cannot follow the trend)    0.851    0.652    0.713  0.739
direct (horizon as a feature, every 7th origin)          0.760    0.529    0.663  0.650
bottom-up reconciliation                                 0.748    0.521    0.662  0.644
top-down reconciliation                                  0.764    0.527    0.623  0.638
min_samples_leaf=5, max_samples=0.3                      0.782    0.552    0.635  0.657
without lag features                                     0.758    0.522    0.648  0.643
oracle (expected demand)                                 0.696    0.396    0.589  0.560
=====================================================  =======  =======  =======  =====

Forest size (100 trees, ``min_samples_leaf=2``, ``max_features=0.5``, no subsampling) and the
windows (28-day level, 26-week profile) were chosen the same way; more trees, other leaf sizes or
windows (56-day level, 52-week profile, a 91-day window) changed the mean by less than 0.01.
What is left is mostly the once-a-year days (Black Friday week, December), learnt from a single
previous occurrence in two years of history.
"""

from sales_platform.forecasting.accuracy import score_forecasts
from sales_platform.forecasting.backtest import (
    ALL_SERIES,
    ORACLE,
    BacktestResult,
    best_baseline,
    compute_metrics,
    fold_origins,
    gate_passes,
    run_backtest,
)
from sales_platform.forecasting.baselines import (
    BASELINES,
    MOVING_AVERAGE_28,
    SEASONAL_NAIVE_7,
    baseline_forecast,
    seasonal_naive_in_sample,
)
from sales_platform.forecasting.config import FeatureConfig, ForecastConfig
from sales_platform.forecasting.features import NotEnoughHistory, build_features
from sales_platform.forecasting.intervals import IntervalCalibration
from sales_platform.forecasting.model import (
    METHOD,
    MODEL_VERSION,
    TRUSTED_TYPES,
    FittedForecaster,
    fit_forecaster,
)
from sales_platform.forecasting.publish import forecast_to_publish
from sales_platform.forecasting.reconciliation import reconcile
from sales_platform.forecasting.selection import (
    CANDIDATES,
    DEFAULT_METHOD,
    PUBLISHED,
    WEEKDAY_LEVEL,
    choose_methods,
    published_forecast,
    selection_table,
)
from sales_platform.forecasting.statistical import ETS

__all__ = [
    "ALL_SERIES",
    "BASELINES",
    "CANDIDATES",
    "DEFAULT_METHOD",
    "ETS",
    "PUBLISHED",
    "METHOD",
    "MODEL_VERSION",
    "MOVING_AVERAGE_28",
    "ORACLE",
    "SEASONAL_NAIVE_7",
    "TRUSTED_TYPES",
    "WEEKDAY_LEVEL",
    "BacktestResult",
    "FeatureConfig",
    "FittedForecaster",
    "ForecastConfig",
    "IntervalCalibration",
    "NotEnoughHistory",
    "baseline_forecast",
    "best_baseline",
    "build_features",
    "choose_methods",
    "compute_metrics",
    "fit_forecaster",
    "fold_origins",
    "forecast_to_publish",
    "gate_passes",
    "reconcile",
    "published_forecast",
    "run_backtest",
    "score_forecasts",
    "seasonal_naive_in_sample",
    "selection_table",
]
