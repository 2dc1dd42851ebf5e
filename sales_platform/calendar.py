"""The retail calendar: public holidays of a country and well-known retail days where they apply.

Shared by the synthetic shop (which shapes demand with it) and the forecaster (which uses it as
known-in-advance features). Everything here is a pure function of the date and the country: it is
known for any future date, so a forecast may use it without leaking the future. No Dagster, no I/O.

It knows only what any shop of a country knows: public holidays come from the `holidays` package
(observed days included, e.g. a Saturday Independence Day is also flagged on the Friday before);
Black Friday / Cyber Monday count only in :data:`BLACK_FRIDAY_COUNTRIES`; Christmas only where 25
December is a public holiday. A shop's own promotions are data, not calendar: the `promotions`
asset (the synthetic shop keeps its rule in ``sales_platform.synthetic.promotions``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays as holidays_lib
import numpy as np
import pandas as pd

__all__ = [
    "BLACK_FRIDAY_COUNTRIES",
    "CALENDAR_FEATURES",
    "EVENT_WINDOW_DAYS",
    "black_friday",
    "calendar_features",
    "celebrates_black_friday",
    "cyber_monday",
    "has_christmas_holiday",
    "public_holidays",
    "thanksgiving",
    "validate_country",
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
    "days_to_black_friday",
    "days_since_black_friday",
    "days_to_christmas",
)
"""The columns of :func:`calendar_features`, in order."""

BLACK_FRIDAY_COUNTRIES: frozenset[str] = frozenset(
    {
        # North America and Oceania
        "US", "CA", "MX", "AU", "NZ",
        # South America
        "BR",
        # Europe
        "GB", "IE", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "PL", "PT",
        "SE", "DK", "NO", "FI",
    }
)  # fmt: skip
"""Countries (ISO 3166 alpha-2) where Black Friday and Cyber Monday are established retail days.

The US, where they began, and the countries the English Wikipedia article "Black Friday
(shopping)", section "Around the world", describes as holding Black Friday sales on the US date
by the major retailers (Amazon's national sites among them). Mexico's own November sale, El Buen
Fin, is a different date and is not modelled. Elsewhere the Black Friday features are neutral:
``is_black_friday``/``is_cyber_monday`` 0, ``days_to``/``days_since_black_friday`` at
:data:`EVENT_WINDOW_DAYS`. A shop elsewhere that runs Black Friday sales lists them in its
promotions file.
"""


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


def validate_country(code: str) -> str:
    """``code`` normalized (stripped, upper case, alpha-3 or alias resolved to ISO 3166 alpha-2).

    Raises ``ValueError`` naming ``SALES_COUNTRY`` when the `holidays` package does not know the
    country, e.g. ``validate_country("usa") == "US"``, ``validate_country("UK") == "GB"``.
    """
    return _validated_country(str(code).strip().upper())


@lru_cache(maxsize=64)
def _validated_country(code: str) -> str:
    if code not in holidays_lib.list_supported_countries():
        raise ValueError(
            f"SALES_COUNTRY={code!r} is not a country the holidays package knows; use an ISO "
            "3166 alpha-2 code such as US, GB, DE"
        )
    return holidays_lib.country_holidays(code).country


def celebrates_black_friday(country: str) -> bool:
    """Whether Black Friday / Cyber Monday are retail days of ``country``."""
    return validate_country(country) in BLACK_FRIDAY_COUNTRIES


def has_christmas_holiday(country: str, year: int) -> bool:
    """Whether 25 December of ``year`` is a public holiday of ``country``."""
    return dt.date(year, 12, 25) in _holidays_of_years(validate_country(country), year, year)


@lru_cache(maxsize=64)
def _holidays_of_years(country: str, first_year: int, last_year: int) -> dict[dt.date, str]:
    calendar = holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))
    return dict(sorted(calendar.items()))


def public_holidays(start: dt.date, end: dt.date, country: str = "US") -> dict[dt.date, str]:
    """Public holidays of ``country`` from ``start`` to ``end`` (both inclusive), sorted by date.

    Uses the `holidays` package, including observed days. ``country`` is an ISO 3166 code
    understood by ``holidays.country_holidays`` (e.g. "US", "GB", "DE"); an unknown one raises
    ``ValueError`` (:func:`validate_country`).
    """
    country = validate_country(country)
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


# Far-away sentinels around every event list: with no event near, a distance is clipped anyway.
_NEVER_BEFORE = np.datetime64("1000-01-01", "D")
_NEVER_AFTER = np.datetime64("9000-01-01", "D")


def _event_days(years: Iterable[int], event) -> np.ndarray:
    """Sorted datetime64[D] days ``event(year)`` of every year of ``years``, between sentinels."""
    days = [event(y) for y in years]
    return np.array([_NEVER_BEFORE, *days, _NEVER_AFTER], dtype="datetime64[D]")


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
      all 0/1;
    - ``days_to_black_friday``: days until the next Black Friday (0 on Black Friday),
      ``days_since_black_friday``: days since the last Black Friday (0 on Black Friday),
      ``days_to_christmas``: days until 25 December of this year, or of the next year after
      Christmas (0 on Christmas Day); each clipped to ``[0, EVENT_WINDOW_DAYS]``.

    Black Friday / Cyber Monday count only in :data:`BLACK_FRIDAY_COUNTRIES`, Christmas only in
    years where 25 December is a public holiday of ``country``; elsewhere their flags are 0 and
    their distances :data:`EVENT_WINDOW_DAYS` (neutral). ``country``: an ISO 3166 code of the
    `holidays` package; an unknown one raises ``ValueError`` (:func:`validate_country`).
    """
    country = validate_country(country)
    index = _to_index(dates)
    columns = list(CALENDAR_FEATURES)
    if len(index) == 0:
        return pd.DataFrame({c: np.array([], dtype=np.int64) for c in columns}, index=index)

    days = index.values.astype("datetime64[D]")
    first_year, last_year = int(index.year.min()), int(index.year.max())
    years = range(first_year - 1, last_year + 2)

    bf_years = years if country in BLACK_FRIDAY_COUNTRIES else range(0)
    bf = _event_days(bf_years, black_friday)
    cm = _event_days(bf_years, cyber_monday)
    around = _holidays_of_years(country, years.start, years.stop - 1)
    christmas_years = [y for y in years if dt.date(y, 12, 25) in around]
    christmas = _event_days(christmas_years, lambda y: dt.date(y, 12, 25))
    hols = np.array(list(around), dtype="datetime64[D]")

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
        "days_to_black_friday": np.clip(_days_to_next(days, bf), 0, window),
        "days_since_black_friday": np.clip(_days_since_last(days, bf), 0, window),
        "days_to_christmas": np.clip(_days_to_next(days, christmas), 0, window),
    }
    return pd.DataFrame(features, index=index, columns=columns)
