"""Product assets with `dg.materialize` on a temporary DuckDB file (one category partition)."""

import datetime as dt

import dagster as dg
import duckdb
import pandas as pd

from sales_platform import synthetic, tables
from sales_platform.defs.products import (
    product_backtest,
    product_daily_sales,
    product_forecast,
    replenishment,
)
from sales_platform.resources import ForecastSettings, ProductSettings, ShopSettings
from sales_platform.storage import DuckDBDatabase, SalesDuckDBIOManager, read_table

START, END = dt.date(2025, 1, 1), dt.date(2025, 9, 30)
CATEGORY = "Beauty"


def test_product_assets_for_one_category(tmp_path):
    database = tmp_path / "sales.duckdb"
    config = synthetic.ShopConfig(orders_per_day=300, n_products=60)
    orders = synthetic.generate_orders(START, END, config)
    products = synthetic.generate_products(config)
    days = pd.date_range(END + dt.timedelta(days=1), periods=7, freq="D")
    sales_forecast = pd.DataFrame(
        {"date": days, "series": CATEGORY, "forecast": 1000.0, "horizon": range(1, 8)}
    )
    promotions = synthetic.promotions(START, END + dt.timedelta(days=30), config)
    with duckdb.connect(str(database)) as conn:
        for name, frame in {
            tables.ORDERS: orders,
            tables.PRODUCTS: products,
            tables.SALES_FORECAST: sales_forecast,
            tables.PROMOTIONS: promotions,
        }.items():
            conn.register("frame", frame)
            conn.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            conn.unregister("frame")

    result = dg.materialize(
        [
            dg.AssetSpec(tables.ORDERS),
            dg.AssetSpec(tables.PRODUCTS),
            dg.AssetSpec(tables.SALES_FORECAST),
            dg.AssetSpec(tables.PROMOTIONS),
            product_daily_sales,
            product_backtest,
            product_forecast,
            replenishment,
        ],
        partition_key=CATEGORY,
        resources={
            "io_manager": SalesDuckDBIOManager(database=str(database)),
            "duckdb": DuckDBDatabase(database=str(database)),
            "shop": ShopSettings(),
            "forecast_settings": ForecastSettings(horizon=7),
            "product_settings": ProductSettings(lead_time_days=5, service_level=0.9),
        },
    )
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "revenue_adds_up_to_sales_forecast": True,
        "every_active_product_forecast": True,
        "units_non_negative": True,
        "quantities_non_negative": True,
    }

    daily = read_table(database, tables.PRODUCT_DAILY_SALES)
    beauty = products.loc[products["category"] == CATEGORY, "product_id"]
    assert set(daily["category"]) == {CATEGORY}
    # Units per product match the orders; days run from the first sale to the last day.
    sold = orders[orders["product_id"].isin(beauty)].groupby("product_id")["quantity"].sum()
    assert daily.groupby("product_id")["units"].sum().to_dict() == sold.to_dict()
    first = orders.groupby("product_id")["order_date"].min()
    spans = daily.groupby("product_id")["date"].agg(["min", "max", "count"])
    for product, span in spans.iterrows():
        assert pd.Timestamp(span["min"]) == first[product]
        assert pd.Timestamp(span["max"]) == pd.Timestamp(END)
        assert span["count"] == (pd.Timestamp(END) - first[product]).days + 1

    forecast = read_table(database, tables.PRODUCT_FORECAST)
    assert forecast.groupby("date")["revenue"].sum().round(6).eq(1000.0).all()
    plan = read_table(database, tables.REPLENISHMENT)
    assert set(plan["product_id"]) == set(forecast["product_id"])
    assert (plan["lead_time_days"] == 5).all() and (plan["quantity"] >= 0).all()
    assert (plan["quantity"] >= plan["expected_demand"].round(0) - 1).all()


def test_default_catalog_size_keeps_the_synthetic_shop_unchanged(monkeypatch):
    from sales_platform.defs.raw import shop_config
    from sales_platform.resources import shop_settings_from_env

    monkeypatch.delenv("SALES_PRODUCTS", raising=False)
    default = synthetic.ShopConfig().n_products
    assert shop_config(shop_settings_from_env()).n_products == default
    assert shop_config(ShopSettings(n_products=1200)).n_products == 1200
