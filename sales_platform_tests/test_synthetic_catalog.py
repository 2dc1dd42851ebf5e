"""The synthetic shop's configuration, product catalog and customers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sales_platform import tables
from sales_platform.synthetic import (
    CATEGORIES,
    ShopConfig,
    generate_customers,
    generate_products,
)
from sales_platform.synthetic.config import REFERENCE_END, SHOP_LAUNCH

SMALL = ShopConfig(seed=7, n_products=60, n_customers=2000)


def test_config_defaults_and_validation():
    config = ShopConfig()
    assert (config.seed, config.orders_per_day, config.n_products, config.n_customers) == (
        42,
        1400.0,
        250,
        20000,
    )
    assert ShopConfig(seed=np.int64(3)).seed == 3
    for bad in (
        {"seed": -1},
        {"seed": 1.5},
        {"orders_per_day": -1.0},
        {"orders_per_day": float("nan")},
        {"n_products": len(CATEGORIES) - 1},
        {"n_customers": 0},
    ):
        with pytest.raises(ValueError, match="ShopConfig"):
            ShopConfig(**bad)
    with pytest.raises(AttributeError):
        config.seed = 1  # frozen


def test_products_follow_the_contract():
    products = generate_products(ShopConfig())
    assert list(products.columns) == list(tables.COLUMNS[tables.PRODUCTS])
    assert len(products) == 250
    assert products["product_id"].is_unique and products["name"].is_unique
    assert products["product_id"].str.fullmatch(r"P\d{4}").all()
    assert products["product_id"].iloc[0] == "P0001"
    assert products["price"].dtype == np.float64 and products["cost"].dtype == np.float64
    assert products.notna().all().all()
    assert set(products["category"]) == set(CATEGORIES)
    assert (products["price"] > products["cost"]).all() and (products["cost"] > 0).all()
    # Prices are in cents.
    assert np.allclose(products["price"] * 100, np.round(products["price"] * 100))


def test_categories_have_different_price_levels():
    median = generate_products(ShopConfig()).groupby("category")["price"].median()
    assert median["Electronics"] > 2 * median["Home"]
    assert median["Home"] > median["Beauty"]
    assert median.max() / median.min() > 4


def test_products_are_deterministic_per_seed():
    pd.testing.assert_frame_equal(generate_products(SMALL), generate_products(SMALL))
    other = generate_products(ShopConfig(seed=8, n_products=60, n_customers=2000))
    assert not other["price"].equals(generate_products(SMALL)["price"])
    # Volume and customer count do not change the catalog.
    pd.testing.assert_frame_equal(
        generate_products(SMALL),
        generate_products(ShopConfig(seed=7, n_products=60, orders_per_day=5.0, n_customers=9)),
    )


def test_smallest_catalog_has_one_product_per_category():
    products = generate_products(ShopConfig(n_products=len(CATEGORIES)))
    assert sorted(products["category"]) == sorted(CATEGORIES)


def test_customers_follow_the_contract():
    customers = generate_customers(ShopConfig())
    assert list(customers.columns) == list(tables.COLUMNS[tables.CUSTOMERS])
    assert len(customers) == 20000
    assert customers["customer_id"].is_unique and customers["email"].is_unique
    assert customers["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert customers["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@[a-z0-9.-]+\.[a-z]+").all()
    assert customers.notna().all().all()
    signup = customers["signup_date"]
    assert signup.dtype == "datetime64[ns]"
    assert (signup == signup.dt.normalize()).all()
    assert signup.min() >= pd.Timestamp(SHOP_LAUNCH)
    assert signup.max() <= pd.Timestamp(REFERENCE_END)
    assert signup.is_monotonic_increasing  # numbered in signup order
    # More signups as the shop grows.
    per_year = signup.dt.year.value_counts().sort_index()
    assert per_year.loc[2025] > per_year.loc[2019]


def test_customers_are_drawn_from_small_pools():
    customers = generate_customers(ShopConfig())
    first = customers["name"].str.split(" ").str[0]
    assert 50 < first.nunique() <= 300
    assert 50 < customers["city"].nunique() <= 300
    # Long-tailed city sizes: the biggest city is much bigger than the median one.
    sizes = customers["city"].value_counts()
    assert sizes.iloc[0] > 5 * sizes.median()


def test_customers_are_deterministic_per_seed():
    pd.testing.assert_frame_equal(generate_customers(SMALL), generate_customers(SMALL))
    other = generate_customers(ShopConfig(seed=8, n_products=60, n_customers=2000))
    assert not other["name"].equals(generate_customers(SMALL)["name"])
    assert len(generate_customers(ShopConfig(n_customers=1))) == 1


def test_the_shop_and_the_calendar_import_neither_dagster_nor_duckdb():
    code = (
        "import sys, sales_platform.synthetic, sales_platform.calendar; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'duckdb')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
