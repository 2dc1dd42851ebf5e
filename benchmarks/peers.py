"""Peer forecasters for ``forecast_benchmark.py``: statsforecast, mlforecast and skforecast.

Every peer is backtested on the folds it is given (row indices of the fold origins in ``panel``,
from ``sales_platform.forecasting.backtest.fold_origins``), refit per fold on the rows up to the
origin only, and returns the ``backtest_predictions``-like long frame: ``model, series, fold,
date, horizon, actual, forecast, lower_80, upper_80, lower_95, upper_95`` (interval columns NaN
when the library has no native interval for it).

What the peers know in advance (``known_in_advance``) is what the shop knows too: the day's
public holiday (``holidays`` package, the shop's country) and whether a promotion of the
``promotions`` table runs that day. The statistical peers see neither (univariate); LightGBM and
the RandomForest get them as exogenous features next to their calendar features.

statsforecast is a main dependency; mlforecast, lightgbm and skforecast are in ``.[bench]``.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

LEVELS = (80, 95)
SEASONAL_NAIVE = "SeasonalNaive(7)"
AUTO_ETS = "AutoETS"
AUTO_ARIMA = "AutoARIMA"
MSTL_NAME = "MSTL"
LIGHTGBM = "LightGBM (mlforecast)"
RANDOM_FOREST = "RandomForest (skforecast)"
PEERS = (SEASONAL_NAIVE, AUTO_ETS, AUTO_ARIMA, MSTL_NAME, LIGHTGBM, RANDOM_FOREST)
INTERVAL_COLUMNS = ["lower_80", "upper_80", "lower_95", "upper_95"]


def quiet() -> None:
    """Silence the peers' warnings and logs (numba, LightGBM, statsforecast, sklearn)."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    warnings.filterwarnings("ignore")
    for name in ("numba", "lightgbm", "statsforecast", "mlforecast", "skforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)


@dataclass
class PeerRun:
    name: str
    predictions: pd.DataFrame
    seconds: float
    note: str = ""


def known_in_advance(
    dates: pd.DatetimeIndex,
    series: str,
    *,
    country: str,
    promotions: pd.DataFrame | None,
    total: str,
) -> pd.DataFrame:
    """Exogenous features a shop knows ahead: public holiday and promotion flags per day."""
    import holidays

    years = range(dates[0].year, dates[-1].year + 1)
    public = holidays.country_holidays(country, years=years)
    out = pd.DataFrame(index=dates)
    out["holiday"] = np.array([d in public for d in dates.date], dtype=float)
    out["promotion"] = promotion_flags(dates, series, promotions, total=total)
    return out


def promotion_flags(
    dates: pd.DatetimeIndex, series: str, promotions: pd.DataFrame | None, *, total: str
) -> np.ndarray:
    """1.0 on the days a promotion that concerns ``series`` runs (any promotion for the total)."""
    flags = np.zeros(len(dates))
    if promotions is None or not len(promotions):
        return flags
    scope = (
        promotions["scope"].astype("string").fillna("").str.strip().str.lower()
        if "scope" in promotions
        else pd.Series("", index=promotions.index)
    )
    applies = (
        np.ones(len(promotions), dtype=bool)
        if series == total
        else scope.isin(["", "all", "*", total.lower(), series.lower()]).to_numpy()
    )
    starts = pd.to_datetime(promotions["start_date"]).to_numpy()
    ends = pd.to_datetime(promotions["end_date"]).to_numpy()
    days = dates.to_numpy()
    for s, e, ok in zip(starts, ends, applies, strict=True):
        if ok:
            flags[(days >= s) & (days <= e)] = 1.0
    return flags


def _frame(name, series, fold, dates, actual, forecast, bounds=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "model": name,
            "series": series,
            "fold": fold,
            "date": dates,
            "horizon": np.arange(1, len(dates) + 1),
            "actual": actual,
            "forecast": np.asarray(forecast, dtype=float),
        }
    )
    for c in INTERVAL_COLUMNS:
        frame[c] = np.nan if bounds is None else np.asarray(bounds[c], dtype=float)
    return frame


def _folds(panel: pd.DataFrame, origins: list[int], horizon: int):
    for k, o in enumerate(origins, start=1):
        yield k, o, panel.index[o + 1 : o + 1 + horizon]


def _long(panel: pd.DataFrame, rows: slice) -> pd.DataFrame:
    part = panel.iloc[rows]
    return (
        part.rename_axis("ds")
        .reset_index()
        .melt("ds", var_name="unique_id", value_name="y")[["unique_id", "ds", "y"]]
    )


