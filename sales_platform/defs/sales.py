"""Daily sales per series, aggregated inside DuckDB, and the features the forecaster learns from."""

from datetime import timedelta

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from sales_platform import forecasting, tables
from sales_platform.asset_metadata import OWNERS, table_metadata
from sales_platform.defs.raw import products
from sales_platform.resources import ShopSettings
from sales_platform.storage import DUCKDB_POOL

SALES = "sales"

# Total and per-category sums in one pass (GROUPING SETS), then every day x series zero-filled.
DAILY_SALES_SQL = f"""
WITH lines AS (
    SELECT o.order_date AS date, coalesce(p.category, 'uncategorized') AS category,
           o.order_id, o.quantity, o.amount
    FROM {tables.ORDERS} o LEFT JOIN {tables.PRODUCTS} p USING (product_id)
),
sums AS (
    SELECT date, coalesce(category, '{tables.TOTAL_SERIES}') AS series,
           sum(amount) AS revenue, sum(quantity) AS units, count(DISTINCT order_id) AS orders
    FROM lines
    GROUP BY GROUPING SETS ((date), (date, category))
),
days AS (
    SELECT CAST(unnest(generate_series(min(date), max(date), INTERVAL 1 DAY)) AS DATE) AS date
    FROM lines
),
-- One category only: its series would repeat the total.
series AS (
    SELECT DISTINCT series FROM sums
    WHERE series = '{tables.TOTAL_SERIES}' OR (SELECT count(DISTINCT category) FROM lines) > 1
)
SELECT d.date, s.series,
       coalesce(x.revenue, 0)::DOUBLE AS revenue,
       coalesce(x.units, 0)::BIGINT AS units,
       coalesce(x.orders, 0)::BIGINT AS orders
FROM days d CROSS JOIN series s
LEFT JOIN sums x ON x.date = d.date AND x.series = s.series
ORDER BY s.series, d.date
"""


@dg.asset(
    group_name=SALES,
    owners=OWNERS,
    kinds={"duckdb", "sql"},
    pool=DUCKDB_POOL,
    deps=[tables.ORDERS, products],
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=48), warn_window=timedelta(hours=26)
    ),
    description=(
        "Revenue, units and orders per day for the total and each category, aggregated in "
        "DuckDB SQL; days without sales are present with zero."
    ),
)
def daily_sales(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> pd.DataFrame:
    with duckdb.get_connection() as conn:
        df = conn.execute(DAILY_SALES_SQL).df()
    df["date"] = pd.to_datetime(df["date"])
    context.add_output_metadata(
        {
            **table_metadata(df),
            "first_day": str(df["date"].min().date()) if len(df) else "",
            "last_day": str(df["date"].max().date()) if len(df) else "",
            "series": dg.MetadataValue.json(sorted(df["series"].unique().tolist())),
        }
    )
    return df


@dg.asset(
    group_name=SALES,
    owners=OWNERS,
    kinds={"python", "pandas", "duckdb"},
    pool=DUCKDB_POOL,
    description=(
        "Lags, rolling statistics of past values only, calendar and shop-event features per day "
        "and series: what the model is trained on."
    ),
)
def sales_features(
    context: dg.AssetExecutionContext,
    daily_sales: pd.DataFrame,
    promotions: pd.DataFrame,
    shop: ShopSettings,
) -> pd.DataFrame:
    df = forecasting.build_features(daily_sales, shop.forecast_config(), promotions)
    context.add_output_metadata(table_metadata(df, preview_rows=5))
    return df


defs = dg.Definitions(assets=[daily_sales, sales_features])
