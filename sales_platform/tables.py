"""The stored tables' contract: names and columns that readers (the dashboard) may rely on.

Every asset is a table of the same name in the DuckDB file. Only the columns listed here are part of
the public contract; an asset may store more. Dates are DATE, timestamps are timezone-naive UTC.
"""

from __future__ import annotations

TOTAL_SERIES = "total"
"""`series` value of the shop-wide series; every other series value is a product category."""

PRODUCTS = "products"
CUSTOMERS = "customers"
ORDERS = "orders"
ORDERS_REJECTED = "orders_rejected"
EXPECTED_DEMAND = "expected_demand"
PROMOTIONS = "promotions"
DAILY_SALES = "daily_sales"
SALES_FEATURES = "sales_features"
SALES_MODEL = "sales_model"
BACKTEST = "backtest"
BACKTEST_PREDICTIONS = "backtest_predictions"
SALES_FORECAST = "sales_forecast"
FORECAST_HISTORY = "forecast_history"
FORECAST_ACCURACY = "forecast_accuracy"
PRODUCT_DAILY_SALES = "product_daily_sales"
PRODUCT_BACKTEST = "product_backtest"
PRODUCT_FORECAST = "product_forecast"
REPLENISHMENT = "replenishment"
ALL_PRODUCTS = "__all__"
"""`product_id` of a `product_backtest` row that pools a category's products."""

# A published forecast: the point forecast, its 80%/95% intervals and where it came from.
FORECAST_COLUMNS: dict[str, str] = {
    "origin": "DATE",  # the last day of data the forecast was made from
    "date": "DATE",
    "series": "VARCHAR",
    "horizon": "INTEGER",
    "forecast": "DOUBLE",
    "lower_80": "DOUBLE",
    "upper_80": "DOUBLE",
    "lower_95": "DOUBLE",
    "upper_95": "DOUBLE",
    "method": "VARCHAR",
    "model_version": "VARCHAR",
    "run_id": "VARCHAR",
    "created_at": "TIMESTAMP",
}

