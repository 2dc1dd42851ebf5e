"""Leakage-free features: lags, shifted rolling statistics, calendar and event flags.

Two views of the same definitions:

- :func:`build_features` returns the ``sales_features`` table (one row per date x series), whose
  feature columns for day ``d`` are computed from revenue of days ``< d`` only, plus the calendar of
  ``d`` (known in advance for any date).
- :func:`design_matrix` builds the model's rows for (series, origin, horizon): the *state* known at
  the origin (the same lags / rolling statistics, divided by the level at the origin) plus the
  calendar of the *target* day. Both use :func:`state_arrays`, so the table and the model agree.

Internally the sales are a dense matrix ``Y[day, series]`` (:func:`to_wide`), zero-filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sales_platform.calendar import calendar_features
from sales_platform.forecasting.config import ForecastConfig
from sales_platform.tables import TOTAL_SERIES

LEVEL_FLOOR = 1.0
"""The level a ratio is taken to is at least this (currency units): no division by zero."""

BASE_FLOOR_SHARE = 0.1
"""The target's base is at least this share of the level: a weekday the shop is closed (profile 0)
gives a ratio of 0, never 0 / 0."""

RATIO_CAP = 10.0
"""Training ratios are clipped here: one huge order in a lumpy series cannot teach the shared
forest that a day can be a hundred times the level."""

YEAR = 364
"""One year in days, a whole number of weeks so that the weekday matches."""


class NotEnoughHistory(ValueError):
    """The history is too short for the model or the backtest: a baseline is published instead."""


@dataclass(frozen=True)
class Panel:
    """Daily sales as a dense matrix: ``values[i, j]`` is series ``series[j]`` on ``dates[i]``."""

    dates: pd.DatetimeIndex
    series: list[str]
    values: np.ndarray


def order_series(names) -> list[str]:
    """The total first (if present), then the categories sorted by name."""
    names = {str(n) for n in names}
    rest = sorted(n for n in names if n != TOTAL_SERIES)
    return ([TOTAL_SERIES] if TOTAL_SERIES in names else []) + rest


def to_wide(daily_sales: pd.DataFrame, value: str = "revenue", series=None) -> Panel:
    """Pivot long ``daily_sales`` (date, series, ``value``) to a dense, zero-filled :class:`Panel`.

    Days between the first and last date that are missing are filled with zero (the stored table is
    zero-filled already; this guards hand-made frames). ``series`` fixes the column order.
    """
    missing = {"date", "series", value} - set(daily_sales.columns)
    if missing:
        raise ValueError(f"daily_sales lacks column(s) {sorted(missing)}")
    if daily_sales.empty:
        raise ValueError("daily_sales is empty")
    frame = daily_sales[["date", "series", value]].copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["series"] = frame["series"].astype(str)
    if frame.duplicated(["date", "series"]).any():
        dup = frame[frame.duplicated(["date", "series"], keep=False)].head(3)
        raise ValueError(f"daily_sales has duplicate (date, series) rows, e.g.\n{dup}")
    wide = frame.pivot(index="date", columns="series", values=value)
    dates = pd.date_range(wide.index.min(), wide.index.max(), freq="D", name="date")
    names = order_series(wide.columns) if series is None else list(series)
    absent = [s for s in names if s not in wide.columns]
    if absent:
        raise ValueError(f"daily_sales has no rows for series {absent}")
    wide = wide.reindex(index=dates, columns=names).fillna(0.0)
    values = wide.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"daily_sales.{value} has non-finite values")
    return Panel(dates=dates, series=names, values=values)


def _window_mean_std(padded: np.ndarray, w: int, n_out: int, offset: int):
    """Mean and std (ddof=1) of ``padded[i+offset-w : i+offset]`` for ``i in range(n_out)``."""
    view = np.lib.stride_tricks.sliding_window_view(padded, w, axis=0)  # [n-w+1, S, w]
    start = offset - w
    win = view[start : start + n_out]
    return win.mean(axis=-1), win.std(axis=-1, ddof=1)


def state_arrays(
    values: np.ndarray, config: ForecastConfig, event_days: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The state known at the start of each day: arrays of shape ``[n + 1, S]``.

    Row ``d`` uses ``values[:d]`` only (revenue strictly before day ``d``); row ``n`` is the state
    after the last day, the one a forecast starts from. NaN where history is too short.

    Keys: ``lag_{k}``, ``roll_mean_{w}``, ``roll_std_{w}``, ``weekday_profile`` and ``level``:
    the mean of the last ``config.level_window`` days that were not ``event_days`` (bool ``[n]``,
    the known event days; :func:`_clean_level`), the plain mean without them.
    """
    n, n_series = values.shape
    pad = max(max(config.lags), max(config.windows), config.level_window)
    padded = np.vstack([np.full((pad, n_series), np.nan), values])
    out: dict[str, np.ndarray] = {}
    for k in config.lags:
        out[f"lag_{k}"] = padded[pad - k : pad - k + n + 1]
    for w in config.windows:
        mean, std = _window_mean_std(padded, w, n + 1, pad)
        out[f"roll_mean_{w}"] = mean
        out[f"roll_std_{w}"] = std
    w = config.level_window
    level, _ = _window_mean_std(padded, w, n + 1, pad)
    if event_days is not None:
        level = np.where(np.isfinite(level), _clean_level(values, event_days, w), level)
    out["level"] = level
    out["weekday_profile"] = _weekday_profile(values, config.profile_weeks, event_days)
    return out


