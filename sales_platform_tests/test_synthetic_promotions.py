"""The synthetic shop's promotions: its own rule, published as a table a real shop would export."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from sales_platform import synthetic
from sales_platform.synthetic.promotions import (
    PROMOTION_COLUMNS,
    promotion_days,
    promotion_events,
    promotions,
)

D = dt.date


def expand(table: pd.DataFrame) -> set[D]:
    """Every day of every promotion of ``table`` (end dates inclusive)."""
    return {
        day.date()
        for row in table.itertuples(index=False)
        for day in pd.date_range(row.start_date, row.end_date)
    }


def test_one_row_per_event_with_inclusive_end_dates():
    table = synthetic.promotions(D(2025, 1, 1), D(2025, 12, 31), synthetic.ShopConfig())
    assert list(table.columns) == list(PROMOTION_COLUMNS)
    assert str(table["start_date"].dtype) == "datetime64[ns]"
    assert str(table["end_date"].dtype) == "datetime64[ns]"
    assert (table["start_date"] == table["start_date"].dt.normalize()).all()
    assert table["scope"].isna().all()  # every event of the synthetic shop is shop-wide
    assert table["name"].tolist() == [
        "Spring sale",
        "Summer sale",
        "Back-to-school weekend",
        "Singles' Day",
    ]
    days = (table["end_date"] - table["start_date"]).dt.days + 1
    assert days.tolist() == [7, 3, 2, 1]
    spring = table.iloc[0]
    assert spring["start_date"] == pd.Timestamp("2025-03-10")  # the second Monday of March
    assert spring["end_date"] == pd.Timestamp("2025-03-16")
    assert table.iloc[3]["start_date"] == table.iloc[3]["end_date"] == pd.Timestamp("2025-11-11")
    assert table["start_date"].is_monotonic_increasing


def test_an_event_that_straddles_the_range_is_kept_whole():
    table = promotions(D(2025, 3, 12), D(2025, 3, 13))
    assert len(table) == 1
    assert (table.iloc[0]["start_date"], table.iloc[0]["end_date"]) == (
        pd.Timestamp("2025-03-10"),
        pd.Timestamp("2025-03-16"),
    )
    assert promotions(D(2025, 3, 17), D(2025, 7, 7)).empty
    empty = promotions(D(2025, 3, 17), D(2025, 7, 7))
    assert list(empty.columns) == list(PROMOTION_COLUMNS)
    assert str(empty["start_date"].dtype) == "datetime64[ns]"


def test_the_plan_covers_the_future_a_year_past_the_history():
    history_end = D(2025, 10, 31)
    table = promotions(D(2024, 7, 1), history_end + dt.timedelta(days=365))
    assert table["end_date"].max() >= pd.Timestamp("2026-08-01")
    future = table[table["start_date"] > pd.Timestamp(history_end)]
    assert future["name"].tolist() == [
        "Singles' Day",
        "Spring sale",
        "Summer sale",
        "Back-to-school weekend",
    ]
    # Same rule in any year, also far ahead; the seed does not change the plan.
    far = promotions(D(2031, 1, 1), D(2031, 12, 31), synthetic.ShopConfig(seed=7))
    assert len(far) == 4 and far.iloc[0]["start_date"].weekday() == 0


@pytest.mark.parametrize("year", [2019, 2024, 2025, 2026, 2031])
def test_the_table_holds_exactly_the_days_the_demand_model_promotes(year):
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    promoted = {d.date() for d in days[promotion_days(days)]}
    assert expand(promotions(D(year, 1, 1), D(year, 12, 31))) == promoted
    assert len(promoted) == 7 + 3 + 2 + 1
    events = promotion_events(year)
    assert [first.weekday() for first, _, _ in events[:3]] == [0, 1, 5]
    assert promotion_days(pd.DatetimeIndex([])).shape == (0,)


def test_the_demand_model_sells_more_on_the_published_promotion_days():
    config = synthetic.ShopConfig()
    expected = synthetic.expected_demand(D(2025, 2, 1), D(2025, 12, 20), config)
    total = expected[expected["series"] == "total"].set_index("date")["expected_revenue"]
    for row in promotions(D(2025, 2, 1), D(2025, 9, 30), config).itertuples(index=False):
        for day in pd.date_range(row.start_date, row.end_date):
            neighbours = [day + pd.Timedelta(weeks=k) for k in (-2, 2)]
            assert total.loc[day] > 1.2 * total.loc[neighbours].mean(), (row.name, day)


# SHA-256 of the CSV of the orders and expected demand, generated before the promotion rule moved
# out of the calendar (commit e1cc76e): the generator's demand must not change. An intended change
# of the synthetic shop updates these figures in the same commit, saying why.
GOLDEN = {
    (D(2025, 11, 20), D(2025, 12, 5)): (
        4166,
        "b82864ffdba18642e50075694a8a23e52d948816b2beb3d3dca36dd81e208099",
        "e36588122d4bd227ae91afa77dd170e164c41151c2ccc2bddfb7805ddd1e665a",
    ),
    (D(2025, 3, 1), D(2025, 3, 20)): (
        4149,
        "7580b60f63e0ae749ee7e1d727b86561a419de8fd1250aa0a6db40516eb36e86",
        "86a539076344938f6cc9b0f7b4d69b9955ca121e6e4512faa6945ef6683c20f2",
    ),
}


@pytest.mark.parametrize(("start", "end"), list(GOLDEN))
def test_orders_and_expected_demand_are_byte_identical_to_before(start, end):
    config = synthetic.ShopConfig(seed=42, orders_per_day=200.0)
    orders = synthetic.generate_orders(start, end, config)
    expected = synthetic.expected_demand(start, end, config)
    rows, orders_sha, expected_sha = GOLDEN[(start, end)]
    assert len(orders) == rows
    assert hashlib.sha256(orders.to_csv(index=False).encode()).hexdigest() == orders_sha
    csv = expected.to_csv(index=False, float_format="%.10g")
    assert hashlib.sha256(csv.encode()).hexdigest() == expected_sha
    assert np.isfinite(expected["expected_revenue"]).all()
