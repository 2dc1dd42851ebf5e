"""The retail calendar: public holidays, Black Friday / Cyber Monday and the shop's promotions.

Shared by the synthetic shop (which shapes demand with it) and the forecaster (which uses it as
known-in-advance features). Everything here is a pure function of the date: it is known for any
future date, so a forecast may use it without leaking the future. No Dagster, no I/O.

Public holidays come from the `holidays` package (observed days included, e.g. a Saturday
Independence Day is also flagged on the Friday before).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays as holidays_lib
import numpy as np
import pandas as pd

__all__ = [
    "CALENDAR_FEATURES",
    "EVENT_WINDOW_DAYS",
    "black_friday",
    "calendar_features",
    "cyber_monday",
    "promotion_dates",
    "public_holidays",
    "thanksgiving",
]

EVENT_WINDOW_DAYS = 60
"""The ``days_to_*`` / ``days_since_*`` features are clipped to ``[0, EVENT_WINDOW_DAYS]``."""

CALENDAR_FEATURES: tuple[str, ...] = (
    "day_of_week",
    "day_of_month",
    "day_of_year",
    "week_of_month",
    "month",
    "is_weekend",
    "is_holiday",
    "is_black_friday",
    "is_cyber_monday",
    "is_promotion",
    "days_to_black_friday",
    "days_since_black_friday",
    "days_to_christmas",
)
"""The columns of :func:`calendar_features`, in order."""


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th (1-based) ``weekday`` (Monday=0) of ``month``."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def thanksgiving(year: int) -> dt.date:
    """US Thanksgiving: the fourth Thursday of November."""
    return _nth_weekday(year, 11, 3, 4)


def black_friday(year: int) -> dt.date:
    """Black Friday: the day after US Thanksgiving (the fourth Thursday of November)."""
    return thanksgiving(year) + dt.timedelta(days=1)


def cyber_monday(year: int) -> dt.date:
    """Cyber Monday: the Monday after Black Friday."""
    return black_friday(year) + dt.timedelta(days=3)


@lru_cache(maxsize=512)
def _promotion_dates(year: int) -> tuple[dt.date, ...]:
    spring = _nth_weekday(year, 3, 0, 2)  # second Monday of March
    summer = _nth_weekday(year, 7, 1, 2)  # second Tuesday of July
    school = _nth_weekday(year, 8, 5, 3)  # third Saturday of August
    days = {spring + dt.timedelta(days=i) for i in range(7)}
    days |= {summer + dt.timedelta(days=i) for i in range(3)}
    days |= {school, school + dt.timedelta(days=1)}
    days.add(dt.date(year, 11, 11))
    return tuple(sorted(days))


def promotion_dates(year: int) -> list[dt.date]:
    """The shop's promotion days of ``year``: rule-based, so known years in advance.

    - Spring sale: the seven days starting on the second Monday of March.
    - Summer sale: three days starting on the second Tuesday of July (a "Prime Day"-like event).
    - Back-to-school weekend: the third Saturday of August and the Sunday after it.
    - Singles' Day: 11 November.

    Black Friday and Cyber Monday are events of their own (:func:`black_friday`,
    :func:`cyber_monday`) and are not part of this list. Returns the dates sorted.
    """
    return list(_promotion_dates(int(year)))


@lru_cache(maxsize=64)
def _holidays_of_years(country: str, first_year: int, last_year: int) -> dict[dt.date, str]:
    calendar = holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))
    return dict(sorted(calendar.items()))


def public_holidays(start: dt.date, end: dt.date, country: str = "US") -> dict[dt.date, str]:
    """Public holidays of ``country`` from ``start`` to ``end`` (both inclusive), sorted by date.

    Uses the `holidays` package, including observed days. ``country`` is an ISO 3166 code
    understood by ``holidays.country_holidays`` (e.g. "US", "GB", "DE").
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return {}
    table = _holidays_of_years(country, start.year, end.year)
    return {day: name for day, name in table.items() if start <= day <= end}