COLUMNS: dict[str, dict[str, str]] = {
    PRODUCTS: {
        "product_id": "VARCHAR",
        "name": "VARCHAR",
        "category": "VARCHAR",
        "price": "DOUBLE",
        "cost": "DOUBLE",
    },
    CUSTOMERS: {
        "customer_id": "VARCHAR",
        "name": "VARCHAR",
        "email": "VARCHAR",
        "city": "VARCHAR",
        "signup_date": "DATE",
    },
    # One row per order line; (order_id, line_number) is unique.
    ORDERS: {
        "order_id": "VARCHAR",
        "line_number": "INTEGER",
        "order_ts": "TIMESTAMP",
        "order_date": "DATE",
        "customer_id": "VARCHAR",
        "product_id": "VARCHAR",
        "quantity": "INTEGER",
        "unit_price": "DOUBLE",
        "amount": "DOUBLE",
    },
    # Rows of the user's files that failed validation, under the day they were loaded for.
    ORDERS_REJECTED: {
        "partition_date": "DATE",
        "file": "VARCHAR",
        "row": "BIGINT",
        "column": "VARCHAR",
        "value": "VARCHAR",
        "reason": "VARCHAR",
    },
    # What the synthetic shop expected to sell: the oracle a forecast is compared with.
    EXPECTED_DEMAND: {
        "date": "DATE",
        "series": "VARCHAR",
        "expected_revenue": "DOUBLE",
    },
    # The shop's promotions, one row per event: first and last day (inclusive), scope (NULL for
    # the whole shop, else a category) and name. Known ahead, so a forecast may use them.
    PROMOTIONS: {
        "start_date": "DATE",
        "end_date": "DATE",
        "scope": "VARCHAR",
        "name": "VARCHAR",
    },
    # One row per day x series, zero-filled; series is TOTAL_SERIES or a category.
    DAILY_SALES: {
        "date": "DATE",
        "series": "VARCHAR",
        "revenue": "DOUBLE",
        "units": "BIGINT",
        "orders": "BIGINT",
    },
    # Overall backtest metrics per series and model (model: random_forest or a baseline name).
    BACKTEST: {
        "series": "VARCHAR",
        "model": "VARCHAR",
        "mae": "DOUBLE",
        "rmse": "DOUBLE",
        "smape": "DOUBLE",
        "mase": "DOUBLE",
        "bias": "DOUBLE",
        "coverage_80": "DOUBLE",
        "coverage_95": "DOUBLE",
        "width_80": "DOUBLE",
        "width_95": "DOUBLE",
        "folds": "INTEGER",
    },
    # Out-of-sample predictions of every backtest fold (intervals only where the model has them).
    BACKTEST_PREDICTIONS: {
        "series": "VARCHAR",
        "model": "VARCHAR",
        "fold": "INTEGER",
        "origin": "DATE",
        "date": "DATE",
        "horizon": "INTEGER",
        "actual": "DOUBLE",
        "forecast": "DOUBLE",
        "lower_80": "DOUBLE",
        "upper_80": "DOUBLE",
        "lower_95": "DOUBLE",
        "upper_95": "DOUBLE",
    },
    # The latest published forecast: what the dashboard shows.
    SALES_FORECAST: FORECAST_COLUMNS,
    # Every published forecast, one per forecast origin (the day before its first date).
    FORECAST_HISTORY: FORECAST_COLUMNS,
    # Accuracy of past published forecasts against the actuals that arrived since.
    FORECAST_ACCURACY: {
        "series": "VARCHAR",
        "horizon": "INTEGER",
        "forecasts": "BIGINT",
        "mae": "DOUBLE",
        "mape": "DOUBLE",
        "bias": "DOUBLE",
        "coverage_80": "DOUBLE",
        "coverage_95": "DOUBLE",
    },
    # Product tables (partitioned by category: each partition is one category's rows).
    # Units and revenue per product and day, from its first sale to the last day, zero-filled.
    PRODUCT_DAILY_SALES: {
        "category": "VARCHAR",
        "product_id": "VARCHAR",
        "date": "DATE",
        "units": "BIGINT",
        "revenue": "DOUBLE",
    },
    # Rolling-origin backtest per product and method (scaled_mae, rmsse: by the in-sample naive
    # errors); product_id = ALL_PRODUCTS pools a category (wrmsse; coverage of the service-level
    # quantity for method "published"). `chosen`: the method its demand class publishes.
    PRODUCT_BACKTEST: {
        "category": "VARCHAR",
        "product_id": "VARCHAR",
        "demand_class": "VARCHAR",
        "method": "VARCHAR",
        "folds": "BIGINT",
        "mae": "DOUBLE",
        "rmse": "DOUBLE",
        "bias": "DOUBLE",
        "scaled_mae": "DOUBLE",
        "rmsse": "DOUBLE",
        "wrmsse": "DOUBLE",
        "coverage": "DOUBLE",
        "chosen": "BOOLEAN",
        "dispersion_daily": "DOUBLE",
        "dispersion_lead": "DOUBLE",
    },
    # Per active product and day: units with 80%/95% bounds, revenue (its category's
    # sales_forecast revenue split by units x price), the method, and whether it is new
    # (a category-share forecast). Discontinued products have no rows.
    PRODUCT_FORECAST: {
        "category": "VARCHAR",
        "product_id": "VARCHAR",
        "date": "DATE",
        "horizon": "BIGINT",
        "units": "DOUBLE",
        "lower_80": "DOUBLE",
        "upper_80": "DOUBLE",
        "lower_95": "DOUBLE",
        "upper_95": "DOUBLE",
        "revenue": "DOUBLE",
        "method": "VARCHAR",
        "demand_class": "VARCHAR",
        "is_new": "BOOLEAN",
    },
    # Per active product: expected demand over the lead time and the quantity that covers it
    # with probability service_level.
    REPLENISHMENT: {
        "category": "VARCHAR",
        "product_id": "VARCHAR",
        "lead_time_days": "BIGINT",
        "service_level": "DOUBLE",
        "expected_demand": "DOUBLE",
        "quantity": "BIGINT",
        "safety_stock": "DOUBLE",
        "dispersion": "DOUBLE",
        "method": "VARCHAR",
        "demand_class": "VARCHAR",
        "is_new": "BOOLEAN",
    },
}

# The pandas dtypes of an `orders` frame as the raw layer yields it (synthetic shop or file source).
ORDERS_DTYPES: dict[str, str] = {
    "order_id": "string[pyarrow]",
    "line_number": "int32",
    "order_ts": "datetime64[ns]",
    "order_date": "datetime64[ns]",
    "customer_id": "string[pyarrow]",
    "product_id": "string[pyarrow]",
    "quantity": "int32",
    "unit_price": "float64",
    "amount": "float64",
}
