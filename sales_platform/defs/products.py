"""Product-level demand: daily units per product, backtest, forecast and replenishment.

Partitioned by category (static keys read when the definitions load: the synthetic shop's
categories, or a file source's from the stored `products` table), so each category can run as
its own step, run or process. A run over several categories is one step per asset (a
single-run backfill): the forest is then fitted once over all their products. They run in
`product_forecast_job`, after `sales_forecast_job` (a job cannot mix the daily partitions of
`orders` with these).
"""

import os

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from sales_platform import settings, tables
from sales_platform.asset_metadata import OWNERS, table_metadata
from sales_platform.forecasting import products as fp
from sales_platform.resources import ForecastSettings, ProductSettings, ShopSettings
from sales_platform.storage import DUCKDB_POOL, StorageReadError, query
from sales_platform.synthetic import CATEGORIES

PRODUCTS_GROUP = "products"
BACKTEST_HORIZON = 28
BACKTEST_FOLDS = 5
REVENUE_TOLERANCE = 1e-6


def category_keys() -> list[str]:
    """The categories to partition by: the synthetic shop's, or those of the stored catalog of
    a file source (none before its first load: run `sales_forecast_job`, then reload)."""
    if os.environ.get(settings.SOURCE_ENV, settings.DEFAULT_SOURCE) != "file":
        return sorted(CATEGORIES)
    try:
        stored = query(
            settings.database_path(), f"SELECT DISTINCT category FROM {tables.PRODUCTS} ORDER BY 1"
        )
    except StorageReadError:
        return []
    return [str(c) for c in stored["category"].dropna()]


category_partitions = dg.StaticPartitionsDefinition(category_keys())


def all_categories_tags() -> dict[str, str]:
    """Run tags that make one run cover every category (single-run backfill)."""
    keys = category_partitions.get_partition_keys()
    if not keys:
        return {}
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }


PRODUCT_DAILY_SALES_SQL = f"""
WITH lines AS (
    SELECT o.product_id, p.category, CAST(o.order_date AS DATE) AS date,
           sum(o.quantity) AS units, sum(o.amount) AS revenue
    FROM {tables.ORDERS} o JOIN {tables.PRODUCTS} p USING (product_id)
    WHERE p.category IN (SELECT unnest(?::VARCHAR[]))
    GROUP BY ALL
),
firsts AS (SELECT product_id, category, min(date) AS first_day FROM lines GROUP BY ALL),
-- Each product from its first sale to the shop's last day: zero-filled only where it existed.
grid AS (
    SELECT f.product_id, f.category, CAST(unnest(generate_series(f.first_day,
           (SELECT CAST(max(order_date) AS DATE) FROM {tables.ORDERS}), INTERVAL 1 DAY)) AS DATE)
           AS date
    FROM firsts f
)
SELECT g.category, g.product_id, g.date,
       coalesce(l.units, 0)::BIGINT AS units, coalesce(l.revenue, 0)::DOUBLE AS revenue
FROM grid g LEFT JOIN lines l USING (product_id, date)
ORDER BY g.category, g.product_id, g.date
"""

PARTITIONED = {
    "group_name": PRODUCTS_GROUP,
    "owners": OWNERS,
    "pool": DUCKDB_POOL,
    "partitions_def": category_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "metadata": {"partition_expr": "category"},
}


