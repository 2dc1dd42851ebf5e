"""Order lines of the synthetic shop: schema, keys, values and determinism per (seed, day)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sales_platform import calendar, tables
from sales_platform.synthetic import (
    ShopConfig,
    generate_customers,
    generate_orders,
    generate_products,
    orders_by_month,
)
from sales_platform.synthetic.demand import day_plan

D = dt.date
CONFIG = ShopConfig()
TINY = ShopConfig(seed=11, orders_per_day=60.0, n_products=30, n_customers=400)

EXPECTED_DTYPES = tables.ORDERS_DTYPES


def assert_dtypes(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(EXPECTED_DTYPES)
    for column, dtype in EXPECTED_DTYPES.items():
        assert frame[column].dtype == dtype, (column, frame[column].dtype)


@pytest.fixture(scope="module")
def november() -> pd.DataFrame:
    """Four weeks around Black Friday 2025, default shop."""
    return generate_orders(D(2025, 11, 10), D(2025, 12, 7), CONFIG)


def test_schema_is_exactly_the_contract(november):
    assert list(november.columns) == list(tables.COLUMNS[tables.ORDERS])
    assert_dtypes(november)
    assert november["order_id"].dtype == pd.StringDtype("pyarrow")
    assert november["order_id"].dtype != pd.StringDtype("python")
    assert november.index.equals(pd.RangeIndex(len(november)))
    assert november.notna().all().all()


def test_empty_range_keeps_the_schema():
    empty = generate_orders(D(2025, 1, 2), D(2025, 1, 1), CONFIG)
    assert empty.empty
    assert_dtypes(empty)
    silent = generate_orders(D(2025, 1, 1), D(2025, 1, 3), ShopConfig(orders_per_day=0.0))
    assert silent.empty and list(silent.columns) == list(tables.COLUMNS[tables.ORDERS])


def test_keys_are_unique_and_lines_numbered(november):
    assert not november.duplicated(["order_id", "line_number"]).any()
    assert november["order_id"].str.fullmatch(r"\d{8}-\d{6}").all()
    assert (
        november["order_id"].str.slice(0, 8) == november["order_date"].dt.strftime("%Y%m%d")
    ).all()
    per_order = november.groupby("order_id")["line_number"].agg(["min", "max", "count"])
    assert (per_order["min"] == 1).all()
    assert (per_order["max"] == per_order["count"]).all()
    assert 1.4 < per_order["count"].mean() < 1.8
    # One timestamp and one customer per order.
    assert (november.groupby("order_id")[["order_ts", "customer_id"]].nunique() == 1).all().all()


def test_values_are_consistent(november):
    assert (november["quantity"] >= 1).all()
    assert (november["unit_price"] > 0).all()
    np.testing.assert_array_equal(
        november["amount"], np.round(november["quantity"] * november["unit_price"], 2)
    )
    assert np.allclose(november["unit_price"] * 100, np.round(november["unit_price"] * 100))
    assert (november["order_date"] == november["order_ts"].dt.floor("D")).all()
    assert november["order_ts"].is_monotonic_increasing
    assert set(november["order_date"].dt.date) == {
        D(2025, 11, 10) + dt.timedelta(days=i) for i in range(28)
    }


def test_references_and_signups(november):
    products = generate_products(CONFIG)
    customers = generate_customers(CONFIG).set_index("customer_id")
    assert set(november["product_id"].unique()) <= set(products["product_id"])
    assert set(november["customer_id"].unique()) <= set(customers.index)
    signup = customers["signup_date"].reindex(november["customer_id"].to_numpy()).to_numpy()
    assert (november["order_date"].to_numpy() >= signup).all()


def test_prices_are_discounted_on_event_days_only(november):
    price = generate_products(CONFIG).set_index("product_id")["price"]
    list_price = price.reindex(november["product_id"].to_numpy()).to_numpy()
    ratio = november["unit_price"].to_numpy() / list_price
    day = november["order_date"]
    black_friday = (day == pd.Timestamp(calendar.black_friday(2025))).to_numpy()
    plain = (day == pd.Timestamp("2025-11-18")).to_numpy()
    assert np.allclose(ratio[plain], 1.0)
    assert np.allclose(ratio[black_friday], 0.75, atol=0.01)
    assert np.allclose(ratio[(day == pd.Timestamp("2025-11-11")).to_numpy()], 0.85, atol=0.01)


def test_intraday_profile(november):
    hours = november.drop_duplicates("order_id")["order_ts"].dt.hour
    share = hours.value_counts(normalize=True)
    assert share.loc[[19, 20, 21]].sum() > 3 * share.loc[[3, 4, 5]].sum()
    assert hours.nunique() == 24


def test_a_day_alone_equals_the_same_day_inside_a_range():
    day = D(2025, 11, 28)
    alone = generate_orders(day, day, CONFIG)
    in_range = generate_orders(D(2025, 11, 20), D(2025, 12, 3), CONFIG)
    inside = in_range[in_range["order_date"] == pd.Timestamp(day)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, inside)
    assert len(alone) > 1000


def test_months_concatenated_equal_the_whole_range():
    start, end = D(2025, 1, 30), D(2025, 4, 2)
    months = list(orders_by_month(start, end, TINY))
    assert [(m["order_date"].min().date(), m["order_date"].max().date()) for m in months] == [
        (D(2025, 1, 30), D(2025, 1, 31)),
        (D(2025, 2, 1), D(2025, 2, 28)),
        (D(2025, 3, 1), D(2025, 3, 31)),
        (D(2025, 4, 1), D(2025, 4, 2)),
    ]
    pd.testing.assert_frame_equal(
        pd.concat(months, ignore_index=True), generate_orders(start, end, TINY)
    )
    (empty,) = orders_by_month(end, start, TINY)
    assert_dtypes(empty)
    assert empty.empty


def test_same_seed_same_output_other_seed_other_output():
    first = generate_orders(D(2025, 3, 1), D(2025, 3, 7), TINY)
    again = generate_orders(D(2025, 3, 1), D(2025, 3, 7), ShopConfig(**TINY.__dict__))
    pd.testing.assert_frame_equal(first, again)
    other = generate_orders(
        D(2025, 3, 1), D(2025, 3, 7), ShopConfig(seed=12, orders_per_day=60.0, n_products=30,
                                                 n_customers=400)
    )  # fmt: skip
    assert not first.equals(other)
    assert not np.array_equal(first["order_ts"].to_numpy()[:20], other["order_ts"].to_numpy()[:20])


@settings(max_examples=25, deadline=None)
@given(
    day=st.dates(min_value=D(2018, 1, 1), max_value=D(2035, 12, 31)),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    before=st.integers(min_value=0, max_value=5),
    after=st.integers(min_value=0, max_value=5),
)
def test_determinism_property(day, seed, before, after):
    """For any seed and day, the day's rows do not depend on the range they are generated in."""
    config = ShopConfig(seed=seed, orders_per_day=40.0, n_products=20, n_customers=300)
    alone = generate_orders(day, day, config)
    start, end = day - dt.timedelta(days=before), day + dt.timedelta(days=after)
    in_range = generate_orders(start, end, config)
    inside = in_range[in_range["order_date"] == pd.Timestamp(day)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, inside)
    assert in_range["order_date"].between(pd.Timestamp(start), pd.Timestamp(end)).all()
    assert not in_range.duplicated(["order_id", "line_number"]).any()


