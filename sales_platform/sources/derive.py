"""Catalog tables derived from the order lines, for a shop that has no product/customer file.

Only the accepted sales lines count (what the `orders` table holds): a rejected, cancelled or
out-of-range line makes no product and no customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from .orders import LoadResult

UNCATEGORIZED = "uncategorized"


def _lines(source: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in source.columns]
    if missing:
        raise ValueError(f"order lines lack column(s) {missing}; found {list(source.columns)}")
    return source[columns]


def derive_products(source: LoadResult | pd.DataFrame) -> pd.DataFrame:
    """The `products` table (contract columns and dtypes) from order lines.

    `source` is a `LoadResult` (its ``product_attributes``, which need none of its lines: see
    `OrdersStream.summary`) or a DataFrame of order lines with ``product_id`` and ``unit_price``
    and optionally ``category`` and ``name``/``product_name``.

    - ``name``: the most frequent product name on the lines, else the product id itself;
    - ``category``: the most frequent category on the lines, else ``"uncategorized"``;
    - ``price``: the median unit price of the product's sales lines;
    - ``cost``: NaN -- unknown: order exports carry no cost, and no margin is assumed.
    """
    if isinstance(source, LoadResult):
        attributes = source.product_attributes.set_index("product_id")
        price = attributes["price"]
    else:
        lines = _lines(source, ["product_id", "unit_price"])
        price = lines.groupby("product_id", observed=True)["unit_price"].median()
        attributes = pd.DataFrame(index=pd.Index(lines["product_id"].unique(), name="product_id"))
        for out, candidates in (("name", ("name", "product_name")), ("category", ("category",))):
            col = next((c for c in candidates if c in source.columns), None)
            if col is not None:
                pairs = source[["product_id", col]].dropna()
                mode = (
                    pairs.groupby(["product_id", col], sort=False, observed=True)
                    .size()
                    .reset_index(name="n")
                    .sort_values(["product_id", "n"], ascending=[True, False], kind="stable")
                    .drop_duplicates("product_id")
                    .set_index("product_id")[col]
                )
                attributes[out] = mode.reindex(attributes.index)
    ids = pd.Index(sorted(price.index.astype(str)), name="product_id")
    products = pd.DataFrame(index=ids)
    names = attributes["name"] if "name" in attributes else pd.Series(dtype=object)
    cats = attributes["category"] if "category" in attributes else pd.Series(dtype=object)
    products["name"] = (
        names.reindex(ids).astype(object).where(names.reindex(ids).notna(), ids.to_series())
    )
    products["category"] = cats.reindex(ids).astype(object).fillna(UNCATEGORIZED)
    products["price"] = price.reindex(ids).astype("float64")
    products["cost"] = np.nan
    return products.reset_index().astype(S.PRODUCTS_DTYPES)[list(S.PRODUCTS_DTYPES)]


def derive_customers(source: LoadResult | pd.DataFrame) -> pd.DataFrame:
    """The `customers` table (contract columns and dtypes) from order lines.

    One row per ``customer_id`` seen (``"unknown"`` included when lines had none); ``name``,
    ``email`` and ``city`` are null (an order export does not carry them reliably);
    ``signup_date`` is the customer's first order date.
    `source` is a `LoadResult` (its ``customer_first_days``) or a DataFrame of order lines with
    ``customer_id`` and ``order_date``.
    """
    if isinstance(source, LoadResult):
        days = source.customer_first_days
        first = pd.Series(
            pd.to_datetime(days["first_day"]).to_numpy(), index=days["customer_id"].astype(str)
        )
    else:
        lines = _lines(source, ["customer_id", "order_date"])
        first = (
            pd.to_datetime(lines["order_date"])
            .dt.normalize()
            .groupby(lines["customer_id"].astype(str))
            .min()
        )
    customers = pd.DataFrame({"customer_id": first.index.astype(str)})
    for col in ("name", "email", "city"):
        customers[col] = pd.NA
    customers["signup_date"] = first.to_numpy()
    customers = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return customers.astype(S.CUSTOMERS_DTYPES)[list(S.CUSTOMERS_DTYPES)]
