"""The retail calendar: holidays, retail days by country and the known-in-advance feature frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sales_platform import calendar

D = dt.date


@pytest.mark.parametrize(
    ("year", "bf", "cm"),
    [
        (2023, D(2023, 11, 24), D(2023, 11, 27)),
        (2024, D(2024, 11, 29), D(2024, 12, 2)),
        (2025, D(2025, 11, 28), D(2025, 12, 1)),
        (2026, D(2026, 11, 27), D(2026, 11, 30)),
    ],
)
def test_known_black_fridays_and_cyber_mondays(year, bf, cm):
    assert calendar.black_friday(year) == bf
    assert calendar.cyber_monday(year) == cm


@given(st.integers(min_value=1950, max_value=2200))
def test_black_friday_is_the_friday_after_the_fourth_thursday(year):
    bf = calendar.black_friday(year)
    assert bf.weekday() == 4
    assert D(year, 11, 23) <= bf <= D(year, 11, 29)
    thursdays = [D(year, 11, d) for d in range(1, 31) if D(year, 11, d).weekday() == 3]
    assert bf - dt.timedelta(days=1) == thursdays[3]
    assert calendar.cyber_monday(year).weekday() == 0
    assert (calendar.cyber_monday(year) - bf).days == 3


def test_public_holidays_us_and_other_countries():
    us = calendar.public_holidays(D(2025, 1, 1), D(2025, 12, 31))
    assert us[D(2025, 7, 4)] == "Independence Day"
    assert D(2025, 12, 25) in us
    assert D(2025, 11, 27) in us  # Thanksgiving
    assert D(2025, 12, 26) not in us
    assert list(us) == sorted(us)
    # Both ends are inclusive; an empty range is empty.
    assert list(calendar.public_holidays(D(2025, 7, 4), D(2025, 7, 4))) == [D(2025, 7, 4)]
    assert calendar.public_holidays(D(2025, 7, 5), D(2025, 7, 3)) == {}
    gb = calendar.public_holidays(D(2025, 12, 1), D(2025, 12, 31), country="GB")
    assert D(2025, 12, 26) in gb  # Boxing Day
    # Spanning years works.
    span = calendar.public_holidays(D(2024, 12, 20), D(2025, 1, 5))
    assert set(span) == {D(2024, 12, 25), D(2025, 1, 1)}


def test_feature_frame_shape_dtypes_and_index():
    dates = pd.date_range("2024-01-01", "2026-12-31", freq="D")
    features = calendar.calendar_features(dates)
    assert list(features.columns) == list(calendar.CALENDAR_FEATURES)
    assert len(features) == len(dates)
    assert all(pd.api.types.is_integer_dtype(t) for t in features.dtypes)
    assert isinstance(features.index, pd.DatetimeIndex)
    assert features.index.equals(dates)
    assert features.index.tz is None
    assert features.notna().all().all()
    assert features["day_of_week"].between(0, 6).all()
    assert features["week_of_month"].between(1, 5).all()
    assert features["day_of_year"].between(1, 366).all()
    assert set(features["is_weekend"].unique()) == {0, 1}
    for column in ("days_to_black_friday", "days_since_black_friday", "days_to_christmas"):
        assert features[column].between(0, calendar.EVENT_WINDOW_DAYS).all()
    # Exactly one Black Friday and one Cyber Monday per year.
    assert features.groupby(features.index.year)["is_black_friday"].sum().tolist() == [1, 1, 1]
    assert features.groupby(features.index.year)["is_cyber_monday"].sum().tolist() == [1, 1, 1]


def test_features_of_single_days():
    f = calendar.calendar_features(
        ["2025-11-27", "2025-11-28", "2025-11-29", "2025-10-01", "2025-09-01", "2025-12-01"]
    )
    bf = f.loc["2025-11-28"]
    assert bf["is_black_friday"] == 1 and bf["days_to_black_friday"] == 0
    assert bf["days_since_black_friday"] == 0
    thanksgiving = f.loc["2025-11-27"]
    assert thanksgiving["days_to_black_friday"] == 1 and thanksgiving["is_holiday"] == 1
    assert thanksgiving["days_since_black_friday"] == 60  # last year's is long ago: clipped
    after = f.loc["2025-11-29"]
    assert after["days_since_black_friday"] == 1 and after["days_to_black_friday"] == 60
    assert f.loc["2025-10-01", "days_to_black_friday"] == 58
    assert f.loc["2025-09-01", "days_to_black_friday"] == 60
    cm = f.loc["2025-12-01"]
    assert cm["is_cyber_monday"] == 1 and cm["days_since_black_friday"] == 3
    assert cm["days_to_christmas"] == 24 and cm["week_of_month"] == 1 and cm["month"] == 12


def test_days_to_christmas_counts_to_this_or_next_year():
    f = calendar.calendar_features(pd.date_range("2025-12-23", "2025-12-27"))
    assert f["days_to_christmas"].tolist() == [2, 1, 0, 60, 60]
    late = calendar.calendar_features(["2025-11-30", "2026-12-31"])
    assert late["days_to_christmas"].tolist() == [25, 60]


def test_flags_agree_with_the_event_functions():
    dates = pd.date_range("2024-01-01", "2025-12-31")
    f = calendar.calendar_features(dates)
    holidays = calendar.public_holidays(D(2024, 1, 1), D(2025, 12, 31))
    flagged = {d.date() for d in f.index[f["is_holiday"] == 1]}
    assert flagged == set(holidays)
    assert {d.date() for d in f.index[f["is_black_friday"] == 1]} == {
        D(2024, 11, 29),
        D(2025, 11, 28),
    }


def test_future_dates_and_other_inputs():
    future = calendar.calendar_features(pd.date_range("2031-11-20", periods=15))
    assert future.loc["2031-11-28", "is_black_friday"] == 1
    assert future.loc["2031-12-01", "is_cyber_monday"] == 1
    # Input order and duplicates are kept; times dropped; time zones removed (wall clock kept).
    mixed = calendar.calendar_features(
        pd.Series(pd.to_datetime(["2026-01-02 23:30", "2025-01-01 08:00", "2026-01-02 00:00"]))
    )
    assert list(mixed.index) == list(pd.to_datetime(["2026-01-02", "2025-01-01", "2026-01-02"]))
    assert mixed["is_holiday"].tolist() == [0, 1, 0]
    aware = pd.DatetimeIndex(["2025-11-28 23:00"]).tz_localize("America/New_York")
    assert calendar.calendar_features(aware)["is_black_friday"].tolist() == [1]
    assert calendar.calendar_features([D(2025, 12, 25)])["is_holiday"].tolist() == [1]
    empty = calendar.calendar_features([])
    assert empty.empty and list(empty.columns) == list(calendar.CALENDAR_FEATURES)
    assert calendar.calendar_features(["2025-12-26"], country="GB")["is_holiday"].tolist() == [1]


def _brute_force_days_to_bf(day: D) -> int:
    year = day.year
    bf = calendar.black_friday(year)
    if bf < day:
        bf = calendar.black_friday(year + 1)
    return min((bf - day).days, calendar.EVENT_WINDOW_DAYS)


@settings(max_examples=60, deadline=None)
@given(
    st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)),
    st.integers(min_value=0, max_value=400),
)
def test_features_of_a_day_do_not_depend_on_the_other_dates(day, span):
    """Any date's features are the same alone or in a range, and match a brute-force reference."""
    alone = calendar.calendar_features([day])
    dates = pd.date_range(day - dt.timedelta(days=span), day + dt.timedelta(days=span // 2))
    in_range = calendar.calendar_features(dates).loc[[pd.Timestamp(day)]]
    pd.testing.assert_frame_equal(alone, in_range)
    row = alone.iloc[0]
    assert row["days_to_black_friday"] == _brute_force_days_to_bf(day)
    assert row["day_of_week"] == day.weekday()
    assert row["week_of_month"] == (day.day - 1) // 7 + 1
    xmas = D(day.year, 12, 25) if day <= D(day.year, 12, 25) else D(day.year + 1, 12, 25)
    assert row["days_to_christmas"] == min((xmas - day).days, 60)
    assert np.issubdtype(alone.to_numpy().dtype, np.integer)


def test_the_calendar_knows_no_shop_promotions():
    """Promotions are the shop's data (the `promotions` asset), not the calendar's."""
    assert not any("promotion" in name for name in calendar.CALENDAR_FEATURES)
    assert not any("promotion" in name for name in calendar.__all__)
    assert not hasattr(calendar, "promotion_dates")
    assert calendar.CALENDAR_FEATURES == (
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
    # The synthetic shop's spring sale (second Monday of March 2025) is an ordinary day here.
    spring = calendar.calendar_features(pd.date_range("2025-03-10", "2025-03-16"))
    assert spring[["is_holiday", "is_black_friday", "is_cyber_monday"]].to_numpy().sum() == 0


BLACK_FRIDAY_WEEKS = pd.date_range("2024-10-01", "2026-01-31")


@pytest.mark.parametrize("country", ["US", "GB", "DE", "BR", "AU"])
def test_black_friday_features_are_active_where_it_is_a_retail_day(country):
    f = calendar.calendar_features(BLACK_FRIDAY_WEEKS, country=country)
    assert country in calendar.BLACK_FRIDAY_COUNTRIES and calendar.celebrates_black_friday(country)
    assert f.loc["2025-11-28", "is_black_friday"] == 1
    assert f.loc["2025-12-01", "is_cyber_monday"] == 1
    assert f["is_black_friday"].sum() == 2 and f["is_cyber_monday"].sum() == 2
    assert f.loc["2025-11-20", "days_to_black_friday"] == 8
    assert f.loc["2025-12-01", "days_since_black_friday"] == 3


@pytest.mark.parametrize("country", ["JP", "CN", "IN", "KR", "SA"])
def test_black_friday_features_are_neutral_elsewhere(country):
    f = calendar.calendar_features(BLACK_FRIDAY_WEEKS, country=country)
    assert not calendar.celebrates_black_friday(country)
    assert (f["is_black_friday"] == 0).all() and (f["is_cyber_monday"] == 0).all()
    window = calendar.EVENT_WINDOW_DAYS
    assert (f["days_to_black_friday"] == window).all()
    assert (f["days_since_black_friday"] == window).all()
    # Everything else is the same as anywhere: the date parts.
    us = calendar.calendar_features(BLACK_FRIDAY_WEEKS, country="US")
    parts = ["day_of_week", "day_of_month", "day_of_year", "week_of_month", "month", "is_weekend"]
    pd.testing.assert_frame_equal(f[parts], us[parts])


@pytest.mark.parametrize("country", ["JP", "CN", "SA"])
def test_days_to_christmas_is_neutral_without_a_christmas_holiday(country):
    assert not calendar.has_christmas_holiday(country, 2025)
    f = calendar.calendar_features(pd.date_range("2025-11-01", "2026-01-10"), country=country)
    assert (f["days_to_christmas"] == calendar.EVENT_WINDOW_DAYS).all()
    assert f.loc["2025-12-25", "is_holiday"] == 0


@pytest.mark.parametrize("country", ["US", "GB", "DE", "IN", "PH"])
def test_days_to_christmas_counts_where_christmas_is_a_holiday(country):
    assert calendar.has_christmas_holiday(country, 2025)
    f = calendar.calendar_features(pd.date_range("2025-12-20", "2025-12-26"), country=country)
    assert f["days_to_christmas"].tolist() == [5, 4, 3, 2, 1, 0, 60]
    assert f.loc["2025-12-25", "is_holiday"] == 1


@pytest.mark.parametrize(
    ("given", "normalized"),
    [("US", "US"), (" us ", "US"), ("usa", "US"), ("UK", "GB"), ("jp", "JP")],
)
def test_validate_country_normalizes_known_codes(given, normalized):
    assert calendar.validate_country(given) == normalized
    # Any form works wherever a country is taken.
    assert calendar.calendar_features(["2025-07-04"], country=given).shape == (1, 12)


@pytest.mark.parametrize("code", ["XX", "", "Narnia", "U.S."])
def test_an_unknown_country_is_a_clear_value_error(code):
    message = (
        f"SALES_COUNTRY={code.strip().upper()!r} is not a country the holidays package knows; "
        "use an ISO 3166 alpha-2 code such as US, GB, DE"
    )
    for call in (
        lambda: calendar.validate_country(code),
        lambda: calendar.calendar_features(["2025-01-01"], country=code),
        lambda: calendar.public_holidays(D(2025, 1, 1), D(2025, 1, 2), country=code),
    ):
        with pytest.raises(ValueError) as raised:
            call()
        assert str(raised.value) == message
        assert not isinstance(raised.value, NotImplementedError)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(calendar.BLACK_FRIDAY_COUNTRIES | {"JP", "CN", "IN", "BR", "ZA", "IL"})),
    st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)),
)
def test_features_of_any_country_are_bounded_integers(country, day):
    f = calendar.calendar_features(pd.date_range(day, periods=45), country=country)
    assert list(f.columns) == list(calendar.CALENDAR_FEATURES)
    assert np.issubdtype(f.to_numpy().dtype, np.integer)
    for column in ("days_to_black_friday", "days_since_black_friday", "days_to_christmas"):
        assert f[column].between(0, calendar.EVENT_WINDOW_DAYS).all()
