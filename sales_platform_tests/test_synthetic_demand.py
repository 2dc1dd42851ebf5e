"""The demand model: an honest oracle, and data with the structure a forecaster must learn."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sales_platform import calendar, tables
from sales_platform.synthetic import (
    CATEGORIES,
    ShopConfig,
    expected_demand,
    generate_orders,
    generate_products,
)
from sales_platform.synthetic.config import REFERENCE_END, REFERENCE_START

D = dt.date
CONFIG = ShopConfig()
START, END = D(2024, 12, 1), D(2026, 11, 30)  # the reference window


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    frame = generate_orders(START, END, CONFIG)
    category = generate_products(CONFIG).set_index("product_id")["category"]
    return frame.assign(category=category.reindex(frame["product_id"].to_numpy()).to_numpy())


@pytest.fixture(scope="module")
def revenue(orders) -> pd.DataFrame:
    """Realized revenue per day (rows) and series (columns)."""
    daily = orders.groupby(["order_date", "category"])["amount"].sum().unstack(fill_value=0.0)
    daily[tables.TOTAL_SERIES] = daily.sum(axis=1)
    return daily


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    frame = expected_demand(START, END, CONFIG)
    return frame.pivot(index="date", columns="series", values="expected_revenue")


def test_expected_demand_shape_and_dtypes():
    frame = expected_demand(D(2025, 1, 1), D(2025, 1, 10), CONFIG)
    assert list(frame.columns) == list(tables.COLUMNS[tables.EXPECTED_DEMAND])
    assert frame["date"].dtype == "datetime64[ns]"
    assert frame["expected_revenue"].dtype == np.float64
    assert len(frame) == 10 * (1 + len(CATEGORIES))
    assert frame.loc[:6, "series"].tolist() == [tables.TOTAL_SERIES, *CATEGORIES]
    assert not frame.duplicated(["date", "series"]).any()
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    assert (frame["expected_revenue"] > 0).all()
    assert expected_demand(D(2025, 1, 2), D(2025, 1, 1), CONFIG).empty


def test_total_is_the_sum_of_categories(expected):
    np.testing.assert_allclose(
        expected[tables.TOTAL_SERIES], expected[list(CATEGORIES)].sum(axis=1), rtol=1e-12
    )


def test_expected_demand_of_a_day_does_not_depend_on_the_range():
    day = expected_demand(D(2025, 11, 28), D(2025, 11, 28), CONFIG).reset_index(drop=True)
    window = expected_demand(D(2025, 6, 1), D(2026, 1, 31), CONFIG)
    inside = window[window["date"] == pd.Timestamp("2025-11-28")].reset_index(drop=True)
    pd.testing.assert_frame_equal(day, inside)
    future = expected_demand(D(2030, 1, 1), D(2030, 1, 31), CONFIG)
    assert future["expected_revenue"].notna().all()


def test_average_volume_over_the_reference_window(orders):
    assert (START, END) == (REFERENCE_START, REFERENCE_END)
    lines_per_day = len(orders) / ((END - START).days + 1)
    assert lines_per_day == pytest.approx(CONFIG.orders_per_day, rel=0.02)


def test_realized_revenue_matches_expected_demand(revenue, expected):
    """The oracle is honest: what the generator draws averages to what it says it expects."""
    for series in (tables.TOTAL_SERIES, *CATEGORIES):
        assert revenue[series].sum() == pytest.approx(expected[series].sum(), rel=0.03), series
    monthly_real = revenue[tables.TOTAL_SERIES].resample("MS").sum()
    monthly_expected = expected[tables.TOTAL_SERIES].resample("MS").sum()
    assert ((monthly_real / monthly_expected - 1).abs() < 0.05).all()
    # And daily noise is real but moderate.
    daily_error = revenue[tables.TOTAL_SERIES] / expected[tables.TOTAL_SERIES] - 1
    assert 0.02 < daily_error.std() < 0.2


def test_upward_trend(revenue):
    total = revenue[tables.TOTAL_SERIES]
    first, second = total.loc[:"2025-11-30"].sum(), total.loc["2025-12-01":].sum()
    assert 1.10 < second / first < 1.30


def test_december_peak_and_post_christmas_drop(revenue):
    total = revenue[tables.TOTAL_SERIES].loc["2025-01-01":"2025-12-31"]
    monthly = total.groupby(total.index.month).mean()
    assert monthly.loc[12] > 1.1 * monthly.mean()
    assert monthly.loc[12] > monthly.loc[10]
    run_up = total.loc["2025-12-15":"2025-12-22"].mean()
    after = total.loc["2025-12-26":"2025-12-31"].mean()
    assert run_up > 1.5 * after
    assert total.loc["2025-12-25"] < 0.5 * run_up


@pytest.mark.parametrize("year", [2025, 2026])
def test_black_friday_and_cyber_monday_spikes(revenue, year):
    total = revenue[tables.TOTAL_SERIES]
    bf = pd.Timestamp(calendar.black_friday(year))
    cm = pd.Timestamp(calendar.cyber_monday(year))
    before = total.loc[bf - pd.Timedelta(days=21) : bf - pd.Timedelta(days=2)]
    assert total.loc[bf] > 2.2 * before.mean()
    assert total.loc[cm] > 1.8 * before.mean()
    # Black Friday and Cyber Monday are the two biggest days of the season.
    season = total.loc[before.index[0] : cm]
    assert set(season.nlargest(2).index) == {bf, cm}
    if year == 2025:  # the window ends on 30 Nov 2026: only 2025 has weeks after Cyber Monday
        after = total.loc[cm + pd.Timedelta(days=8) : cm + pd.Timedelta(days=21)]
        assert total.loc[bf] > 1.4 * after.mean()  # the December ramp has begun
        season = total.loc[before.index[0] : after.index[-1]]
        assert set(season.nlargest(2).index) == {bf, cm}


def test_weekly_pattern_differs_by_category(revenue):
    by_weekday = revenue.groupby(revenue.index.dayofweek).mean()
    profile = by_weekday / by_weekday.mean()
    # Sports peaks on Monday, Home and Toys at the weekend.
    assert profile.loc[0, "Sports"] > 1.1 > profile.loc[5, "Sports"]
    assert profile.loc[5, "Home"] > 1.1 > profile.loc[0, "Home"]
    assert profile.loc[5, "Toys"] > profile.loc[0, "Toys"] + 0.2
    assert (profile["Sports"] - profile["Home"]).abs().max() > 0.25


def test_yearly_seasonality_differs_by_category(revenue):
    year = revenue.loc["2025-01-01":"2025-12-31"]
    share = year.groupby(year.index.month).sum()
    share = share / share.sum()
    summer, winter = [6, 7], [1, 2]
    assert share.loc[summer, "Sports"].sum() > 1.3 * share.loc[winter, "Sports"].sum()
    assert share.loc[11:12, "Toys"].sum() > share.loc[11:12, "Sports"].sum() * 1.3


def test_holidays_and_promotions_in_expected_demand(expected):
    total = expected[tables.TOTAL_SERIES]

    def vs_same_weekday(day: str) -> float:
        ts = pd.Timestamp(day)
        neighbours = [ts + pd.Timedelta(weeks=k) for k in (-2, -1, 1, 2)]
        return total.loc[ts] / total.loc[neighbours].mean()

    assert vs_same_weekday("2025-07-04") < 0.9  # Independence Day
    assert vs_same_weekday("2025-05-26") < 0.9  # Memorial Day
    assert vs_same_weekday("2025-03-12") > 1.2  # spring sale
    assert vs_same_weekday("2026-07-15") > 1.2  # summer sale
    assert vs_same_weekday("2026-08-15") > 1.2  # back-to-school weekend


def test_long_tail_product_popularity(orders):
    share = orders["product_id"].value_counts(normalize=True)
    top_tenth = share.iloc[: len(share) // 10].sum()
    assert top_tenth > 0.35
    assert share.iloc[0] > 20 * share.median()