@dg.asset(
    **PARTITIONED,
    kinds={"duckdb", "sql"},
    # Every day of orders feeds every category.
    deps=[dg.AssetDep(tables.ORDERS, partition_mapping=dg.AllPartitionMapping()), tables.PRODUCTS],
    description=(
        "Units and revenue per product and day, aggregated in DuckDB SQL; a product's days run "
        "from its first sale to the last day, zero-filled."
    ),
)
def product_daily_sales(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> pd.DataFrame:
    with duckdb.get_connection() as conn:
        df = conn.execute(PRODUCT_DAILY_SALES_SQL, [list(context.partition_keys)]).df()
    df["date"] = pd.to_datetime(df["date"])
    context.add_output_metadata(
        {**table_metadata(df, preview_rows=5), "products": int(df["product_id"].nunique())}
    )
    return df


def _panel(product_daily_sales: pd.DataFrame) -> fp.ProductPanel | None:
    return fp.to_panel(product_daily_sales) if len(product_daily_sales) else None


@dg.asset(
    **PARTITIONED,
    kinds={"scikitlearn", "duckdb"},
    description=(
        "Rolling-origin backtest (5 folds x 28 days, refit per fold) of every product method "
        "and the published choice per demand class: scaled MAE, RMSSE, WRMSSE per category, "
        "coverage of the service-level quantity, and the dispersions the bounds use."
    ),
)
def product_backtest(
    context: dg.AssetExecutionContext,
    product_daily_sales: pd.DataFrame,
    promotions: pd.DataFrame,
    shop: ShopSettings,
    product_settings: ProductSettings,
) -> pd.DataFrame:
    panel = _panel(product_daily_sales)
    if panel is None:
        df = pd.DataFrame({c: [] for c in tables.COLUMNS[tables.PRODUCT_BACKTEST]})
        return df
    result = fp.run_product_backtest(
        panel,
        BACKTEST_HORIZON,
        BACKTEST_FOLDS,
        product_settings.lead_time_days,
        product_settings.service_level,
        promotions,
        shop.country_code(),
    )
    df = result.metrics
    pooled = df[df["product_id"] == tables.ALL_PRODUCTS]
    context.add_output_metadata(
        {
            **table_metadata(df, preview_rows=5),
            "folds": len(result.folds),
            "choice": dg.MetadataValue.json(result.calibration.choice),
            "coverage_service_level": round(float(result.coverage), 4),
            "wrmsse": dg.MetadataValue.json(
                pooled.groupby("method")["wrmsse"].mean().round(4).to_dict()
            ),
        }
    )
    return df


PRODUCT_FORECAST_CHECKS = [
    dg.AssetCheckSpec(
        "revenue_adds_up_to_sales_forecast",
        asset=tables.PRODUCT_FORECAST,
        description="Each category's product revenue of a day equals its sales_forecast revenue.",
    ),
    dg.AssetCheckSpec(
        "every_active_product_forecast",
        asset=tables.PRODUCT_FORECAST,
        description="Every product sold in the last 90 days has a forecast for every day.",
    ),
    dg.AssetCheckSpec(
        "units_non_negative",
        asset=tables.PRODUCT_FORECAST,
        description="Units and bounds are finite, non-negative and ordered.",
    ),
]


def revenue_check(forecast: pd.DataFrame, sales_forecast: pd.DataFrame) -> dg.AssetCheckResult:
    published = sales_forecast.assign(date=pd.to_datetime(sales_forecast["date"]))
    sums = forecast.groupby(["category", "date"], as_index=False)["revenue"].sum()
    merged = sums.merge(
        published.rename(columns={"series": "category"})[["category", "date", "forecast"]],
        on=["category", "date"],
    )
    gap = (merged["revenue"] - merged["forecast"]).abs() / merged["forecast"].abs().clip(lower=1)
    bad = merged[gap > REVENUE_TOLERANCE]
    return dg.AssetCheckResult(
        check_name="revenue_adds_up_to_sales_forecast",
        passed=bad.empty,
        metadata={"category_days": len(merged), "mismatched": len(bad)},
    )


def coverage_check(panel: fp.ProductPanel | None, forecast: pd.DataFrame, horizon: int):
    active = set() if panel is None else set(panel.product_id[panel.status() != fp.DISCONTINUED])
    days = forecast.groupby("product_id")["date"].nunique()
    missing = sorted(p for p in active if days.get(p, 0) != horizon)
    return dg.AssetCheckResult(
        check_name="every_active_product_forecast",
        passed=not missing,
        metadata={"active_products": len(active), "missing": dg.MetadataValue.json(missing[:10])},
    )


def non_negative_check(forecast: pd.DataFrame) -> dg.AssetCheckResult:
    values = forecast[["lower_95", "lower_80", "units", "upper_80", "upper_95"]].to_numpy(float)
    ok = np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1)
    ok &= (np.diff(values[:, [0, 1, 3, 4]], axis=1) >= 0).all(axis=1)
    return dg.AssetCheckResult(
        check_name="units_non_negative",
        passed=bool(ok.all()),
        metadata={"bad_rows": int((~ok).sum())},
    )