def _as_date(value: dt.date | dt.datetime | str | pd.Timestamp) -> dt.date:
    if isinstance(value, dt.datetime):  # includes pd.Timestamp
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _to_index(dates: Iterable | pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    if index.tz is not None:
        index = index.tz_localize(None)
    return index.normalize().as_unit("ns").rename("date")


def _event_days(years: range, event) -> np.ndarray:
    """datetime64[D] array of ``event(year)`` for every year of ``years``."""
    return np.array([event(y) for y in years], dtype="datetime64[D]")


def _days_to_next(days: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Days from each of ``days`` to the first of the sorted ``events`` on or after it."""
    pos = np.searchsorted(events, days, side="left")
    return (events[pos] - days).astype(np.int64)


def _days_since_last(days: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Days from the last of the sorted ``events`` on or before each of ``days`` to it."""
    pos = np.searchsorted(events, days, side="right") - 1
    return (days - events[pos]).astype(np.int64)


def calendar_features(dates, country: str = "US") -> pd.DataFrame:
    """Calendar and event features of ``dates``, all known in advance for any date.

    ``dates``: anything ``pd.to_datetime`` understands (a DatetimeIndex, a Series, a list of
    dates or strings). Times are dropped and time zones removed (wall-clock date kept).

    Returns one row per input date, in input order (duplicates kept), indexed by the normalized,
    timezone-naive dates, with integer columns :data:`CALENDAR_FEATURES`:

    - ``day_of_week`` (Monday=0 .. Sunday=6), ``day_of_month`` (1..31), ``day_of_year`` (1..366),
      ``week_of_month`` (1..5, days 1-7 are week 1), ``month`` (1..12), ``is_weekend``;
    - ``is_holiday`` (a public holiday of ``country``), ``is_black_friday``, ``is_cyber_monday``,
      ``is_promotion`` (:func:`promotion_dates`), all 0/1;
    - ``days_to_black_friday``: days until the next Black Friday (0 on Black Friday),
      ``days_since_black_friday``: days since the last Black Friday (0 on Black Friday),
      ``days_to_christmas``: days until 25 December of this year, or of the next year after
      Christmas (0 on Christmas Day); each clipped to ``[0, EVENT_WINDOW_DAYS]``.
    """
    index = _to_index(dates)
    columns = list(CALENDAR_FEATURES)
    if len(index) == 0:
        return pd.DataFrame({c: np.array([], dtype=np.int64) for c in columns}, index=index)

    days = index.values.astype("datetime64[D]")
    first_year, last_year = int(index.year.min()), int(index.year.max())
    years = range(first_year - 1, last_year + 2)

    bf = _event_days(years, black_friday)
    cm = _event_days(years, cyber_monday)
    christmas = _event_days(years, lambda y: dt.date(y, 12, 25))
    promos = np.array([d for y in years for d in _promotion_dates(y)], dtype="datetime64[D]")
    hols = np.array(list(_holidays_of_years(country, first_year, last_year)), dtype="datetime64[D]")

    window = EVENT_WINDOW_DAYS
    day_of_month = index.day.to_numpy(dtype=np.int64)
    day_of_week = index.dayofweek.to_numpy(dtype=np.int64)
    features = {
        "day_of_week": day_of_week,
        "day_of_month": day_of_month,
        "day_of_year": index.dayofyear.to_numpy(dtype=np.int64),
        "week_of_month": (day_of_month - 1) // 7 + 1,
        "month": index.month.to_numpy(dtype=np.int64),
        "is_weekend": (day_of_week >= 5).astype(np.int64),
        "is_holiday": np.isin(days, hols).astype(np.int64),
        "is_black_friday": np.isin(days, bf).astype(np.int64),
        "is_cyber_monday": np.isin(days, cm).astype(np.int64),
        "is_promotion": np.isin(days, promos).astype(np.int64),
        "days_to_black_friday": np.clip(_days_to_next(days, bf), 0, window),
        "days_since_black_friday": np.clip(_days_since_last(days, bf), 0, window),
        "days_to_christmas": np.clip(_days_to_next(days, christmas), 0, window),
    }
    return pd.DataFrame(features, index=index, columns=columns)
