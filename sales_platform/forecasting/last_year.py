"""Last year's same weekday, grown to today's level, blended into a forecast.

A forest learns a yearly event (Black Friday's weekend, the lull before it) from the one earlier
instance two years of history hold, in a recursion that carries the event day into the next days'
lags. A share of each forecast day (more on a known event day: a public holiday, Black Friday's
week either side, Christmas; :func:`~sales_platform.forecasting.features.event_days`) is
therefore the series' value on the same weekday a year earlier
(:data:`~sales_platform.forecasting.features.YEAR` days) times its growth since (its last
:data:`GROWTH_DAYS` days over the same days a year before); not on a day whose promotion status
differs from a year earlier's (the ``promotions`` table), as for a promotion on a fixed date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_platform.forecasting.features import (
    YEAR,
    calendar_matrix,
    event_days,
    promotion_matrix,
)

GROWTH_DAYS = 91
"""Days whose values, over the same days a year before, give a series' growth since."""


def with_last_year(
    forecast: np.ndarray,
    values: np.ndarray,
    dates: pd.DatetimeIndex,
    series: list[str],
    promotions: pd.DataFrame | None,
    country: str,
    weight: float,
    event_weight: float,
) -> np.ndarray:
    """``forecast [horizon, S]`` of the days after ``values [n_days, S]`` (on ``dates``) blended
    with last year's same weekday times the growth since: ``weight`` of it on a normal day,
    ``event_weight`` on a known event day. Unchanged where a year of history and
    :data:`GROWTH_DAYS` before it are missing, or the day's promotion status differs from a year
    earlier's."""
    n_days = values.shape[0]
    horizon = len(forecast)
    if n_days < YEAR + GROWTH_DAYS or horizon > YEAR:
        return forecast
    recent = values[-GROWTH_DAYS:].sum(axis=0)
    before = values[n_days - YEAR - GROWTH_DAYS : n_days - YEAR].sum(axis=0)
    growth = np.divide(recent, before, out=np.full(len(recent), np.nan), where=before > 0)
    days = np.arange(n_days, n_days + horizon)
    last_year = values[days - YEAR] * growth  # [horizon, S]
    calendar = pd.date_range(dates[0], periods=n_days + horizon, freq="D")
    names, cal = calendar_matrix(calendar[days], country)
    share = np.where(event_days(names, cal), event_weight, weight)[:, None]
    promoted = promotion_matrix(calendar, series, promotions)
    use = (promoted[days] == promoted[days - YEAR]) & np.isfinite(last_year)
    blended = (1 - share) * forecast + share * np.nan_to_num(last_year)
    return np.where(use, blended, forecast)
