"""The synthetic shop: a catalog, customers and orders drawn from a demand model with known truth.

Plain Python, NumPy, pandas and Faker (no Dagster, no DuckDB). Everything is a function of a
:class:`ShopConfig` (and, for orders and expected demand, of the day), so the orders of a day are
the same whenever and in whichever range they are generated.

- :func:`generate_products` / :func:`generate_customers`: the ``products`` and ``customers`` tables.
- :func:`generate_orders`: order lines of a date range (vectorized per day);
  :func:`orders_by_month`: the same lines one month at a time (bounded memory).
- :func:`expected_demand`: the expected revenue per day and series, the oracle of a forecast.
- :func:`expected_product_units`: the expected units per day and product, the product oracle.
- :func:`promotions`: the shop's promotion plan (one row per event), published as a real shop's.
"""

from sales_platform.synthetic.catalog import generate_products
from sales_platform.synthetic.config import CATEGORIES, ShopConfig
from sales_platform.synthetic.customers import generate_customers
from sales_platform.synthetic.demand import expected_demand, expected_product_units
from sales_platform.synthetic.orders import generate_orders, orders_by_month
from sales_platform.synthetic.promotions import promotions

__all__ = [
    "CATEGORIES",
    "ShopConfig",
    "expected_demand",
    "expected_product_units",
    "generate_customers",
    "generate_orders",
    "generate_products",
    "orders_by_month",
    "promotions",
]
