"""The pipeline's resources, built from the environment's settings (`sales_platform.settings`).

Run-time settings reach assets as `ConfigurableResource`s whose fields are `EnvVar`s when a variable
is set, so the UI shows where a value comes from. The names and defaults live in
`sales_platform.settings`, the one home of the README's Configuration table.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field

from sales_platform import forecasting, sources
from sales_platform import settings as S
from sales_platform.calendar import validate_country


def env_or_default(name: str, default: Any) -> Any:
    """`EnvVar(name)` when the variable is set (shown as such in the UI), else the default."""
    if os.environ.get(name, "") == "":
        return default
    if isinstance(default, bool):
        return dg.EnvVar(name)
    if isinstance(default, int):
        return dg.EnvVar.int(name)
    if isinstance(default, float):
        return float(os.environ[name])
    return dg.EnvVar(name)


class ShopSettings(dg.ConfigurableResource):
    """Where raw orders come from: the synthetic shop, or the user's own files."""

    source: str = Field(default=S.DEFAULT_SOURCE, description="`synthetic` or `file`")
    source_path: str = Field(default="", description="CSV/Parquet file or folder (file source)")
    source_mapping: str = Field(
        default="", description="JSON object from our column names to the file's (file source)"
    )
    on_error: str = Field(
        default=S.DEFAULT_ON_ERROR,
        description="`fail` the run, or `quarantine` bad rows in orders_rejected",
    )
    max_rejected: float = Field(
        default=sources.DEFAULT_MAX_REJECTED,
        description="share of a load's rows that may be rejected before the load is refused",
    )
    seed: int = Field(default=S.DEFAULT_SEED, description="seed of the synthetic shop")
    orders_per_day: float = Field(
        default=S.DEFAULT_ORDERS_PER_DAY, description="average order lines per day (synthetic)"
    )
    n_products: int = Field(
        default=S.DEFAULT_PRODUCTS, description="size of the synthetic shop's product catalog"
    )
    country: str = Field(
        default=S.DEFAULT_COUNTRY,
        description="ISO 3166 code of the shop's country: its public holidays and retail days",
    )
    promotions_path: str = Field(
        default="", description="CSV file of the shop's promotions (file source); empty: none"
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.country_code()

    def country_code(self) -> str:
        """The shop's country, normalized; a clear ValueError when the holidays package lacks it."""
        return validate_country(self.country)

    def forecast_config(self) -> forecasting.ForecastConfig:
        """The forecaster's settings for this shop: its country's calendar."""
        return forecasting.ForecastConfig(country=self.country_code())

    def is_synthetic(self) -> bool:
        if self.source not in ("synthetic", "file"):
            raise ValueError(f"SALES_SOURCE must be `synthetic` or `file`, not {self.source!r}")
        return self.source == "synthetic"


class ForecastSettings(dg.ConfigurableResource):
    """How far ahead to forecast."""

    horizon: int = Field(default=S.DEFAULT_HORIZON, description="days forecast ahead")


class ProductSettings(dg.ConfigurableResource):
    """Replenishment: how long an order takes to arrive and how often stock should suffice."""

    lead_time_days: int = Field(
        default=S.DEFAULT_LEAD_TIME_DAYS, description="days from ordering stock to its arrival"
    )
    service_level: float = Field(
        default=S.DEFAULT_SERVICE_LEVEL,
        description="probability that the ordered quantity covers the lead time's demand",
    )


def product_settings_from_env() -> ProductSettings:
    return ProductSettings(
        lead_time_days=env_or_default(S.LEAD_TIME_DAYS_ENV, S.DEFAULT_LEAD_TIME_DAYS),
        service_level=env_or_default(S.SERVICE_LEVEL_ENV, S.DEFAULT_SERVICE_LEVEL),
    )


def shop_settings_from_env() -> ShopSettings:
    # An unknown SALES_COUNTRY, or a SALES_CURRENCY that is no currency code, is a clear error
    # when the definitions load, not at the end of a run.
    validate_country(os.environ.get(S.COUNTRY_ENV) or S.DEFAULT_COUNTRY)
    S.currency_code()
    return ShopSettings(
        source=env_or_default(S.SOURCE_ENV, S.DEFAULT_SOURCE),
        source_path=env_or_default(S.SOURCE_PATH_ENV, ""),
        source_mapping=env_or_default(S.SOURCE_MAPPING_ENV, ""),
        on_error=env_or_default(S.SOURCE_ON_ERROR_ENV, S.DEFAULT_ON_ERROR),
        max_rejected=env_or_default(S.SOURCE_MAX_REJECTED_ENV, sources.DEFAULT_MAX_REJECTED),
        seed=env_or_default(S.SEED_ENV, S.DEFAULT_SEED),
        orders_per_day=env_or_default(S.ORDERS_PER_DAY_ENV, S.DEFAULT_ORDERS_PER_DAY),
        n_products=env_or_default(S.PRODUCTS_ENV, S.DEFAULT_PRODUCTS),
        country=env_or_default(S.COUNTRY_ENV, S.DEFAULT_COUNTRY),
        promotions_path=env_or_default(S.PROMOTIONS_PATH_ENV, ""),
    )


def forecast_settings_from_env() -> ForecastSettings:
    return ForecastSettings(horizon=env_or_default(S.FORECAST_HORIZON_ENV, S.DEFAULT_HORIZON))


def duckdb_path_from_env() -> Any:
    return env_or_default(S.DUCKDB_PATH_ENV, S.DEFAULT_DUCKDB_PATH)
