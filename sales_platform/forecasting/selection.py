"""Model choice per series by backtest, and the published forecast.

Every series publishes one of the :data:`CHOICES`: the global forest (:data:`METHOD`, blended
with last year's same weekday, below), AutoETS (:data:`ETS`), the forest's own base
(:data:`WEEKDAY_LEVEL`) or the same times a yearly index (:data:`YEARLY_LEVEL`); the baselines
are backtested beside them (:data:`CANDIDATES`) as the gate's reference, not chosen.
The choice is the one with the lowest *relative* out-of-sample MAE of that series on the
backtest (:func:`candidate_scores`: each fold's MAE over the fold's best choice's, averaged
over the folds, so that a fold whose errors are large for every choice, a holiday season,
does not outvote the others); a series without backtest rows gets :data:`DEFAULT_METHOD`. The chosen
forecasts are then reconciled so the categories add up to the total top-down
(:func:`~sales_platform.forecasting.reconciliation.top_down`): the total keeps the forecast its
own backtest chose, and a lumpy category cannot pull it.

In the backtest the choice is honest: fold ``k`` publishes what the folds before it chose (the
warm-up fold 0 publishes the default), so the ``published`` rows score the procedure, not the
best candidate in hindsight. Over the eleven development sets the relative score made the
published forecast 0.6498 x SeasonalNaive(7)'s on average, against 0.6501 by plain MAE, before
:data:`YEARLY_LEVEL`; with it both give 0.6464, and 0.6351 once the forest stopped seeing the
day's position in its month and year (README).

*Last year in the forest's candidate.* The forest learns a yearly event (Black Friday's weekend,
the days around it) from the one earlier instance two years hold, and its recursion carries the
event day into the next days' lags. The candidate is therefore the forest's forecast blended with
last year's same weekday times the growth since
(:func:`~sales_platform.forecasting.last_year.with_last_year`): :data:`LAST_YEAR_WEIGHT` of it on a
normal day, :data:`EVENT_LAST_YEAR_WEIGHT` on a known event day. Chosen on the mean over the
eleven development sets of the published MAE on the total / SeasonalNaive(7)'s: 0.656 without,
0.650 with 0.1 / 0.5 (0.651 with 0 / 0.5 and 0.15 / 0.5; 0.661 with the product forecast's
0.25 / 0.5; 0.691 with 0.5 on every day; 0.659-0.660 as a separate candidate beside the plain
forest). It gains on the November sets, whose last fold holds Black Friday, and is about even
elsewhere (README).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_platform.forecasting.baselines import BASELINES, baseline_values
from sales_platform.forecasting.features import Panel, to_wide
from sales_platform.forecasting.intervals import IntervalCalibration, forecast_frame
from sales_platform.forecasting.last_year import with_last_year
from sales_platform.forecasting.model import (
    METHOD,
    FittedForecaster,
    predict_panel,
    weekday_level_values,
)
from sales_platform.forecasting.reconciliation import top_down
from sales_platform.forecasting.statistical import ETS, ets_values
from sales_platform.forecasting.yearly_index import yearly_index
from sales_platform.tables import TOTAL_SERIES

WEEKDAY_LEVEL = "weekday_level"
"""The forest's base alone: clean 28-day level x 26-week weekday profile (a seasonal baseline that
noisy series, where the trees learn mostly noise, publish)."""
YEARLY_LEVEL = "yearly_level"
"""The same times a yearly index from the earlier years (:mod:`.yearly_index`): for a shop whose
months differ, which a 28-day level carries a month late."""
PUBLISHED = "published"
"""``model`` of the backtest rows of what the platform publishes (the per-series choice)."""
CHOICES = (METHOD, ETS, WEEKDAY_LEVEL, YEARLY_LEVEL)
"""What a series may publish. The mean of the forest and AutoETS was one too, and was dropped:
over the eleven development sets it made the published forecast worse on average (README)."""
CANDIDATES = (*CHOICES, *BASELINES)
"""Every method the backtest scores. The baselines are the quality gate's reference and its
fallback, not a choice: the level x weekday profile is the better-informed version of both (a
clean 28-day level with the weekday's shape), and a choice made on a fold or two among methods that
close only adds noise. Without them the published forecast was never worse on the eleven
development sets and the eleven cuts of the Superstore export, and better on five (README)."""
DEFAULT_METHOD = METHOD
"""Published where the backtest says nothing yet: the platform's model."""
LAST_YEAR_WEIGHT = 0.1
"""Weight of last year's same weekday (times the growth since) in the forest's candidate."""
EVENT_LAST_YEAR_WEIGHT = 0.5
"""Its weight on a known event day (``features.event_days`` of the calendar)."""


def candidate_values(
    model: FittedForecaster,
    history: Panel,
    horizon: int,
    promotions: pd.DataFrame | None = None,
) -> dict[str, np.ndarray]:
    """Every candidate's forecasts ``[horizon, n_series]`` of the days after ``history``."""
    forest = with_last_year(
        predict_panel(model, history, horizon, promotions),
        history.values,
        history.dates,
        history.series,
        promotions,
        model.forecast_config.country,
        LAST_YEAR_WEIGHT,
        EVENT_LAST_YEAR_WEIGHT,
    )
    ets = ets_values(history.values, horizon)
    level = weekday_level_values(model.forecast_config, history, horizon, promotions)
    yearly = level * yearly_index(history.values, horizon, model.forecast_config.level_window)
    out = {METHOD: forest, ETS: ets, WEEKDAY_LEVEL: level, YEARLY_LEVEL: yearly}
    for name in BASELINES:
        out[name] = baseline_values(history.values, name, horizon)
    return out


def _candidate_mae(
    predictions: pd.DataFrame, by: list[str], models: tuple[str, ...] = CANDIDATES
) -> pd.DataFrame:
    """Out-of-sample MAE of the ``models``' backtest rows per ``by`` (rows) and model (columns,
    in ``models`` order)."""
    rows = predictions[predictions["model"].isin(models)]
    if rows.empty:
        return pd.DataFrame(columns=list(models), dtype=float)
    err = (rows["actual"] - rows["forecast"]).abs()
    table = err.groupby([rows[c] for c in [*by, "model"]]).mean().unstack("model")
    return table.reindex(columns=[c for c in models if c in table.columns])


def candidate_mae(predictions: pd.DataFrame) -> pd.DataFrame:
    """Out-of-sample MAE per series (rows) and candidate (columns) of backtest predictions."""
    return _candidate_mae(predictions, ["series"])


def candidate_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """Relative out-of-sample MAE per series (rows) and choice (columns, :data:`CHOICES`): each
    fold's MAE over the lowest of that fold and series, averaged over the folds (1 = best on
    every fold)."""
    fold_mae = _candidate_mae(predictions, ["series", "fold"], CHOICES)
    if fold_mae.empty:
        return fold_mae
    relative = fold_mae.div(fold_mae.min(axis=1), axis=0)
    # An exact fold (a series without sales) is as good as the best, not 0/0.
    relative = relative.mask(fold_mae.eq(0), 1.0)
    return relative.groupby(level="series").mean()


def _series_scores(table: pd.DataFrame, name: str) -> pd.Series:
    """The scores of one series (empty without backtest rows)."""
    return table.loc[name].dropna() if name in table.index else pd.Series(dtype=float)


def _best(scores: pd.Series) -> str:
    """The method with the lowest score (ties: the earlier one), else the default."""
    return str(scores.idxmin()) if len(scores) else DEFAULT_METHOD


def choose_methods(predictions: pd.DataFrame, series: list[str]) -> dict[str, str]:
    """The choice with the lowest relative backtest MAE per series (ties: the earlier one)."""
    scores = candidate_scores(predictions)
    return {name: _best(_series_scores(scores, name)) for name in series}


def selection_table(predictions: pd.DataFrame, series: list[str]) -> pd.DataFrame:
    """Per series: the choice, why, and every candidate's backtest MAE (metadata, readers)."""
    scores, mae = candidate_scores(predictions), candidate_mae(predictions)
    rows = []
    for name in series:
        relative = _series_scores(scores, name)
        method = _best(relative)
        if len(relative):
            runner_up = relative.drop(method).min() if len(relative) > 1 else np.nan
            why = (
                f"lowest backtest MAE relative to each fold's best ({relative[method]:.3f}; "
                f"next best {runner_up:.3f})"
            )
        else:
            why = "no backtest rows for this series: the default"
        rows.append(
            {"series": name, "method": method, "why": why, **_series_scores(mae, name).to_dict()}
        )
    return pd.DataFrame(rows)


def publish(
    candidates: dict[str, np.ndarray],
    series: list[str],
    choice: dict[str, str],
) -> np.ndarray:
    """Each series' chosen candidate, the categories scaled to add up to the total."""
    values = np.column_stack([candidates[choice[s]][:, j] for j, s in enumerate(series)])
    total = series.index(TOTAL_SERIES) if TOTAL_SERIES in series else None
    return top_down(values, total)


def published_forecast(
    model: FittedForecaster,
    daily_sales: pd.DataFrame,
    backtest_predictions: pd.DataFrame,
    horizon: int,
    promotions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The forecast the platform publishes for the ``horizon`` days after ``daily_sales``.

    Each series gets the candidate its backtest chose (``method`` says which); the intervals are
    calibrated on the published forecast's own backtest residuals. Columns
    :data:`~sales_platform.forecasting.intervals.FORECAST_FRAME_COLUMNS`.
    """
    present = set(daily_sales["series"].astype(str).unique())
    unknown = sorted(present - set(model.series))
    if unknown:
        raise ValueError(f"series {unknown} were not in the training data of the model; refit it")
    panel = to_wide(daily_sales, series=model.series)
    candidates = candidate_values(model, panel, horizon, promotions)
    choice = choose_methods(backtest_predictions, model.series)
    values = publish(candidates, model.series, choice)
    calibration = IntervalCalibration.from_predictions(backtest_predictions)
    return forecast_frame(panel.dates[-1], model.series, values, choice, calibration, PUBLISHED)
