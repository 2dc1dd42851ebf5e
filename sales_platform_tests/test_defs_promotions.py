"""The promotions asset (both sources) with `dg.materialize` on a temporary DuckDB file, and the
settings it reads: SALES_PROMOTIONS_PATH and SALES_COUNTRY."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from sales_platform import tables
from sales_platform.definitions import defs
from sales_platform.defs.promotions import PLAN_AHEAD_DAYS, promotions
from sales_platform.partitions import HISTORY
from sales_platform.resources import ShopSettings, shop_settings_from_env
from sales_platform.storage import SalesDuckDBIOManager, read_table


def materialize(database: Path, **shop) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [promotions],
        resources={
            "io_manager": SalesDuckDBIOManager(database=str(database)),
            "shop": ShopSettings(**shop),
        },
        raise_on_error=False,
    )


def stored_types(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return {row[0]: row[1] for row in conn.execute("DESCRIBE promotions").fetchall()}


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    return result.get_asset_materialization_events()[0].materialization.metadata


def test_synthetic_shop_publishes_its_plan_a_year_past_the_history(tmp_path):
    database = tmp_path / "sales.duckdb"
    result = materialize(database)
    assert result.success
    assert stored_types(database) == tables.COLUMNS[tables.PROMOTIONS]
    stored = read_table(database, tables.PROMOTIONS)
    assert list(stored.columns) == list(tables.COLUMNS[tables.PROMOTIONS])
    horizon_end = pd.Timestamp(HISTORY.last_day() + timedelta(days=PLAN_AHEAD_DAYS))
    assert stored["start_date"].min() <= pd.Timestamp(HISTORY.start) + pd.Timedelta(days=365)
    assert stored["end_date"].max() > pd.Timestamp(HISTORY.last_day()) + pd.Timedelta(days=180)
    assert stored["start_date"].max() <= horizon_end
    assert (stored["end_date"] >= stored["start_date"]).all()
    assert stored["scope"].isna().all()
    assert "Spring sale" in set(stored["name"])
    meta = metadata(result)
    assert meta["dagster/row_count"].value == len(stored) > 0
    assert "Spring sale" in meta["preview"].value
    assert meta["source"].value.startswith("synthetic")


def test_file_source_reads_the_users_promotions(tmp_path):
    database = tmp_path / "sales.duckdb"
    path = tmp_path / "promotions.csv"
    path.write_text("From,To,Category,Promotion\n2025-07-08,2025-07-10,Toys,Toy days\n")
    result = materialize(database, source="file", source_path="unused", promotions_path=str(path))
    assert result.success
    stored = read_table(database, tables.PROMOTIONS)
    assert stored.to_dict("records") == [
        {
            "start_date": pd.Timestamp("2025-07-08"),
            "end_date": pd.Timestamp("2025-07-10"),
            "scope": "Toys",
            "name": "Toy days",
        }
    ]
    assert stored_types(database) == tables.COLUMNS[tables.PROMOTIONS]
    assert metadata(result)["source"].value == str(path)
    assert metadata(result)["promotion_days"].value == 3


def test_file_source_without_a_promotions_file_publishes_an_empty_table(tmp_path):
    database = tmp_path / "sales.duckdb"
    result = materialize(database, source="file", source_path="unused")
    assert result.success
    assert read_table(database, tables.PROMOTIONS).empty
    # Empty, yet with the contract's types, so readers can compare its dates.
    assert stored_types(database) == tables.COLUMNS[tables.PROMOTIONS]
    assert "SALES_PROMOTIONS_PATH" in metadata(result)["source"].value


def test_a_bad_promotions_file_fails_the_run_and_keeps_the_stored_table(tmp_path):
    database = tmp_path / "sales.duckdb"
    good = tmp_path / "good.csv"
    good.write_text("start,end\n2025-01-02,2025-01-05\n")
    assert materialize(database, source="file", promotions_path=str(good)).success
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end\n2025-01-02,2025-01-05\n2025-02-10,2025-02-01\n")
    result = materialize(database, source="file", promotions_path=str(bad))
    assert not result.success
    error = result.failure_data_for_node("promotions").error.cause
    assert error.cls_name == "SourceError"
    assert "bad.csv, row 3, column 'end': end date before start date" in error.message
    assert len(read_table(database, tables.PROMOTIONS)) == 1  # the good version stays


def test_an_unknown_country_fails_when_the_resource_starts(tmp_path):
    result = materialize(tmp_path / "sales.duckdb", country="XX")
    assert not result.success
    assert "SALES_COUNTRY='XX' is not a country the holidays package knows" in str(
        result.all_events
    )
    assert ShopSettings(country=" gb ").country_code() == "GB"


def test_settings_read_the_country_and_the_promotions_path_from_the_environment(monkeypatch):
    monkeypatch.delenv("SALES_COUNTRY", raising=False)
    monkeypatch.delenv("SALES_PROMOTIONS_PATH", raising=False)
    default = shop_settings_from_env()
    assert (default.country, default.promotions_path) == ("US", "")
    monkeypatch.setenv("SALES_COUNTRY", "de")
    monkeypatch.setenv("SALES_PROMOTIONS_PATH", "/data/promotions.csv")
    shop = shop_settings_from_env()
    assert shop.country.env_var_name == "SALES_COUNTRY"
    assert shop.promotions_path.env_var_name == "SALES_PROMOTIONS_PATH"
    resolved = shop.process_config_and_initialize()
    assert resolved.country_code() == "DE"
    assert resolved.promotions_path == "/data/promotions.csv"


@pytest.mark.parametrize("code", ["XX", "Narnia"])
def test_an_unknown_country_in_the_environment_fails_at_load_time(monkeypatch, code):
    monkeypatch.setenv("SALES_COUNTRY", code)
    with pytest.raises(ValueError, match=r"SALES_COUNTRY='.*' is not a country the holidays"):
        shop_settings_from_env()


def test_promotions_is_registered_and_refreshed_by_both_jobs():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert tables.PROMOTIONS in keys
    for job in ("sales_forecast_job", "daily_sales_job"):
        selected = defs.resolve_job_def(job).asset_layer.executable_asset_keys
        assert dg.AssetKey(tables.PROMOTIONS) in selected
