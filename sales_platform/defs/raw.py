"""Raw layer: catalog, customers and order lines, from the synthetic shop or the user's files."""

from collections.abc import Callable
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from sales_platform import sources, synthetic, tables
from sales_platform.defs.metadata import markdown_table, table_metadata
from sales_platform.defs.partitions import HISTORY, daily_partitions
from sales_platform.defs.settings import ShopSettings
from sales_platform.storage import DUCKDB_POOL

RAW = "raw"
REJECTED_COLUMNS = list(tables.COLUMNS[tables.ORDERS_REJECTED])


def shop_config(shop: ShopSettings) -> synthetic.ShopConfig:
    return synthetic.ShopConfig(seed=shop.seed, orders_per_day=shop.orders_per_day)


def load_source_orders(
    shop: ShopSettings, first_day: date | None, last_day: date | None
) -> sources.LoadResult:
    if not shop.source_path:
        raise ValueError("SALES_SOURCE=file needs SALES_SOURCE_PATH (a CSV/Parquet file or folder)")
    return sources.load_orders(
        shop.source_path,
        sources.ColumnMapping.from_config(shop.source_mapping or None),
        on_error=shop.on_error,
        start=first_day,
        end=last_day,
    )


def shop_table(
    shop: ShopSettings,
    generate: Callable[[synthetic.ShopConfig], pd.DataFrame],
    derive: Callable[[sources.LoadResult], pd.DataFrame],
) -> pd.DataFrame:
    """A catalog table: the synthetic shop's, or derived from all of the user's orders."""
    if shop.is_synthetic():
        return generate(shop_config(shop))
    return derive(load_source_orders(shop, None, None))


@dg.asset(
    group_name=RAW,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description="Product catalog: id, name, category, price, cost.",
)
def products(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    df = shop_table(shop, synthetic.generate_products, sources.derive_products)
    context.add_output_metadata(table_metadata(df))
    return df


@dg.asset(
    group_name=RAW,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description="Customers: id, name, email, city, signup date.",
)
def customers(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    df = shop_table(shop, synthetic.generate_customers, sources.derive_customers)
    context.add_output_metadata(table_metadata(df))
    return df


def orders_metadata(df: pd.DataFrame, day_range: dict[str, str]) -> dict:
    return {**table_metadata(df), **day_range, "revenue": round(float(df["amount"].sum()), 2)}


def rejected_rows(loaded: sources.LoadResult, first_day: date, last_day: date) -> pd.DataFrame:
    """Rejected rows, each filed under the day of its file (else the first day loaded)."""
    rejected = loaded.rejected.copy()
    file_days = rejected["file"].map(lambda name: sources.day_from_name(str(name)) or first_day)
    rejected["partition_date"] = pd.to_datetime(file_days.clip(first_day, last_day))
    rejected["row"] = rejected["row"].astype("Int64")
    return rejected[REJECTED_COLUMNS]


@dg.multi_asset(
    group_name=RAW,
    pool=DUCKDB_POOL,
    partitions_def=daily_partitions,
    # A backfill of the whole history is one vectorized run, not one run per day.
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[products, customers],
    outs={
        tables.ORDERS: dg.AssetOut(
            kinds={"python", "duckdb"},
            metadata={"partition_expr": "order_date"},
            description="Order lines, one row each; a partition is one day of orders.",
        ),
        # Only file sources yield it: every output of a day range costs one event per day.
        tables.ORDERS_REJECTED: dg.AssetOut(
            is_required=False,
            kinds={"duckdb"},
            metadata={"partition_expr": "partition_date"},
            description=(
                "Rows of the user's files that failed validation (file, row, column, value, "
                "reason) under SALES_SOURCE_ON_ERROR=quarantine; file sources only."
            ),
        ),
    },
)
def orders(context: dg.AssetExecutionContext, shop: ShopSettings):
    window = context.partition_time_window
    first_day = window.start.date()
    last_day = window.end.date() - timedelta(days=1)
    day_range = {"first_day": first_day.isoformat(), "last_day": last_day.isoformat()}
    if shop.is_synthetic():
        df = synthetic.generate_orders(first_day, last_day, shop_config(shop))
        yield dg.Output(df, output_name=tables.ORDERS, metadata=orders_metadata(df, day_range))
        return
    loaded = load_source_orders(shop, first_day, last_day)
    rejected = rejected_rows(loaded, first_day, last_day)
    yield dg.Output(
        loaded.orders,
        output_name=tables.ORDERS,
        metadata={
            **orders_metadata(loaded.orders, day_range),
            "rejected_rows": len(rejected),
            "load": dg.MetadataValue.json(loaded.metadata()),
        },
    )
    reasons = rejected.groupby("reason").size().rename("rows").reset_index()
    yield dg.Output(
        rejected,
        output_name=tables.ORDERS_REJECTED,
        metadata={
            **table_metadata(rejected),
            **day_range,
            "reasons": dg.MetadataValue.md(markdown_table(reasons)),
        },
    )


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
