"""The whole graph end to end through the Dagster CLI, as CI and `make run` execute it.

On the small profile: the main job over the full history and the product job after it (as `make
run` does), then the daily job for the next day,
whose forecast history makes the first forecast scoreable against the day that arrived.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sales_platform import tables
from sales_platform.partitions import full_history_tags_json
from sales_platform.storage import read_table

DAGSTER = str(Path(sys.executable).with_name("dagster"))
HISTORY_END = "2025-10-31"
NEXT_DAY = "2025-11-01"
HORIZON = 14


def dagster_job(job: str, env: dict[str, str], *extra: str) -> None:
    command = [DAGSTER, "job", "execute", "-m", "sales_platform.definitions", "-j", job, *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    (folder / "home").mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(folder / "home"),
        "SALES_DUCKDB_PATH": str(folder / "sales.duckdb"),
        "SALES_HISTORY_START": "2024-07-01",
        "SALES_HISTORY_END": HISTORY_END,
        "SALES_ORDERS_PER_DAY": "150",
        "SALES_FORECAST_HORIZON": str(HORIZON),
    }
    dagster_job("sales_forecast_job", env, "--tags", full_history_tags_json(env))
    dagster_job("product_forecast_job", env)
    first = read_table(env["SALES_DUCKDB_PATH"], tables.SALES_FORECAST)
    first_products = read_table(env["SALES_DUCKDB_PATH"], tables.PRODUCT_FORECAST)
    env["SALES_HISTORY_END"] = NEXT_DAY
    dagster_job("daily_sales_job", env, "--tags", json.dumps({"dagster/partition": NEXT_DAY}))
    # What daily_products_sensor starts after it.
    dagster_job("daily_product_job", env)
    return env["SALES_DUCKDB_PATH"], first, first_products


@pytest.mark.slow
def test_main_job_publishes_a_forecast_for_every_series(pipeline):
    database, first, products = pipeline
    series = set(read_table(database, tables.DAILY_SALES)["series"])
    assert tables.TOTAL_SERIES in series and len(series) > 2
    assert set(first["series"]) == series
    assert len(first) == HORIZON * len(series)
    assert str(first["date"].min().date()) == NEXT_DAY
    assert (first["lower_95"] <= first["forecast"]).all() and (
        first["forecast"] <= first["upper_95"]
    ).all()
    models = set(read_table(database, tables.BACKTEST)["model"])
    assert {"random_forest", "seasonal_naive_7", "moving_average_28", "oracle"} <= models
    # orders_rejected is created by the first quarantined row; synthetic orders have none.
    for table, columns in tables.COLUMNS.items():
        if table == tables.ORDERS_REJECTED:
            continue
        stored = read_table(database, table)
        assert set(columns) <= set(stored.columns), table
    # Every category's products, each forecast for the horizon, revenue as published.
    assert set(products["category"]) == series - {tables.TOTAL_SERIES}
    assert products.groupby("product_id").size().eq(HORIZON).all()
    revenue = products.groupby(["category", "date"])["revenue"].sum()
    published = first.set_index(["series", "date"])["forecast"]
    assert revenue.to_numpy() == pytest.approx(published.reindex(revenue.index).to_numpy())


@pytest.mark.slow
def test_daily_job_adds_one_day_and_scores_the_previous_forecast(pipeline):
    database, first, _ = pipeline
    orders = read_table(database, tables.ORDERS, columns=["order_date"])
    assert str(orders["order_date"].max().date()) == NEXT_DAY
    latest = read_table(database, tables.SALES_FORECAST)
    assert str(latest["date"].min().date()) == "2025-11-02"
    assert latest["run_id"].nunique() == 1 and set(latest["run_id"]) != set(first["run_id"])
    history = read_table(database, tables.FORECAST_HISTORY)
    assert history["run_id"].nunique() == 2 and len(history) == len(first) + len(latest)
    accuracy = read_table(database, tables.FORECAST_ACCURACY)
    scored = accuracy[(accuracy["series"] == tables.TOTAL_SERIES) & (accuracy["horizon"] == 1)]
    assert scored["forecasts"].tolist() == [1]
    actual = read_table(
        database, tables.DAILY_SALES, where="series = 'total' AND date = ?", params=[NEXT_DAY]
    )
    predicted = first[(first["series"] == tables.TOTAL_SERIES) & (first["horizon"] == 1)]
    expected_error = abs(actual["revenue"].iloc[0] - predicted["forecast"].iloc[0])
    assert scored["mae"].iloc[0] == pytest.approx(expected_error)


@pytest.mark.slow
def test_daily_product_job_moves_the_products_to_the_new_day(pipeline):
    database, _, _ = pipeline
    products = read_table(database, tables.PRODUCT_FORECAST)
    assert str(products["date"].min().date()) == "2025-11-02"
    # Still coherent with the new day's shop forecast, with the main job's product backtest.
    revenue = products.groupby(["category", "date"])["revenue"].sum()
    latest = read_table(database, tables.SALES_FORECAST).set_index(["series", "date"])["forecast"]
    assert revenue.to_numpy() == pytest.approx(latest.reindex(revenue.index).to_numpy())
    units = read_table(database, tables.PRODUCT_DAILY_SALES, columns=["date"])
    assert str(units["date"].max().date()) == NEXT_DAY
