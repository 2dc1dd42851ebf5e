"""Settings from the environment (the public interface in the README) and their resources.

Run-time settings reach assets as `ConfigurableResource`s whose fields are `EnvVar`s when a variable
is set, so the UI shows where a value comes from. The history window is also needed when the
definitions load (the partitions of `orders` are part of the definitions), so it is read here once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
from pydantic import Field

from sales_platform import forecasting, sources, tables
from sales_platform.calendar import validate_country

DEFAULT_SEED = 42
DEFAULT_ORDERS_PER_DAY = 1400.0
DEFAULT_HORIZON = 30
DEFAULT_COUNTRY = "US"
DEFAULT_PRODUCTS = 250
DEFAULT_LEAD_TIME_DAYS = 7
DEFAULT_SERVICE_LEVEL = 0.95
HISTORY_MONTHS = 24


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


def utc_today() -> date:
    """Today in UTC, the timezone of the daily partitions."""
    return datetime.now(UTC).date()


def _parse_date(name: str) -> date | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise ValueError(f"{name}={raw!r} is not an ISO date (YYYY-MM-DD)") from error


@dataclass(frozen=True)
class HistoryWindow:
    """First and last day of order history; `end` is None when history runs up to yesterday."""

    start: date
    end: date | None

    @classmethod
    def from_env(
        cls,
        today: date | None = None,
        data_window: Callable[[], tuple[date, date | None] | None] | None = None,
    ) -> HistoryWindow:
        """SALES_HISTORY_START/END; what they leave unset comes from `data_window` (a file
        source's first and last order date, the last None for "up to yesterday"), else the last
        two years up to yesterday."""
        today = today or utc_today()
        end = _parse_date("SALES_HISTORY_END")
        start = _parse_date("SALES_HISTORY_START")
        found = data_window() if data_window and (start is None or end is None) else None
        if found:
            start, end = start or found[0], end or found[1]
        last_day = end or today - timedelta(days=1)
        if start is None:
            # The first of the month two years back: about two years of history, and a partition
            # set that stays the same for a whole month instead of shifting every day.
            months = last_day.year * 12 + last_day.month - 1 - HISTORY_MONTHS
            start = date(months // 12, months % 12 + 1, 1)
        if start > last_day:
            raise ValueError(f"SALES_HISTORY_START {start} is after the last day {last_day}")
        return cls(start=start, end=end)

    def last_day(self, today: date | None = None) -> date:
        return self.end or (today or utc_today()) - timedelta(days=1)


def file_source_window_from_env() -> tuple[date, date | None] | None:
    """First and last order date of the file source the environment names (None otherwise).

    A source of dated daily files is a feed that keeps growing: its history stays open up to
    yesterday, so that the schedule and the sensor see each new day."""
    path = os.environ.get("SALES_SOURCE_PATH", "")
    if os.environ.get("SALES_SOURCE") != "file" or not path:
        return None
    window = sources.data_window(path, os.environ.get("SALES_SOURCE_MAPPING") or None)
    if window and sources.list_source_days(path):
        return window[0], None
    return window


class ShopSettings(dg.ConfigurableResource):
    """Where raw orders come from: the synthetic shop, or the user's own files."""

    source: str = Field(default="synthetic", description="`synthetic` or `file`")
    source_path: str = Field(default="", description="CSV/Parquet file or folder (file source)")
    source_mapping: str = Field(
        default="", description="JSON object from our column names to the file's (file source)"
    )
    on_error: str = Field(
        default="fail", description="`fail` the run, or `quarantine` bad rows in orders_rejected"
    )
    max_rejected: float = Field(
        default=sources.DEFAULT_MAX_REJECTED,
        description="share of a load's rows that may be rejected before the load is refused",
    )
    seed: int = Field(default=DEFAULT_SEED, description="seed of the synthetic shop")
    orders_per_day: float = Field(
        default=DEFAULT_ORDERS_PER_DAY, description="average order lines per day (synthetic)"
    )
    n_products: int = Field(
        default=DEFAULT_PRODUCTS, description="size of the synthetic shop's product catalog"
    )
    country: str = Field(
        default=DEFAULT_COUNTRY,
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

    horizon: int = Field(default=DEFAULT_HORIZON, description="days forecast ahead")


class ProductSettings(dg.ConfigurableResource):
    """Replenishment: how long an order takes to arrive and how often stock should suffice."""

    lead_time_days: int = Field(
        default=DEFAULT_LEAD_TIME_DAYS, description="days from ordering stock to its arrival"
    )
    service_level: float = Field(
        default=DEFAULT_SERVICE_LEVEL,
        description="probability that the ordered quantity covers the lead time's demand",
    )


def product_settings_from_env() -> ProductSettings:
    return ProductSettings(
        lead_time_days=env_or_default("SALES_LEAD_TIME_DAYS", DEFAULT_LEAD_TIME_DAYS),
        service_level=env_or_default("SALES_SERVICE_LEVEL", DEFAULT_SERVICE_LEVEL),
    )


def shop_settings_from_env() -> ShopSettings:
    # An unknown SALES_COUNTRY is a clear error when the definitions load, not during a run.
    validate_country(os.environ.get("SALES_COUNTRY") or DEFAULT_COUNTRY)
    return ShopSettings(
        source=env_or_default("SALES_SOURCE", "synthetic"),
        source_path=env_or_default("SALES_SOURCE_PATH", ""),
        source_mapping=env_or_default("SALES_SOURCE_MAPPING", ""),
        on_error=env_or_default("SALES_SOURCE_ON_ERROR", "fail"),
        max_rejected=env_or_default("SALES_SOURCE_MAX_REJECTED", sources.DEFAULT_MAX_REJECTED),
        seed=env_or_default("SALES_SEED", DEFAULT_SEED),
        orders_per_day=env_or_default("SALES_ORDERS_PER_DAY", DEFAULT_ORDERS_PER_DAY),
        n_products=env_or_default("SALES_PRODUCTS", DEFAULT_PRODUCTS),
        country=env_or_default("SALES_COUNTRY", DEFAULT_COUNTRY),
        promotions_path=env_or_default("SALES_PROMOTIONS_PATH", ""),
    )


def forecast_settings_from_env() -> ForecastSettings:
    return ForecastSettings(horizon=env_or_default("SALES_FORECAST_HORIZON", DEFAULT_HORIZON))


def duckdb_path_from_env() -> Any:
    return env_or_default(tables.DUCKDB_PATH_ENV, tables.DEFAULT_DUCKDB_PATH)
