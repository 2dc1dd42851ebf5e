"""Forecasting core: features, the global RandomForest, candidates, backtest, intervals, choice.

Plain Python, NumPy, pandas, scikit-learn and statsforecast (no Dagster, no DuckDB); the assets
in ``sales_platform.defs`` wire these functions up. Public API:

- ``build_features(daily_sales, config, promotions) -> DataFrame``: the ``sales_features`` table.
- ``fit_forecaster(features, config, promotions) -> FittedForecaster`` (skops-safe;
  ``TRUSTED_TYPES``, ``.metadata()``, ``MODEL_VERSION``); ``NotEnoughHistory`` when too short.
- ``run_backtest(daily_sales, config, *, promotions, expected_demand, folds, horizon)
  -> BacktestResult`` (``.metrics`` = ``backtest`` table, ``.predictions`` =
  ``backtest_predictions`` table, ``.calibration``).
- ``forecast_to_publish(model, daily_sales, backtest, backtest_predictions, horizon, promotions)
  -> (frame, passed, reason)``: what ``sales_forecast`` stores (date, series, horizon, forecast,
  lower/upper 80/95, method).
- ``selection_table(predictions, series)``: each series' method, why, every candidate's MAE.
- ``score_forecasts(forecast_history, daily_sales) -> DataFrame``: the ``forecast_accuracy`` table.

How it works
------------
*Candidates.* Every series (the total and each category) publishes one of the ``CHOICES``: the
global forest (``random_forest``), statsforecast's AutoETS with a weekly season (``ets``), the
forest's own base alone (``weekday_level``: clean 28-day level x 26-week weekday profile), or the
same times a yearly index from up to three earlier years (``yearly_level``, :mod:`.yearly_index`);
SeasonalNaive(7) and a 28-day mean are backtested beside them as the quality gate's reference and
fallback. Each series publishes the choice with the lowest backtest MAE, each fold's MAE taken
relative to that fold's best choice (:mod:`.selection`); the published categories are then scaled
top-down to the total's forecast.
The forest's candidate is blended with last year's same weekday times the growth since (a tenth,
half on a known event day; :mod:`.last_year`): the forest learns a yearly event from one instance.

*Forest target.* Revenue divided by a seasonal base known at the origin: the series' clean level
(the mean of the last 28 days that were not event days: the shop's promotions from the
``promotions`` table, public holidays of the shop's country, the Black Friday weeks where Black
Friday is a retail day, Christmas) times its weekday profile. The base is floored at a tenth of the
level (a closed weekday gives a ratio of 0, never 0/0) and training ratios are capped at 10 (one
huge order in a lumpy series cannot teach the shared forest that days are a hundred times the
level). Growth is carried by the level, so the trees never extrapolate a trend.

*Features.* Lags 1/7/14/28 and rolling mean/std over 7 and 28 days (all divided by the level),
the weekday profile, 28-day and year-on-year level growth, last year's value and seasonal change,
the calendar of the target day (weekday, public holidays, Black Friday / Cyber Monday, days to
Christmas, where they apply; not the day's position in its month or year, whose splits learn last
year's noise: ``features.DATE_POSITION_COLUMNS``), whether a promotion of the series runs, and a
series id: one global forest for the total and every category. Nothing of the
synthetic generator reaches it except through the ``promotions`` table a real shop also has.

*Multi-step.* Recursive: the one-step forest is iterated over the horizon; each step's lags,
rolling statistics, level and profile are recomputed from the history extended by the earlier
predictions.

*Backtest.* 5 rolling origins of 30 days ending on the last day, after a warm-up fold; every
candidate is refit per fold on the data up to its origin. The ``published`` rows are what the
platform would have published: fold k uses the choice made on the folds before it, so its score
includes the cost of choosing. A short history gets fewer folds; too short for one raises
``NotEnoughHistory`` and the platform publishes SeasonalNaive(7).

*Intervals.* Normalized split-conformal on out-of-sample log residuals, per model, series and
horizon bucket, each residual normalized by its series' scale from the other folds, each series'
quantiles pooled over the series within twice its scale (:mod:`.intervals`). Only the last three
folds calibrate: in the backtest, fold k the three before it; the published forecast the last
three.

*Gate.* The published choice must beat SeasonalNaive(7)'s backtest MASE on the ``total`` (pooled
series without a total); otherwise every series publishes the best baseline.

How the defaults were chosen: by the mean relative MAE on the total over eleven development sets
(the synthetic shop, seeds 1-5 x two end dates, and the Superstore export), never one set alone;
the README gives the figures.
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
from sales_platform.forecasting.config import ForecastConfig
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
from sales_platform.forecasting.reconciliation import top_down
from sales_platform.forecasting.selection import (
    CANDIDATES,
    CHOICES,
    DEFAULT_METHOD,
    PUBLISHED,
    WEEKDAY_LEVEL,
    YEARLY_LEVEL,
    choose_methods,
    published_forecast,
    selection_table,
)
from sales_platform.forecasting.statistical import ETS

__all__ = [
    "ALL_SERIES",
    "BASELINES",
    "CANDIDATES",
    "CHOICES",
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
    "YEARLY_LEVEL",
    "BacktestResult",
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
    "published_forecast",
    "run_backtest",
    "score_forecasts",
    "seasonal_naive_in_sample",
    "selection_table",
    "top_down",
]
