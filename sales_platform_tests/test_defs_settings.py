"""Settings from the environment: defaults, overrides and clear errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from sales_platform.resources import ShopSettings, env_or_default, shop_settings_from_env
from sales_platform.settings import HistoryWindow


def test_default_history_is_about_two_years_ending_yesterday(monkeypatch):
    monkeypatch.delenv("SALES_HISTORY_START", raising=False)
    monkeypatch.delenv("SALES_HISTORY_END", raising=False)
    window = HistoryWindow.from_env(today=date(2026, 11, 28))
    assert window == HistoryWindow(start=date(2024, 11, 1), end=None)
    assert window.last_day(today=date(2026, 11, 28)) == date(2026, 11, 27)
    # In January the window starts in January two years back.
    assert HistoryWindow.from_env(today=date(2026, 1, 1)).start == date(2023, 12, 1)


def test_history_window_from_environment(monkeypatch):
    monkeypatch.setenv("SALES_HISTORY_START", "2024-03-01")
    monkeypatch.setenv("SALES_HISTORY_END", "2025-02-28")
    window = HistoryWindow.from_env(today=date(2026, 11, 28))
    assert (window.start, window.last_day()) == (date(2024, 3, 1), date(2025, 2, 28))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-13-01", "", "SALES_HISTORY_START='2024-13-01' is not an ISO date"),
        ("2025-03-01", "2025-02-28", "after the last day"),
    ],
)
def test_bad_history_window_is_a_clear_error(monkeypatch, start, end, message):
    monkeypatch.setenv("SALES_HISTORY_START", start)
    monkeypatch.setenv("SALES_HISTORY_END", end)
    with pytest.raises(ValueError, match=message):
        HistoryWindow.from_env(today=date(2026, 11, 28))


def test_env_or_default_names_the_variable_when_set(monkeypatch):
    monkeypatch.delenv("SALES_SEED", raising=False)
    assert env_or_default("SALES_SEED", 42) == 42
    monkeypatch.setenv("SALES_SEED", "7")
    value = env_or_default("SALES_SEED", 42)
    assert value.env_var_name == "SALES_SEED"
    assert ShopSettings(seed=value).process_config_and_initialize().seed == 7


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="SALES_SOURCE must be"):
        ShopSettings(source="ftp").is_synthetic()


def test_the_settings_module_is_plain_and_holds_the_database_default():
    """Dashboard and benchmarks read the settings without loading Dagster or the file sources."""
    code = (
        "import sys; from sales_platform import settings; "
        "print(settings.database_path({}), settings.database_path({'SALES_DUCKDB_PATH': '/x.db'}),"
        " 'dagster' in sys.modules, 'sales_platform.sources' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["data/sales.duckdb", "/x.db", "False", "False"]


def test_a_currency_that_is_no_code_fails_when_the_definitions_load(monkeypatch):
    monkeypatch.setenv("SALES_CURRENCY", "pounds")
    with pytest.raises(ValueError, match="SALES_CURRENCY='pounds' is not a currency code"):
        shop_settings_from_env()
    monkeypatch.setenv("SALES_CURRENCY", "gbp")
    assert shop_settings_from_env().source == "synthetic"
