"""Statistical candidate: exponential smoothing with a weekly season (statsforecast's AutoETS).

AutoETS picks error and season types by AICc per series, the well-kept counterpart of the
forest: it adapts its level fast after a break and needs no features. Each series is fitted on its
own last :data:`MAX_HISTORY_DAYS` days: older days barely move an exponentially weighted level;
on the development data a year was no less accurate than two, at a third of the fit time. A
series too short or too flat for ETS falls back to the 28-day mean.

Without a trend (:data:`MODEL` ``ZNZ``): searching the trend types too (``ZZZ``) gave the same
forecasts on the development sets' folds (mean scaled MAE 1.000 of the full search over the
eleven sets, at most 0.3% apart on any set) at six times the fit time, most of the backtest's
(``benchmarks/ets_study.py``); a 30-day horizon on a level that adapts leaves a trend little to do.
"""

from __future__ import annotations

import warnings

import numpy as np

ETS = "ets"
SEASON_LENGTH = 7
MODEL = "ZNZ"
"""AutoETS's model string: error and season chosen by AICc, no trend."""
MAX_HISTORY_DAYS = 365
MIN_HISTORY_DAYS = 3 * SEASON_LENGTH


def _mean_of_last_weeks(series: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(series[-28:].mean()))


def ets_values(values: np.ndarray, horizon: int) -> np.ndarray:
    """AutoETS forecasts ``[horizon, n_series]`` of ``values [n_days, n_series]``, at least 0."""
    from statsforecast.models import AutoETS  # its import costs about 1.5 s: only when used

    out = np.empty((horizon, values.shape[1]))
    for j in range(values.shape[1]):
        y = np.asarray(values[-MAX_HISTORY_DAYS:, j], dtype=np.float64)
        if y.size < MIN_HISTORY_DAYS or np.ptp(y[-MIN_HISTORY_DAYS:]) == 0:
            out[:, j] = _mean_of_last_weeks(y, horizon)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mean = (
                    AutoETS(season_length=SEASON_LENGTH, model=MODEL)
                    .fit(y)
                    .predict(h=horizon)["mean"]
                )
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
            mean = _mean_of_last_weeks(y, horizon)
        mean = np.asarray(mean, dtype=np.float64)
        out[:, j] = np.where(np.isfinite(mean), mean, _mean_of_last_weeks(y, horizon))
    return np.maximum(out, 0.0)
