"""How many units to order: expected demand over the lead time and the service-level quantity.

Per product: ``expected_demand`` = the forecast's sum over the first ``lead_time_days`` days;
``quantity`` = the smallest whole number of units that covers the lead-time demand with
probability ``service_level`` under the negative binomial of :mod:`.distribution`, with the
dispersion the backtest fitted on lead-time sums of the product's demand class. ``safety_stock``
= quantity - expected demand. (Stock on hand and open orders are the buyer's to subtract.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_platform.forecasting.products.distribution import demand_quantile
from sales_platform.forecasting.products.forecast import Calibration

REPLENISHMENT_COLUMNS = [
    "category", "product_id", "lead_time_days", "service_level", "expected_demand", "quantity",
    "safety_stock", "dispersion", "method", "demand_class", "is_new",
]  # fmt: skip


def replenishment(
    product_forecast: pd.DataFrame, calibration: Calibration, lead_time: int, service_level: float
) -> pd.DataFrame:
    """One row per product of ``product_forecast`` (the table of that name)."""
    if not 0 < service_level < 1:
        raise ValueError(f"the service level must lie strictly between 0 and 1: {service_level}")
    if lead_time < 1:
        raise ValueError(f"the lead time must be at least one day, not {lead_time}")
    window = product_forecast[product_forecast["horizon"] <= lead_time]
    per_product = window.groupby(["category", "product_id"], as_index=False, sort=True).agg(
        expected_demand=("units", "sum"),
        method=("method", "first"),
        demand_class=("demand_class", "first"),
        is_new=("is_new", "first"),
    )
    phi = calibration.phi(per_product["demand_class"].to_numpy(), lead=True)
    expected = per_product["expected_demand"].to_numpy(dtype=np.float64)
    quantity = demand_quantile(expected, phi, service_level)
    per_product["lead_time_days"] = lead_time
    per_product["service_level"] = service_level
    per_product["quantity"] = quantity.astype(np.int64)
    per_product["safety_stock"] = quantity - expected
    per_product["dispersion"] = phi
    return per_product[REPLENISHMENT_COLUMNS]
