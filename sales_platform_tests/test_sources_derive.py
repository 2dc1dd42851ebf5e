"""Products and customers derived from order lines, for a shop without catalog files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sales_platform import tables
from sales_platform.sources import (
    UNCATEGORIZED,
    derive_customers,
    derive_products,
    load_orders,
)

FIXTURES = Path(__file__).parent / "fixtures" / "orders_files"


def _spelled(frame: pd.DataFrame) -> dict[str, str]:
    return {
        c: f"string[{t.storage}]" if isinstance(t, pd.StringDtype) else str(t)
        for c, t in frame.dtypes.items()
    }


def test_products_from_a_load():
    products = derive_products(load_orders(FIXTURES / "good"))
    assert list(products.columns) == list(tables.COLUMNS[tables.PRODUCTS])
    assert _spelled(products) == {
        "product_id": "string[pyarrow]",
        "name": "string[pyarrow]",
        "category": "string[pyarrow]",
        "price": "float64",
        "cost": "float64",
    }
    assert products["product_id"].is_unique and len(products) == 7
    heart = products.set_index("product_id").loc["85123A"]
    assert heart["name"] == "WHITE HANGING HEART T-LIGHT HOLDER" and heart["category"] == "Home"
    assert heart["price"] == 2.55 and np.isnan(heart["cost"])  # cost is unknown: NaN


def test_products_without_names_or_categories():
    products = derive_products(load_orders(FIXTURES / "good_alt")).set_index("product_id")
    # SKU-3 was only ever cancelled: not a product the shop sold.
    assert list(products.index) == ["SKU-1", "SKU-2"]
    assert products.loc["SKU-1", "category"] == "toys"
    assert products.loc["SKU-1", "name"] == "SKU-1"  # no name column: the id stands in
    uncategorized = derive_products(load_orders(FIXTURES / "good_alt", {"category": ""}))
    assert set(uncategorized["category"]) == {UNCATEGORIZED}


def test_price_is_the_median_unit_price_of_sales_and_the_most_frequent_category_wins():
    lines = pd.DataFrame(
        {
            "product_id": ["A", "A", "A", "B"],
            "unit_price": [1.0, 2.0, 10.0, 3.0],
            "category": ["toys", "toys", "games", None],
            "product_name": ["Ball", None, "Ball", "Bat"],
        }
    )
    products = derive_products(lines).set_index("product_id")
    assert products.loc["A", "price"] == 2.0 and products.loc["A", "category"] == "toys"
    assert products.loc["A", "name"] == "Ball" and products.loc["B", "category"] == UNCATEGORIZED


def test_customers_from_a_load():
    customers = derive_customers(load_orders(FIXTURES / "good"))
    assert list(customers.columns) == list(tables.COLUMNS[tables.CUSTOMERS])
    assert _spelled(customers) == {
        "customer_id": "string[pyarrow]",
        "name": "string[pyarrow]",
        "email": "string[pyarrow]",
        "city": "string[pyarrow]",
        "signup_date": "datetime64[ns]",
    }
    by_id = customers.set_index("customer_id")
    assert list(by_id.index) == ["12583", "13047", "17850", "unknown"]
    assert by_id.loc["13047", "signup_date"] == pd.Timestamp("2025-01-01")  # first order date
    assert by_id.loc["12583", "signup_date"] == pd.Timestamp("2025-01-02")
    assert customers[["name", "email", "city"]].isna().all().all()


def test_customers_from_a_frame():
    when = [
        pd.Timestamp("2025-02-03"),
        pd.Timestamp("2025-01-05"),
        pd.Timestamp("2025-03-01 10:00"),
    ]
    lines = pd.DataFrame({"customer_id": ["c", "c", "d"], "order_date": when})
    customers = derive_customers(lines).set_index("customer_id")
    assert customers.loc["c", "signup_date"] == pd.Timestamp("2025-01-05")
    assert customers.loc["d", "signup_date"] == pd.Timestamp("2025-03-01")  # a date, no time


def test_a_load_s_median_price_is_the_lines_median(tmp_path):
    export = tmp_path / "export.csv"
    prices = {"A": [3.0, 1.0, 10.0, 2.0, 2.0, 2.5], "B": [5.0], "C": [4.0, 1.0, 7.0]}
    rows = [(sku, p) for sku, values in prices.items() for p in values]
    export.write_text(
        "order_id,date,sku,qty,price\n"
        + "".join(f"{i},2025-03-01,{sku},1,{p}\n" for i, (sku, p) in enumerate(rows))
    )
    derived = derive_products(load_orders(export)).set_index("product_id")["price"]
    assert derived.to_dict() == {sku: float(np.median(v)) for sku, v in prices.items()}
