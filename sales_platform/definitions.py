"""The one Definitions object: each stage's small Definitions, merged, plus the resources."""

from __future__ import annotations

import dagster as dg

from sales_platform import forecasting, tables
from sales_platform.defs import checks, forecast, jobs, model, products, promotions, raw, sales
from sales_platform.resources import (
    duckdb_path_from_env,
    forecast_settings_from_env,
    product_settings_from_env,
    shop_settings_from_env,
)
from sales_platform.storage import DuckDBDatabase, SalesDuckDBIOManager, type_name

defs = dg.Definitions.merge(
    raw.defs,
    promotions.defs,
    sales.defs,
    model.defs,
    forecast.defs,
    checks.defs,
    jobs.defs,
    products.defs,
    dg.Definitions(
        resources={
            "io_manager": SalesDuckDBIOManager(
                database=duckdb_path_from_env(),
                model_types=[type_name(forecasting.FittedForecaster)],
                trusted_model_types=list(forecasting.TRUSTED_TYPES),
                column_types=tables.COLUMNS,
            ),
            "duckdb": DuckDBDatabase(database=duckdb_path_from_env()),
            "shop": shop_settings_from_env(),
            "forecast_settings": forecast_settings_from_env(),
            "product_settings": product_settings_from_env(),
        },
        # One process, steps in order: DuckDB has one writer at a time, and on two cores the
        # per-step process start-up of the multiprocess executor would cost more than the steps.
        executor=dg.in_process_executor,
    ),
)
