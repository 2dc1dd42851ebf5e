"""File sources: the user's own order exports (CSV/Parquet) as the raw layer.

Plain Python (DuckDB for reading, pandera for validation); no Dagster here. The Dagster assets
stream `open_orders` into the `orders` partitions and derive the catalog from its summary
(`derive_products`/`derive_customers`) when the shop has no catalog, and a sensor can call
`list_source_days`/`source_cursor`.

    result = load_orders("exports/", {"order_id": "InvoiceNo"}, on_error="quarantine",
                         start=date(2025, 1, 31), end=date(2025, 1, 31))
    result.orders      # the `orders` contract
    result.rejected    # file, row, column, value, reason
    result.returns     # returns/cancellations, kept out of `orders`
"""

from .derive import UNCATEGORIZED, derive_customers, derive_products
from .errors import SourceError
from .files import day_from_name, list_source_days, source_cursor
from .mapping import ALIASES, DEFAULT_RETURN_STATUSES, ColumnMapping
from .orders import (
    DEFAULT_MAX_REJECTED,
    LoadResult,
    OrdersStream,
    data_window,
    load_orders,
    open_orders,
)
from .schema import LINES_SCHEMA, ORDERS_SCHEMA

__all__ = [
    "ALIASES",
    "DEFAULT_MAX_REJECTED",
    "DEFAULT_RETURN_STATUSES",
    "LINES_SCHEMA",
    "ORDERS_SCHEMA",
    "UNCATEGORIZED",
    "ColumnMapping",
    "LoadResult",
    "OrdersStream",
    "SourceError",
    "data_window",
    "day_from_name",
    "derive_customers",
    "derive_products",
    "list_source_days",
    "load_orders",
    "open_orders",
    "source_cursor",
]
