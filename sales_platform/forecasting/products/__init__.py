"""Product-level demand forecasts a buyer can order stock from (no Dagster, no DuckDB).

- :func:`to_panel`: ``product_daily_sales`` -> :class:`ProductPanel` (NaN before a first sale);
  ``status()``: ``new`` (< 28 days since the first sale), ``discontinued`` (no sale in 90 days)
  or ``established``.
- :func:`demand_class`: Syntetos-Boylan classes from ADI and CV².
- Candidates: one global RandomForest over every product (:mod:`.forest`, per-product scaling)
  and statsforecast's CrostonSBA, TSB, ADIDA plus seasonal naive (:mod:`.methods`).
- :func:`run_product_backtest`: rolling origin, per-product scaled MAE / RMSSE, WRMSSE per
  category, the method per demand class and the negative-binomial dispersions
  (:class:`Calibration`); :func:`calibration_from_table` reads them back from the table.
- :func:`forecast_products`: the published forecast (new products: their category share;
  discontinued: none) with 80%/95% bounds; :func:`allocate_revenue`: revenue coherent with
  ``sales_forecast`` (see :mod:`.forecast` for why units are middle-out and revenue top-down).
- :func:`category_targets` / :func:`reconcile`: each category's units forecast as one series and
  its products scaled to add up to it (:mod:`.middle_out`).
- :func:`replenishment`: lead-time demand and the service-level quantity.
- :func:`wrmsse` / :func:`scaled_errors`: the M5-style scores.
"""

from sales_platform.forecasting.products.backtest import (
    ALL_PRODUCTS,
    BACKTEST_COLUMNS,
    PUBLISHED,
    ProductBacktest,
    calibration_from_table,
    run_product_backtest,
)
from sales_platform.forecasting.products.classify import CLASSES, adi_cv2, demand_class
from sales_platform.forecasting.products.distribution import demand_quantile, fit_dispersion
from sales_platform.forecasting.products.forecast import (
    CANDIDATES,
    CATEGORY_SHARE,
    FORECAST_COLUMNS,
    Calibration,
    allocate_revenue,
    candidate_forecasts,
    forecast_products,
)
from sales_platform.forecasting.products.forest import FOREST, ForestConfig, forest_forecast
from sales_platform.forecasting.products.methods import STATISTICAL_METHODS
from sales_platform.forecasting.products.metrics import scaled_errors, wrmsse
from sales_platform.forecasting.products.middle_out import category_targets, reconcile
from sales_platform.forecasting.products.panel import (
    DISCONTINUED,
    DISCONTINUED_DAYS,
    ESTABLISHED,
    NEW,
    NEW_PRODUCT_DAYS,
    ProductPanel,
    to_panel,
)
from sales_platform.forecasting.products.replenishment import REPLENISHMENT_COLUMNS, replenishment

__all__ = [
    "ALL_PRODUCTS",
    "BACKTEST_COLUMNS",
    "CANDIDATES",
    "CATEGORY_SHARE",
    "CLASSES",
    "DISCONTINUED",
    "DISCONTINUED_DAYS",
    "ESTABLISHED",
    "FOREST",
    "FORECAST_COLUMNS",
    "NEW",
    "NEW_PRODUCT_DAYS",
    "PUBLISHED",
    "REPLENISHMENT_COLUMNS",
    "STATISTICAL_METHODS",
    "Calibration",
    "ForestConfig",
    "ProductBacktest",
    "ProductPanel",
    "adi_cv2",
    "allocate_revenue",
    "calibration_from_table",
    "candidate_forecasts",
    "category_targets",
    "demand_class",
    "demand_quantile",
    "fit_dispersion",
    "forecast_products",
    "forest_forecast",
    "reconcile",
    "replenishment",
    "run_product_backtest",
    "scaled_errors",
    "to_panel",
    "wrmsse",
]
