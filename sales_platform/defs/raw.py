"""Raw layer: catalog, customers and order lines, from the synthetic shop or the user's files."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from sales_platform import sources, synthetic, tables
from sales_platform.defs.metadata import markdown_table, table_metadata
from sales_platform.defs.partitions import HISTORY, daily_partitions
from sales_platform.defs.settings import ShopSettings
from sales_platform.storage import DUCKDB_POOL

RAW = "raw"


def shop_config(shop: ShopSettings) -> synthetic.ShopConfig:
    return synthetic.ShopConfig(seed=shop.seed, orders_per_day=shop.orders_per_day)


def load_source_orders(shop: ShopSettings, start: date | None, end: date | None):
    if not shop.source_path:
        raise ValueError("SALES_SOURCE=file needs SALES_SOURCE_PATH (a CSV/Parquet file or folder)")
    return sources.load_orders(
        shop.source_path,
        sources.ColumnMapping.from_json(shop.source_mapping),
        on_error=shop.on_bad_rows,
        start=start,
        end=end,
    )


@dg.asset(
    group_name=RAW,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description="Product catalog: id, name, category, price, cost.",
)
def products(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    if shop.is_synthetic():
        df = synthetic.generate_products(shop_config(shop))
    else:
        df = sources.derive_products(load_source_orders(shop, None, None))
    context.add_output_metadata(table_metadata(df))
    return df


@dg.asset(
    group_name=RAW,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description="Customers: id, name, email, city, signup date.",
)
def customers(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    if shop.is_synthetic():
        df = synthetic.generate_customers(shop_config(shop))
    else:
        df = sources.derive_customers(load_source_orders(shop, None, None))
    context.add_output_metadata(table_metadata(df))
    return df


@dg.asset(
    group_name=RAW,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    partitions_def=daily_partitions,
    # A backfill of the whole history is one vectorized run, not one run per day.
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"partition_expr": "order_date"},
    deps=[products, customers],
    description="Order lines, one row each; a partition is one day of orders.",
)
def orders(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    window = context.partition_time_window
    first_day = window.start.date()
    last_day = window.end.date() - timedelta(days=1)
    if shop.is_synthetic():
        df = synthetic.generate_orders(first_day, last_day, shop_config(shop))
        rejected_summary = None
    else:
        loaded = load_source_orders(shop, first_day, last_day)
        df = loaded.orders
        rejected_summary = loaded.rejected
    metadata = {
        **table_metadata(df),
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "revenue": float(df["amount"].sum()),
    }
    if rejected_summary is not None:
        metadata["rejected_rows"] = len(rejected_summary)
        if len(rejected_summary):
            reasons = rejected_summary.groupby("reason").size().rename("rows").reset_index()
            metadata["rejected_reasons"] = dg.MetadataValue.md(markdown_table(reasons))
    context.add_output_metadata(metadata)
    return df


@dg.asset(
    group_name=RAW,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description=(
        "What the synthetic shop expected to sell per day and series: the best any forecast "
        "could do (the oracle). Empty for file sources."
    ),
)
def expected_demand(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    if shop.is_synthetic():
        df = synthetic.expected_demand(HISTORY.start, HISTORY.last_day(), shop_config(shop))
    else:
        df = pd.DataFrame({name: [] for name in tables.COLUMNS[tables.EXPECTED_DEMAND]})
    context.add_output_metadata(table_metadata(df))
    return df


defs = dg.Definitions(assets=[products, customers, orders, expected_demand])