@dg.multi_asset(
    group_name=PRODUCTS_GROUP,
    pool=DUCKDB_POOL,
    partitions_def=category_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    outs={
        tables.PRODUCT_FORECAST: dg.AssetOut(
            kinds={"scikitlearn", "duckdb"},
            owners=OWNERS,
            metadata={"partition_expr": "category"},
            description=(
                "Per active product and day: units with 80%/95% bounds, method (the choice of "
                "its demand class, or category_share for a new product, flagged is_new) and "
                "revenue coherent with sales_forecast."
            ),
        )
    },
    check_specs=PRODUCT_FORECAST_CHECKS,
)
def product_forecast(
    context: dg.AssetExecutionContext,
    product_daily_sales: pd.DataFrame,
    product_backtest: pd.DataFrame,
    sales_forecast: pd.DataFrame,
    promotions: pd.DataFrame,
    shop: ShopSettings,
    forecast_settings: ForecastSettings,
    product_settings: ProductSettings,
):
    panel = _panel(product_daily_sales)
    calibration = fp.calibration_from_table(product_backtest, product_settings.lead_time_days)
    if panel is None:
        df = pd.DataFrame({c: [] for c in fp.FORECAST_COLUMNS})
    else:
        df = fp.forecast_products(
            panel, forecast_settings.horizon, calibration, promotions, shop.country_code()
        )
        prices = pd.Series(panel.unit_price(), index=panel.product_id)
        df = fp.allocate_revenue(df, prices, sales_forecast, tables.TOTAL_SERIES)
    df = df[list(tables.COLUMNS[tables.PRODUCT_FORECAST])]
    yield dg.Output(
        df,
        output_name=tables.PRODUCT_FORECAST,
        metadata={
            **table_metadata(df, preview_rows=5),
            "products": int(df["product_id"].nunique()),
            "new_products": int(df.loc[df["is_new"].astype(bool), "product_id"].nunique()),
            "methods": dg.MetadataValue.json(
                df.groupby("method")["product_id"].nunique().to_dict()
            ),
        },
    )
    yield revenue_check(df, sales_forecast)
    yield coverage_check(panel, df, forecast_settings.horizon)
    yield non_negative_check(df)


@dg.asset(
    **PARTITIONED,
    kinds={"python", "duckdb"},
    description=(
        "Per active product: expected demand over SALES_LEAD_TIME_DAYS and the quantity that "
        "covers it with probability SALES_SERVICE_LEVEL (from the lead-time distribution)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "quantities_non_negative",
            asset=tables.REPLENISHMENT,
            description="Quantities are whole, non-negative and at least 0 when demand is 0.",
        )
    ],
)
def replenishment(
    context: dg.AssetExecutionContext,
    product_forecast: pd.DataFrame,
    product_backtest: pd.DataFrame,
    product_settings: ProductSettings,
):
    calibration = fp.calibration_from_table(product_backtest, product_settings.lead_time_days)
    df = fp.replenishment(
        product_forecast,
        calibration,
        product_settings.lead_time_days,
        product_settings.service_level,
    )[list(tables.COLUMNS[tables.REPLENISHMENT])]
    yield dg.Output(
        df,
        metadata={
            **table_metadata(df, preview_rows=5),
            "total_quantity": int(df["quantity"].sum()),
            "lead_time_days": product_settings.lead_time_days,
            "service_level": product_settings.service_level,
        },
    )
    bad = df[(df["quantity"] < 0) | (df["expected_demand"] < 0) | df["quantity"].isna()]
    yield dg.AssetCheckResult(
        check_name="quantities_non_negative", passed=bad.empty, metadata={"bad_rows": len(bad)}
    )


product_forecast_job = dg.define_asset_job(
    "product_forecast_job",
    selection=dg.AssetSelection.groups(PRODUCTS_GROUP),
    tags=all_categories_tags(),
    description=(
        "Product demand per category: daily units, backtest, forecast, replenishment. Without "
        "a partition it covers every category in one run; after sales_forecast_job. Launchpad: "
        "leave Partition empty, click Launch Run, then Confirm (this job's tags cover every "
        "category), or pick one category."
    ),
)

# The daily refresh: new units, forecast and quantities; the backtest (refit per fold) is left
# to product_forecast_job, as the shop's daily job leaves its own backtest to the main job.
daily_product_job = dg.define_asset_job(
    "daily_product_job",
    selection=dg.AssetSelection.groups(PRODUCTS_GROUP)
    - dg.AssetSelection.assets(tables.PRODUCT_BACKTEST),
    tags=all_categories_tags(),
    description=(
        "Every category's product units, forecast and replenishment, with the latest stored "
        "product backtest; started by daily_products_sensor after each daily_sales_job."
    ),
)

defs = dg.Definitions(
    assets=[product_daily_sales, product_backtest, product_forecast, replenishment],
    jobs=[product_forecast_job, daily_product_job],
)