def _clean_level(values: np.ndarray, event_days: np.ndarray, w: int) -> np.ndarray:
    """``[n + 1, S]``: the mean of the last ``w`` non-event days before each day.

    Always ``w`` days of evidence, however many event days there were (skipping them inside a
    fixed window could leave a handful of unusual days). Where those days reach back more than
    ``3 w`` days, or fewer than ``w / 4`` exist, the plain mean of the last ``w`` days is used.
    """
    n, n_series = values.shape
    plain = np.full((n + 1, n_series), np.nan)
    if n >= w:
        plain[w:] = np.lib.stride_tricks.sliding_window_view(values, w, axis=0).mean(axis=-1)
    normal = np.flatnonzero(~np.asarray(event_days[:n], dtype=bool))
    if normal.size == 0:
        return plain
    sums = np.vstack([np.zeros((1, n_series)), np.cumsum(values[normal], axis=0)])
    before = np.searchsorted(normal, np.arange(n + 1))  # normal days before each day
    first = np.maximum(before - w, 0)
    count = before - first
    with np.errstate(invalid="ignore", divide="ignore"):
        clean = (sums[before] - sums[first]) / count[:, None]
    oldest = normal[np.minimum(first, normal.size - 1)]
    fresh = (count >= max(2, w // 4)) & (oldest >= np.arange(n + 1) - 3 * w)
    return np.where(fresh[:, None], clean, plain)


def _weekday_profile(values: np.ndarray, weeks: int, event_days: np.ndarray | None) -> np.ndarray:
    """``P[r, s, c]``: mean of the last ``weeks`` weeks before day ``r`` on the weekday of day
    ``r + c``, relative to the mean of all their days (event days skipped); 1 where unknown."""
    n, n_series = values.shape
    span = 7 * weeks
    keep = (
        np.ones(n)
        if event_days is None
        else (~np.asarray(event_days[:n], dtype=bool)).astype(float)
    )
    vals = np.vstack([np.zeros((span, n_series)), values * keep[:, None]])
    cnt = np.concatenate([np.zeros(span), keep])
    wv = np.lib.stride_tricks.sliding_window_view(vals, span, axis=0)[: n + 1]  # [n+1, S, span]
    wc = np.lib.stride_tricks.sliding_window_view(cnt, span)[: n + 1]  # [n+1, span]
    col_sum = wv.reshape(n + 1, n_series, weeks, 7).sum(axis=2)  # [n+1, S, 7]
    col_cnt = wc.reshape(n + 1, weeks, 7).sum(axis=1)  # [n+1, 7]
    with np.errstate(invalid="ignore", divide="ignore"):
        col_mean = col_sum / col_cnt[:, None, :]
        overall = col_sum.sum(axis=2) / col_cnt.sum(axis=1)[:, None]  # [n+1, S]
        prof = col_mean / overall[:, :, None]
    # Only trust a profile built from at least half the window, with every weekday seen.
    ok = (wc.sum(axis=1) >= span / 2)[:, None, None] & (col_cnt > 0)[:, None, :]
    prof = np.where(ok & np.isfinite(prof), prof, 1.0)
    return prof


EVENT_RULES = (
    "the shop's promotion days, public holidays, the week before Black Friday to the Friday after "
    "Cyber Monday, Christmas Eve and Christmas Day (where the country's calendar has them)"
)


def event_days(
    names: list[str], cal: np.ndarray, promotion: np.ndarray | None = None
) -> np.ndarray:
    """Days whose sales are distorted by a known event (see :data:`EVENT_RULES`).

    ``promotion`` is the ``[n_days, n_series]`` matrix of :func:`promotion_matrix`: a day on which
    any promotion runs is an event day for every series.
    """
    c = {name: cal[:, j] for j, name in enumerate(names)}
    events = (
        (c["is_holiday"] == 1)
        | (c["days_to_black_friday"] <= 7)
        | (c["days_since_black_friday"] <= 7)
        | (c["days_to_christmas"] <= 1)
    )
    if promotion is not None:
        events = events | (promotion[: len(events)] > 0).any(axis=1)
    return events


def promotion_matrix(
    dates: pd.DatetimeIndex, series: list[str], promotions: pd.DataFrame | None
) -> np.ndarray:
    """``[len(dates), len(series)]``: 1 where a promotion of the shop runs for the series.

    ``promotions`` is the ``promotions`` table (``start_date``, ``end_date`` inclusive, ``scope``:
    empty for the whole shop, else a category). The total is on promotion whenever any promotion
    runs; a category when a shop-wide promotion or its own runs.
    """
    out = np.zeros((len(dates), len(series)))
    if promotions is None or promotions.empty:
        return out
    day = dates.values.astype("datetime64[D]")
    for row in promotions.itertuples(index=False):
        start = np.datetime64(pd.Timestamp(row.start_date).date(), "D")
        end = np.datetime64(pd.Timestamp(row.end_date).date(), "D")
        on = (day >= start) & (day <= end)
        if not on.any():
            continue
        scope = getattr(row, "scope", None)
        shop_wide = scope is None or pd.isna(scope) or str(scope).strip() == ""
        for j, name in enumerate(series):
            if shop_wide or name == TOTAL_SERIES or name == str(scope):
                out[on, j] = 1.0
    return out


DATE_POSITION_COLUMNS = ("day_of_month", "day_of_year", "week_of_month", "month")
"""Calendar columns the forests (this one and the product forest) do not see. With the one or two
years of history a shop has, a tree that splits on where a day falls in its month or year learns
that day's noise a year ago; the yearly shape reaches the forest smoothed, through last year's
level change (``year_shape``). Over the eleven development sets, leaving them out made the
published forecast 0.6464 -> 0.6351 x SeasonalNaive(7)'s on average (README)."""


def model_calendar(cal_names: list[str]) -> list[int]:
    """Positions in ``cal_names`` of the calendar columns that are the forest's features."""
    return [j for j, name in enumerate(cal_names) if name not in DATE_POSITION_COLUMNS]


def calendar_matrix(dates: pd.DatetimeIndex, country: str) -> tuple[list[str], np.ndarray]:
    """Calendar feature names and a float matrix ``[len(dates), n_features]``."""
    cal = calendar_features(dates, country=country)
    return [str(c) for c in cal.columns], cal.to_numpy(dtype=np.float64)


def build_features(
    daily_sales: pd.DataFrame,
    config: ForecastConfig | None = None,
    promotions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``sales_features`` table: one row per date x series.

    Columns: ``date``, ``series``, ``revenue`` (the target), ``series_id`` (position of the series
    in :func:`order_series`), ``lag_{k}`` for every ``config.lags``, ``roll_mean_{w}`` and
    ``roll_std_{w}`` for every ``config.windows`` (over the ``w`` days *before* the date), ``level``
    (the clean mean of the ``config.level_window`` days before the date, see
    :func:`state_arrays`), ``weekday_profile`` (the series' weekday profile for the date's weekday,
    from the ``config.profile_weeks`` weeks before it) and the calendar / event features of the
    date (``calendar_features``) and ``is_promotion`` (a promotion of the ``promotions`` table runs
    for the row's series). The model's target is ``revenue / (level * weekday_profile)``.

    No leakage: every feature of day ``d`` is computed from revenue of days before ``d`` and from
    the calendar; changing revenue on or after ``d`` never changes them. Early rows, whose window
    reaches before the first day, are NaN.
    """
    config = config or ForecastConfig()
    panel = to_wide(daily_sales)
    n, n_series = panel.values.shape
    cal_names, cal = calendar_matrix(panel.dates, config.country)
    promo = promotion_matrix(panel.dates, panel.series, promotions)
    state = state_arrays(panel.values, config, event_days(cal_names, cal, promo))
    columns: dict[str, np.ndarray] = {
        "date": np.repeat(panel.dates.values, n_series),
        "series": np.tile(np.array(panel.series, dtype=object), n),
        "revenue": panel.values.reshape(-1),
        "series_id": np.tile(np.arange(n_series, dtype=np.int64), n),
    }
    for name, arr in state.items():
        if name == "weekday_profile":  # the profile of the row's own weekday
            arr = arr[:, :, 0]
        columns[name] = arr[:n].reshape(-1)
    for j, name in enumerate(cal_names):
        columns[name] = np.repeat(cal[:, j], n_series).astype(np.int64)
    columns["is_promotion"] = promo.reshape(-1).astype(np.int64)
    frame = pd.DataFrame(columns)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def feature_names(config: ForecastConfig, cal_names: list[str]) -> list[str]:
    """The model's feature columns, in order (``cal_names``: all ``calendar_features`` columns)."""
    names = ["series_id", *(cal_names[j] for j in model_calendar(cal_names)), "is_promotion"]
    names += [f"lag_{k}" for k in config.lags]
    for w in config.windows:
        names += [f"roll_mean_{w}", f"roll_std_{w}"]
    names += ["weekday_profile", "level_growth_28"]
    if config.yearly:
        names += ["last_year", "level_growth_year", "year_shape"]
    return names


def seasonal_base(
    state: dict[str, np.ndarray], rows: np.ndarray, horizons: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(level, profile, base)`` ``[len(rows), S]`` for the target ``horizons`` days after the
    days whose state is at ``rows`` (rows of :func:`state_arrays`): the floored level, the
    target weekday's profile and the forest's base, their product, at least a tenth of the level.
    """
    level = np.maximum(np.nan_to_num(state["level"][rows], nan=LEVEL_FLOOR), LEVEL_FLOOR)
    profile = state["weekday_profile"][rows, :, (horizons - 1) % 7]
    return level, profile, np.maximum(level * profile, BASE_FLOOR_SHARE * level)


def design_matrix(
    values: np.ndarray,
    cal_names: list[str],
    cal: np.ndarray,
    origins: np.ndarray,
    horizons: np.ndarray,
    config: ForecastConfig,
    promo: np.ndarray,
    state: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The model's rows for every (origin, horizon) pair and every series.

    ``values[:o + 1]`` is what is known at origin ``o`` (a row index of ``values``); the target day
    is ``t = o + h``. ``cal`` (calendar) and ``promo`` (:func:`promotion_matrix`) have a row for
    every day index up to ``max(origins + horizons)``: both are known in advance.
    ``origins`` and ``horizons`` are equal-length int arrays of pairs. Returns ``X`` (float64,
    rows ordered pair-major then series) and ``base`` (the denominator of the target per row: the
    level at the origin times the target weekday's profile, at least a tenth of the level).
    Only ``values[:o + 1]`` enters a row of origin ``o``: no leakage by construction.
    """
    n, n_series = values.shape
    if state is None:
        state = state_arrays(values, config, event_days(cal_names, cal[:n], promo[:n]))
    origins = np.asarray(origins, dtype=np.int64)
    horizons = np.asarray(horizons, dtype=np.int64)
    targets = origins + horizons
    s_idx = origins + 1  # state row of the day after the origin: data up to the origin
    m = len(origins)

    level, profile, base = seasonal_base(state, s_idx, horizons)  # [m, S] each

    cols: list[np.ndarray] = []
    cols.append(np.broadcast_to(np.arange(n_series, dtype=np.float64), (m, n_series)))
    cal_rows = cal[targets]  # [m, C]
    for j in model_calendar(cal_names):
        cols.append(np.broadcast_to(cal_rows[:, j : j + 1], (m, n_series)))
    cols.append(promo[targets])
    for k in config.lags:
        cols.append(state[f"lag_{k}"][s_idx] / level)
    for w in config.windows:
        cols.append(state[f"roll_mean_{w}"][s_idx] / level)
        cols.append(state[f"roll_std_{w}"][s_idx] / level)
    cols.append(profile)
    prev = s_idx - 28
    ok = prev >= 0
    growth = np.full((m, n_series), np.nan)
    growth[ok] = level[ok] / np.maximum(state["level"][prev[ok]], LEVEL_FLOOR)
    cols.append(growth)
    if config.yearly:
        idx = targets - YEAR
        prev = s_idx - YEAR
        ok = (idx >= 0) & (prev >= 0)
        last_year = np.full((m, n_series), np.nan)
        year_growth = np.full((m, n_series), np.nan)
        if ok.any():
            prev_level = np.maximum(state["level"][prev[ok]], LEVEL_FLOOR)  # NaN stays NaN
            last_year[ok] = values[idx[ok]] / prev_level
            year_growth[ok] = level[ok] / prev_level
        cols.append(last_year)
        cols.append(year_growth)
        # Last year's seasonal change from the origin to the target day: the (clean) level of
        # the 4 weeks centred on the target day a year ago over the level at the origin a year ago.
        r1 = targets - YEAR + 14
        r0 = s_idx - YEAR
        ok = (r0 >= 0) & (r1 >= 0)
        shape = np.full((m, n_series), np.nan)
        if ok.any():
            shape[ok] = state["level"][r1[ok]] / np.maximum(state["level"][r0[ok]], LEVEL_FLOOR)
        cols.append(shape)
    X = np.stack([np.asarray(c, dtype=np.float64) for c in cols], axis=-1)  # [m, S, F]
    return X.reshape(m * n_series, -1), base.reshape(-1)


def to_ratio(y: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Revenue as the model's target: its ratio to the base, capped at :data:`RATIO_CAP`."""
    return np.clip(y / base, 0.0, RATIO_CAP)


def from_ratio(z: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Revenue from a predicted ratio (never negative)."""
    return np.maximum(z * base, 0.0)
