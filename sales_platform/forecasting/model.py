"""The forecaster: one global RandomForestRegressor over the total and every category.

- Target: revenue relative to a seasonal baseline known at the origin: the series' *clean* level
  (mean of the last 28 days, known event days skipped) times its weekday profile (26 weeks) for
  the target's weekday. Growth lives in the level, so the trees never extrapolate a trend; they
  learn what is left (season, events, holidays, momentum), pooled over all series.
- Recursive: a one-step forest iterated over the horizon; every step's lags, rolling
  statistics, level and profile are recomputed from the history extended by the earlier
  *predictions* (never actuals after the origin); every step's calendar features are those of
  its own target day. (A direct forest, the horizon a feature, did worse on the development
  data and was removed.)
- Not reconciled here: each series publishes its chosen candidate and the published forecast is
  reconciled (:mod:`~sales_platform.forecasting.selection`).
- Reproducible: the forest is seeded and predictions sum the trees in a fixed order (one thread),
  so the same data and config give bit-identical forecasts, whatever ``n_jobs``.

:class:`FittedForecaster` holds only a scikit-learn estimator and builtins, so ``skops.io.dumps``
stores it and ``skops.io.loads(data, trusted=TRUSTED_TYPES)`` loads it back.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from sales_platform.forecasting.config import ForecastConfig
from sales_platform.forecasting.features import (
    YEAR,
    NotEnoughHistory,
    Panel,
    calendar_matrix,
    design_matrix,
    event_days,
    feature_names,
    from_ratio,
    promotion_matrix,
    seasonal_base,
    state_arrays,
    to_ratio,
    to_wide,
)

MODEL_VERSION = "rf-global-2.3"
"""Version of the forecasting code: bump when features or the model change meaning."""
METHOD = "random_forest"
"""``method`` of the model's forecasts and ``model`` of its backtest rows."""

MIN_TRAINING_ORIGINS = 28
"""Days with a complete feature state the forest needs to learn from (four weeks)."""

TRUSTED_TYPES: list[str] = [
    "sales_platform.forecasting.model.FittedForecaster",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._tree.Tree",
]
"""Types a stored :class:`FittedForecaster` is made of: pass as ``skops.io.loads(trusted=...)``."""


class FittedForecaster:
    """A fitted global forest plus everything a forecast needs.

    Attributes are builtins, NumPy-free scalars and one scikit-learn estimator only (skops-safe):
    ``estimator``, ``config`` (dict of :class:`ForecastConfig`), ``series`` (total first),
    ``feature_names``, ``calendar_columns``, ``train_start`` / ``train_end`` (ISO dates of the first
    and last target day of the training rows), ``data_start`` / ``data_end`` (the history seen),
    ``n_train_rows``, ``fit_seconds``, ``model_version``, ``method``.
    """

    def __init__(
        self,
        estimator: RandomForestRegressor,
        config: dict,
        series: list[str],
        feature_names: list[str],
        calendar_columns: list[str],
        train_start: str,
        train_end: str,
        data_start: str,
        data_end: str,
        n_train_rows: int,
        fit_seconds: float,
        model_version: str = MODEL_VERSION,
        method: str = METHOD,
    ) -> None:
        self.estimator = estimator
        self.config = dict(config)
        self.series = list(series)
        self.feature_names = list(feature_names)
        self.calendar_columns = list(calendar_columns)
        self.train_start = str(train_start)
        self.train_end = str(train_end)
        self.data_start = str(data_start)
        self.data_end = str(data_end)
        self.n_train_rows = int(n_train_rows)
        self.fit_seconds = float(fit_seconds)
        self.model_version = str(model_version)
        self.method = str(method)

    @property
    def forecast_config(self) -> ForecastConfig:
        return ForecastConfig.from_dict(self.config)

    def feature_importances(self, top_n: int | None = None) -> dict[str, float]:
        """Impurity-based importances, largest first."""
        imp = self.estimator.feature_importances_
        order = np.argsort(-imp, kind="stable")
        if top_n is not None:
            order = order[:top_n]
        return {self.feature_names[i]: round(float(imp[i]), 6) for i in order}

    def metadata(self, top_n: int = 10) -> dict:
        """Builtins only: params, features, top-N importances, training window, version, timing."""
        params = {
            k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
            for k, v in self.estimator.get_params().items()
        }
        return {
            "model_version": self.model_version,
            "method": self.method,
            "params": params,
            "config": self.config,
            "series": self.series,
            "features": self.feature_names,
            "feature_importances": self.feature_importances(top_n),
            "training_rows": self.n_train_rows,
            "training_window_start": self.train_start,
            "training_window_end": self.train_end,
            "history_start": self.data_start,
            "history_end": self.data_end,
            "fit_seconds": round(self.fit_seconds, 3),
        }

    def __repr__(self) -> str:
        return (
            f"FittedForecaster({self.method}, "
            f"{len(self.series)} series, trained {self.train_start}..{self.train_end})"
        )


def make_estimator(config: ForecastConfig) -> RandomForestRegressor:
    """The RandomForest of a config (also what the benchmark hands to skforecast)."""
    return RandomForestRegressor(
        n_estimators=config.n_estimators,
        max_depth=config.max_depth,
        min_samples_leaf=config.min_samples_leaf,
        max_features=config.max_features,
        max_samples=config.max_samples if config.bootstrap else None,
        bootstrap=config.bootstrap,
        random_state=config.random_state,
        n_jobs=config.n_jobs,
    )


