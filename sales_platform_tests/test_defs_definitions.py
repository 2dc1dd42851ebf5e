"""The Definitions object: it loads, names what the README promises, and schedules yesterday."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from sales_platform import tables
from sales_platform.definitions import defs
from sales_platform.partitions import (
    HISTORY,
    daily_partitions,
    full_history_tags,
    full_history_tags_json,
)
from sales_platform.synthetic import CATEGORIES

PUBLISHED_ASSETS = {
    tables.PRODUCTS,
    tables.CUSTOMERS,
    tables.ORDERS,
    tables.EXPECTED_DEMAND,
    tables.DAILY_SALES,
    tables.SALES_FEATURES,
    tables.SALES_MODEL,
    tables.BACKTEST,
    tables.BACKTEST_PREDICTIONS,
    tables.SALES_FORECAST,
    tables.FORECAST_HISTORY,
    tables.FORECAST_ACCURACY,
}


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_every_asset_keeps_its_table_name():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys >= PUBLISHED_ASSETS


def test_jobs_of_the_public_interface_exist():
    main = defs.resolve_job_def("sales_forecast_job")
    daily = defs.resolve_job_def("daily_sales_job")
    # Its range of days is chosen when a run is requested, never when the definitions load.
    assert not any(key.startswith("dagster/asset_partition_range") for key in main.tags)
    daily_assets = {key.to_user_string() for key in daily.asset_layer.executable_asset_keys}
    assert tables.ORDERS in daily_assets and tables.SALES_FORECAST in daily_assets
    assert tables.BACKTEST not in daily_assets
    assert tables.PRODUCTS in daily_assets


def test_file_sensor_is_registered_and_off_by_default():
    sensor = defs.resolve_sensor_def("orders_files_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "daily_sales_job"


def test_daily_schedule_is_off_by_default_and_runs_yesterday():
    daily_sales_schedule = defs.resolve_schedule_def("daily_sales_schedule")
    assert daily_sales_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    day = daily_partitions.get_partition_keys()[-10]
    tick_time = datetime.fromisoformat(day).replace(tzinfo=UTC, hour=2) + timedelta(days=1)
    context = dg.build_schedule_context(scheduled_execution_time=tick_time)
    requests = list(daily_sales_schedule.evaluate_tick(context).run_requests or [])
    assert [request.partition_key for request in requests] == [day]


def test_full_history_run_covers_every_partition():
    keys = daily_partitions.get_partition_keys()
    tags = full_history_tags()
    assert tags["dagster/asset_partition_range_start"] == keys[0]
    assert tags["dagster/asset_partition_range_end"] == keys[-1]
    assert keys[0] == HISTORY.start.isoformat()


def test_full_history_tags_follow_the_requesting_process_settings():
    """`python -m sales_platform.partitions`: what `make run` passes to `dagster job execute`."""
    env = {**os.environ, "SALES_HISTORY_START": "2025-01-01", "SALES_HISTORY_END": "2025-03-31"}
    tags = json.loads(full_history_tags_json(env))
    assert tags == {
        "dagster/asset_partition_range_start": "2025-01-01",
        "dagster/asset_partition_range_end": "2025-03-31",
    }
    env.pop("SALES_HISTORY_END")
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert json.loads(full_history_tags_json(env))["dagster/asset_partition_range_end"] == yesterday


def test_products_refresh_after_each_daily_run():
    """daily_products_sensor: a successful daily_sales_job starts daily_product_job over every
    category, once per daily run; the product backtest is left to product_forecast_job."""
    sensor = defs.resolve_sensor_def("daily_products_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "daily_product_job"
    daily_products = defs.resolve_job_def("daily_product_job").asset_layer.executable_asset_keys
    assert dg.AssetKey(tables.PRODUCT_FORECAST) in daily_products
    assert dg.AssetKey(tables.PRODUCT_BACKTEST) not in daily_products

    @dg.op
    def nothing():
        pass

    @dg.job(name="daily_sales_job")
    def finished_daily_run():
        nothing()

    with dg.DagsterInstance.ephemeral() as instance:
        result = finished_daily_run.execute_in_process(instance=instance)
        context = dg.build_run_status_sensor_context(
            sensor_name="daily_products_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_success_event(),
        )
        request = sensor(context)
    categories = sorted(CATEGORIES)
    assert request.run_key == result.run_id
    assert request.tags["dagster/asset_partition_range_start"] == categories[0]
    assert request.tags["dagster/asset_partition_range_end"] == categories[-1]
