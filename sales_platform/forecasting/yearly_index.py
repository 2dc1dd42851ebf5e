"""A yearly seasonal index from the earlier years, for the level x weekday profile.

The level x weekday profile carries the last weeks' level flat over the horizon: right for a
series without a yearly season, a month late for a shop whose September, November and December
differ from its August. Each earlier year (:data:`~sales_platform.forecasting.features.YEAR`
days back, so the weekdays line up; up to :data:`MAX_YEARS`) says how the month around each
target day compared with the level window before the origin in that year. The index is the
geometric median of those ratios over the years, shrunk towards 1 by :data:`STRENGTH` (one to
three noisy years are weak evidence of next month's change). Chosen on the mean over the eleven
development sets of the published MAE on the total (README).
"""

from __future__ import annotations

import numpy as np

from sales_platform.forecasting.features import RATIO_CAP, YEAR

WINDOW = 31
"""Days (centred on the target day, a year back) whose mean is that year's value of the day."""
STRENGTH = 0.5
"""The exponent of the index: 0 is no yearly season, 1 the earlier years' full change."""
MAX_YEARS = 3
"""Earlier years consulted (the most recent first)."""


def yearly_index(
    values: np.ndarray,
    horizon: int,
    level_window: int,
    *,
    window: int = WINDOW,
    strength: float = STRENGTH,
) -> np.ndarray:
    """``[horizon, S]`` factors for the ``horizon`` days after ``values [n_days, S]``: 1 where
    no earlier year covers the level window and the ``window`` days around the day, or a series
    had no sales in that year's level window. ``window`` and ``strength`` default to the module's
    settings (the candidate study replays others)."""
    n_days, n_series = values.shape
    half = window // 2
    logs = []
    for year in range(1, MAX_YEARS + 1):
        end = n_days - YEAR * year  # that year's origin: its level window ends here
        if end - max(level_window, half) < 0 or end + horizon + half > n_days:
            break
        level = values[end - level_window : end].mean(axis=0)
        around = values[end - half : end + horizon + half]
        month = np.lib.stride_tricks.sliding_window_view(around, window, axis=0).mean(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.clip(month[:horizon] / level, 1 / RATIO_CAP, RATIO_CAP)
        logs.append(np.where(level > 0, np.log(ratio), np.nan))
    if not logs:
        return np.ones((horizon, n_series))
    stacked = np.stack(logs)
    seen = np.isfinite(stacked).any(axis=0)
    with np.errstate(all="ignore"):
        median = np.nanmedian(np.where(seen, stacked, 0.0), axis=0)
    return np.exp(strength * median)