def statsforecast_peer(name: str, model_factory: Callable, panel, origins, horizon) -> PeerRun:
    """One statsforecast model, refit per fold on every column of ``panel``; native intervals."""
    from statsforecast import StatsForecast

    start = time.perf_counter()
    frames = []
    for k, o, dates in _folds(panel, origins, horizon):
        model = model_factory()
        sf = StatsForecast(models=[model], freq="D", n_jobs=1)
        out = sf.forecast(h=horizon, df=_long(panel, slice(0, o + 1)), level=list(LEVELS))
        alias = model.alias
        for series, g in out.groupby("unique_id", sort=False):
            g = g.sort_values("ds")
            bounds = {
                f"{side}_{lv}": g[f"{alias}-{'lo' if side == 'lower' else 'hi'}-{lv}"].to_numpy()
                for lv in LEVELS
                for side in ("lower", "upper")
            }
            actual = panel.loc[dates, series].to_numpy()
            frames.append(_frame(name, series, k, dates, actual, g[alias].to_numpy(), bounds))
    return PeerRun(name, pd.concat(frames, ignore_index=True), time.perf_counter() - start)


def mstl_seasons(first_history_days: int) -> list[int]:
    """Weekly season, plus the yearly one when the first fold has two full years."""
    return [7, 365] if first_history_days >= 2 * 365 else [7]