def forest_predict(estimator: RandomForestRegressor, X: np.ndarray) -> np.ndarray:
    """Deterministic prediction: the trees summed in their order, then divided by their number,
    as ``RandomForestRegressor.predict`` does on one thread (threads would reorder the sum). Its
    per-tree job dispatch cost 10 ms a call for the few rows of a recursive step."""
    out = np.zeros(X.shape[0], dtype=np.float64)
    for tree in estimator.estimators_:
        out += tree.predict(X, check_input=False)
    return out / len(estimator.estimators_)


def _known_ahead(
    panel: Panel, first: int, extra_days: int, country: str, promotions: pd.DataFrame | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Calendar and promotions of ``panel.dates[first:]`` and ``extra_days`` days after them."""
    days = pd.date_range(panel.dates[first], periods=len(panel.dates) - first + extra_days)
    cal_names, cal = calendar_matrix(days, country)
    return cal_names, cal, promotion_matrix(days, panel.series, promotions)


def training_origins(n: int, config: ForecastConfig) -> np.ndarray:
    """Origins of the one-step training rows for ``n`` days of history.

    An origin needs ``config.warmup_days`` days of history before its next day, the target day
    ``origin + 1``, which must fall within the last ``config.max_train_days`` days.
    """
    first = max(config.warmup_days - 1, n - 1 - config.max_train_days)
    return np.arange(first, n - 1)


def fit_forecaster(
    features: pd.DataFrame,
    config: ForecastConfig | None = None,
    promotions: pd.DataFrame | None = None,
) -> FittedForecaster:
    """Fit the global forest on the ``sales_features`` table (or ``daily_sales``).

    Only ``date``, ``series`` and ``revenue`` are read: the design rows are rebuilt with the same
    leakage-free state definitions as :func:`~sales_platform.forecasting.features.build_features`
    (the same code the recursive forecast computes each step with).
    """
    config = config or ForecastConfig()
    start = time.perf_counter()
    panel = to_wide(features)
    n, n_series = panel.values.shape
    origins = training_origins(n, config)
    if origins.size < MIN_TRAINING_ORIGINS:
        raise NotEnoughHistory(
            f"not enough history to fit: {n} days, the model needs more than "
            f"{config.warmup_days + MIN_TRAINING_ORIGINS} (warm-up {config.warmup_days} days)"
        )
    cal_names, cal, promo = _known_ahead(panel, 0, 0, config.country, promotions)
    steps = np.ones_like(origins)
    X, base = design_matrix(panel.values, cal_names, cal, origins, steps, config, promo)
    targets = origins + 1
    estimator = make_estimator(config)
    estimator.fit(X.astype(np.float32), to_ratio(panel.values[targets].reshape(-1), base))
    return FittedForecaster(
        estimator=estimator,
        config=config.to_dict(),
        series=panel.series,
        feature_names=feature_names(config, cal_names),
        calendar_columns=cal_names,
        train_start=panel.dates[int(targets.min())].date().isoformat(),
        train_end=panel.dates[int(targets.max())].date().isoformat(),
        data_start=panel.dates[0].date().isoformat(),
        data_end=panel.dates[-1].date().isoformat(),
        n_train_rows=int(X.shape[0]),
        fit_seconds=time.perf_counter() - start,
    )


def predict_panel(
    model: FittedForecaster,
    panel: Panel,
    horizon: int,
    promotions: pd.DataFrame | None = None,
) -> np.ndarray:
    """The forest's point forecasts ``[horizon, n_series]`` (series in ``model.series`` order),
    not reconciled: the published forecast reconciles whatever each series publishes.

    Recursive: each step's lags, rolling statistics, level and profile come from the history
    extended by the earlier steps' predictions, never from actuals after the origin.
    """
    config = model.forecast_config
    values = panel.values
    n, n_series = values.shape
    if n < config.warmup_days:
        raise ValueError(f"need at least {config.warmup_days} days of history, got {n}")
    # Enough tail for every feature: last year's level and the weekday profile's window.
    keep = min(n, max(YEAR + config.warmup_days, 7 * config.profile_weeks) + 8)
    ext = np.vstack([values[n - keep :], np.zeros((horizon, n_series))])
    cal_names, cal, promo = _known_ahead(panel, n - keep, horizon, config.country, promotions)
    events = event_days(cal_names, cal, promo)
    out = np.empty((horizon, n_series))
    for step in range(horizon):
        o = keep - 1 + step
        state = state_arrays(ext[: o + 1], config, events[: o + 1])
        X, base = design_matrix(
            ext[: o + 1], cal_names, cal, np.array([o]), np.array([1]), config, promo, state=state
        )
        ratio = forest_predict(model.estimator, X.astype(np.float32))
        ext[o + 1] = out[step] = from_ratio(ratio, base)
    return out


def weekday_level_values(
    config: ForecastConfig,
    panel: Panel,
    horizon: int,
    promotions: pd.DataFrame | None = None,
) -> np.ndarray:
    """The forest's base as a forecast ``[horizon, n_series]``: the clean level at the last day
    times each target day's weekday profile (what the forest predicts with a ratio of 1)."""
    n = len(panel.dates)
    keep = min(n, 7 * config.profile_weeks + config.level_window + 8)
    cal_names, cal, promo = _known_ahead(panel, n - keep, 0, config.country, promotions)
    state = state_arrays(panel.values[n - keep :], config, event_days(cal_names, cal, promo))
    last = np.full(horizon, len(state["level"]) - 1)  # the state after the last day
    return seasonal_base(state, last, np.arange(1, horizon + 1))[2]