def test_volume_scales_with_orders_per_day():
    small = generate_orders(D(2025, 6, 1), D(2025, 6, 14), ShopConfig(orders_per_day=200.0))
    large = generate_orders(D(2025, 6, 1), D(2025, 6, 14), ShopConfig(orders_per_day=2000.0))
    assert 8.5 < len(large) / len(small) < 11.5


def _daily_line_dispersion(noise: float) -> float:
    """Variance / mean of daily lines relative to expectation over a quiet spring stretch."""
    shop = ShopConfig(seed=3, orders_per_day=400.0, demand_noise=noise)
    lines = generate_orders(D(2025, 4, 21), D(2025, 6, 29), shop).groupby("order_date").size()
    expected = day_plan(D(2025, 4, 21), D(2025, 6, 29), shop).lines.sum(axis=1)
    excess = lines.to_numpy() - expected
    return float((excess**2).mean() / expected.mean())


def test_demand_noise_scales_the_day_level_shocks():
    # Without shocks daily line counts are Poisson (variance = mean); the default shocks add
    # a CV of about 6% shop-wide, i.e. a variance of about 0.0036 * mean**2 on top.
    quiet, default = _daily_line_dispersion(0.0), _daily_line_dispersion(1.0)
    assert 0.6 < quiet < 1.5
    assert default > 1.0 + 0.5 * 0.0036 * 400


def test_demand_noise_must_be_non_negative():
    with pytest.raises(ValueError, match="demand_noise"):
        ShopConfig(demand_noise=-0.5)