def lightgbm_forecaster():
    """mlforecast LightGBM, the peers' one configuration: lags 1/7/14/28, rolling means of 7 and
    28 days after lags 1 and 7, date features (weekday, month, day of year); recursive."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    model = lgb.LGBMRegressor(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=0,
        n_jobs=1,
        verbosity=-1,
    )
    return MLForecast(
        models={"lgbm": model},
        freq="D",
        lags=[1, 7, 14, 28],
        lag_transforms={
            1: [RollingMean(window_size=7), RollingMean(window_size=28)],
            7: [RollingMean(window_size=7), RollingMean(window_size=28)],
        },
        date_features=["dayofweek", "month", "dayofyear"],
    )


def lightgbm_peer(panel, origins, horizon, exog: dict[str, pd.DataFrame]) -> PeerRun:
    """:func:`lightgbm_forecaster`, one global model over the columns of ``panel``, with the
    known-in-advance flags; conformal intervals over 5 windows of the horizon (each window refits
    the model) when the history allows it.
    """
    from mlforecast.utils import PredictionIntervals

    start = time.perf_counter()
    frames = []
    note = ""
    ex = pd.concat(
        [e.rename_axis("ds").reset_index().assign(unique_id=s) for s, e in exog.items()],
        ignore_index=True,
    )
    for k, o, dates in _folds(panel, origins, horizon):
        train = _long(panel, slice(0, o + 1)).merge(ex, on=["unique_id", "ds"], how="left")
        future = ex[ex["ds"].isin(dates)]
        fcst = lightgbm_forecaster()
        n_windows = 5
        per_series = o + 1
        intervals = None
        if per_series - n_windows * horizon >= 28 + 28 + 60:
            intervals = PredictionIntervals(n_windows=n_windows, h=horizon)
        else:
            note = "no conformal intervals: history too short for 5 windows"
        fcst.fit(train, static_features=[], prediction_intervals=intervals)
        out = fcst.predict(
            h=horizon, X_df=future, level=list(LEVELS) if intervals is not None else None
        )
        for series, g in out.groupby("unique_id", sort=False):
            g = g.sort_values("ds")
            bounds = None
            if intervals is not None:
                bounds = {
                    f"{side}_{lv}": g[f"lgbm-{'lo' if side == 'lower' else 'hi'}-{lv}"].to_numpy()
                    for lv in LEVELS
                    for side in ("lower", "upper")
                }
            actual = panel.loc[dates, series].to_numpy()
            frames.append(_frame(LIGHTGBM, series, k, dates, actual, g["lgbm"], bounds))
    return PeerRun(
        LIGHTGBM, pd.concat(frames, ignore_index=True), time.perf_counter() - start, note
    )


def _calendar(dates: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dayofweek": dates.dayofweek,
            "month": dates.month,
            "dayofyear": dates.dayofyear,
            "day": dates.day,
        },
        index=dates,
    ).astype(float)


def random_forest_peer(panel, origins, horizon, exog: dict[str, pd.DataFrame]) -> PeerRun:
    """skforecast ForecasterRecursive + RandomForestRegressor, one per series, refit per fold.

    Lags 1-7, 14, 21, 28, rolling mean of 7/28 days and std of 28 days, calendar (weekday, month,
    day of year, day of month) and the known-in-advance flags as exogenous features. No interval:
    skforecast's would need out-of-sample residuals (another backtest per fold).
    """
    from skforecast.preprocessing import RollingFeatures
    from skforecast.recursive import ForecasterRecursive
    from sklearn.ensemble import RandomForestRegressor

    start = time.perf_counter()
    frames = []
    for k, o, dates in _folds(panel, origins, horizon):
        for series in panel.columns:
            y = panel[series].iloc[: o + 1].astype(float).rename("y")
            y.index.freq = "D"
            x_all = pd.concat([_calendar(panel.index.append(dates).unique()), exog[series]], axis=1)
            x_all = x_all.reindex(y.index.append(dates))
            x_all.index.freq = "D"
            forecaster = ForecasterRecursive(
                estimator=RandomForestRegressor(
                    n_estimators=100,
                    min_samples_leaf=2,
                    max_features=0.5,
                    random_state=0,
                    n_jobs=1,
                ),
                lags=[1, 2, 3, 4, 5, 6, 7, 14, 21, 28],
                window_features=RollingFeatures(
                    stats=["mean", "mean", "std"], window_sizes=[7, 28, 28]
                ),
            )
            forecaster.fit(y=y, exog=x_all.loc[y.index])
            pred = forecaster.predict(steps=horizon, exog=x_all.loc[dates])
            actual = panel.loc[dates, series].to_numpy()
            frames.append(_frame(RANDOM_FOREST, series, k, dates, actual, pred.to_numpy()))
    return PeerRun(RANDOM_FOREST, pd.concat(frames, ignore_index=True), time.perf_counter() - start)


def warm_up() -> None:
    """Compile statsforecast's numba code once so no peer's seconds include the JIT."""
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    rng = np.random.default_rng(0)
    dates = pd.date_range("2020-01-01", periods=120, freq="D")
    panel = pd.DataFrame({"x": 100 + rng.normal(0, 5, len(dates))}, index=dates)
    for name, factory in [
        (SEASONAL_NAIVE, lambda: SeasonalNaive(season_length=7)),
        (AUTO_ETS, lambda: AutoETS(season_length=7)),
        (AUTO_ARIMA, lambda: AutoARIMA(season_length=7)),
        (MSTL_NAME, lambda: MSTL(season_length=[7])),
    ]:
        statsforecast_peer(name, factory, panel, [89], 30)


def run_peers(
    panel: pd.DataFrame,
    origins: list[int],
    horizon: int,
    exog: dict[str, pd.DataFrame],
    *,
    log: Callable[[str], None] = lambda _: None,
) -> list[PeerRun]:
    """Backtest every peer that is installed on ``panel`` (dates x series) over ``origins``."""
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    seasons = mstl_seasons(origins[0] + 1)
    log(SEASONAL_NAIVE)  # the reference every score is relative to: its failure is the run's
    naive = partial(SeasonalNaive, season_length=7)
    runs = [statsforecast_peer(SEASONAL_NAIVE, naive, panel, origins, horizon)]
    stats = [
        (AUTO_ETS, lambda: AutoETS(season_length=7)),
        (AUTO_ARIMA, lambda: AutoARIMA(season_length=7)),
        (MSTL_NAME, lambda: MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))),
    ]
    others = [(n, partial(statsforecast_peer, n, f)) for n, f in stats]
    others += [(LIGHTGBM, partial(lightgbm_peer, exog=exog))]
    others += [(RANDOM_FOREST, partial(random_forest_peer, exog=exog))]
    for name, peer in others:
        log(name)
        try:
            run = peer(panel, origins, horizon)
        except ImportError as exc:
            run = _not_run(name, f"not installed ({exc.name}): .[bench]")
        except Exception as exc:  # a peer that cannot fit this data must not hide the others
            run = _not_run(name, f"failed: {type(exc).__name__}: {exc}"[:120])
        if name == MSTL_NAME and len(run.predictions):
            run.note = f"seasons {seasons}, trend AutoETS(ZZN)"
        runs.append(run)
    return runs


def _not_run(name: str, note: str) -> PeerRun:
    return PeerRun(
        name, pd.DataFrame(columns=["model", "series", "date", "forecast"]), float("nan"), note
    )
