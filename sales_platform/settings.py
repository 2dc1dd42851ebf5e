"""The environment's settings (the README's Configuration table): names, defaults, plain readers.

The one home of every `SALES_*` variable name and default. No Dagster in here: the pipeline's
resources (`sales_platform/resources.py`) are built from these names and defaults, and the
dashboard and the benchmarks read the database path through :func:`database_path`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DUCKDB_PATH_ENV = "SALES_DUCKDB_PATH"
SOURCE_ENV = "SALES_SOURCE"
SOURCE_PATH_ENV = "SALES_SOURCE_PATH"
SOURCE_MAPPING_ENV = "SALES_SOURCE_MAPPING"
SOURCE_ON_ERROR_ENV = "SALES_SOURCE_ON_ERROR"
SOURCE_MAX_REJECTED_ENV = "SALES_SOURCE_MAX_REJECTED"
SEED_ENV = "SALES_SEED"
ORDERS_PER_DAY_ENV = "SALES_ORDERS_PER_DAY"
PRODUCTS_ENV = "SALES_PRODUCTS"
COUNTRY_ENV = "SALES_COUNTRY"
PROMOTIONS_PATH_ENV = "SALES_PROMOTIONS_PATH"
FORECAST_HORIZON_ENV = "SALES_FORECAST_HORIZON"
LEAD_TIME_DAYS_ENV = "SALES_LEAD_TIME_DAYS"
SERVICE_LEVEL_ENV = "SALES_SERVICE_LEVEL"
HISTORY_START_ENV = "SALES_HISTORY_START"
HISTORY_END_ENV = "SALES_HISTORY_END"
SCHEDULE_CRON_ENV = "SALES_SCHEDULE_CRON"
CURRENCY_ENV = "SALES_CURRENCY"

DEFAULT_DUCKDB_PATH = "data/sales.duckdb"
DEFAULT_SOURCE = "synthetic"
DEFAULT_ON_ERROR = "fail"
DEFAULT_SEED = 42
DEFAULT_ORDERS_PER_DAY = 1400.0
DEFAULT_HORIZON = 30
DEFAULT_COUNTRY = "US"
DEFAULT_PRODUCTS = 250
DEFAULT_LEAD_TIME_DAYS = 7
DEFAULT_SERVICE_LEVEL = 0.95
HISTORY_MONTHS = 24
DEFAULT_SCHEDULE_CRON = "0 2 * * *"
DEFAULT_CURRENCY = "USD"
CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "BRL": "R$",
    "KRW": "₩",
    "ILS": "₪",
    "TRY": "₺",
    "NGN": "₦",
    "PHP": "₱",
    "VND": "₫",
}
"""Signs of currencies whose sign names them alone; any other code is written before the amount
(``CHF 1,234``)."""


def database_path(environ: Mapping[str, str] | None = None) -> str:
    """The DuckDB file every asset lives in: $SALES_DUCKDB_PATH, else data/sales.duckdb."""
    env = os.environ if environ is None else environ
    return env.get(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB_PATH


def currency_code(environ: Mapping[str, str] | None = None) -> str:
    """The shop's currency: $SALES_CURRENCY, an ISO 4217 code (default USD)."""
    env = os.environ if environ is None else environ
    raw = env.get(CURRENCY_ENV) or DEFAULT_CURRENCY
    code = raw.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(
            f"{CURRENCY_ENV}={raw!r} is not a currency code: use the three letters of ISO 4217, "
            "e.g. EUR, GBP, INR"
        )
    return code


def currency_sign(environ: Mapping[str, str] | None = None) -> str:
    """What amounts of money are written with: the sign of the shop's currency, or its code and
    a space where a sign would be ambiguous."""
    code = currency_code(environ)
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def money_text(value: float, decimals: int = 0, environ: Mapping[str, str] | None = None) -> str:
    """``1234567.8`` -> ``$1,234,568`` in the shop's currency; negatives as ``-$1,234``."""
    minus = "-" if value < 0 else ""
    return f"{minus}{currency_sign(environ)}{abs(value):,.{decimals}f}"


def source_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where what a file source's definitions load learns is kept (its window of days), beside
    the DuckDB file: a folder the pipeline can always write."""
    return Path(database_path(environ)).parent / ".sales_cache"


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
        end = _parse_date(HISTORY_END_ENV)
        start = _parse_date(HISTORY_START_ENV)
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
            raise ValueError(f"{HISTORY_START_ENV} {start} is after the last day {last_day}")
        return cls(start=start, end=end)

    def last_day(self, today: date | None = None) -> date:
        return self.end or (today or utc_today()) - timedelta(days=1)


def file_source_window_from_env() -> tuple[date, date | None] | None:
    """First and last order date of the file source the environment names (None otherwise).

    A source of dated daily files is a feed that keeps growing: its history stays open up to
    yesterday, so that the schedule and the sensor see each new day."""
    # Imported here: readers of the database path (the dashboard) do not load the file sources.
    from sales_platform import sources

    path = os.environ.get(SOURCE_PATH_ENV, "")
    if os.environ.get(SOURCE_ENV) != "file" or not path:
        return None
    window = sources.data_window(
        path, os.environ.get(SOURCE_MAPPING_ENV) or None, cache_dir=source_cache_dir()
    )
    if window and sources.list_source_days(path):
        return window[0], None
    return window
