"""What the Dagster UI shows of the assets: metadata, owners, and the checks of the model and
the accuracy table (called directly, passing and failing, and materialized on a temporary DuckDB).
"""

import datetime as dt
import re

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from sales_platform import forecasting, synthetic, tables
from sales_platform.asset_metadata import OWNERS, table_metadata
from sales_platform.definitions import defs
from sales_platform.defs.checks import accuracy_scores_published_forecasts, sales_model_predicts
from sales_platform.defs.forecast import forecast_accuracy
from sales_platform.defs.model import OVERVIEW_COLUMNS, backtest, sales_model
from sales_platform.defs.raw import customers, orders, products
from sales_platform.defs.sales import daily_sales, sales_features
from sales_platform.resources import ForecastSettings, ShopSettings
from sales_platform.storage import DuckDBDatabase, SalesDuckDBIOManager, read_table, type_name

START, END = dt.date(2025, 3, 1), dt.date(2025, 7, 31)
SHOP = synthetic.ShopConfig(orders_per_day=150)


def resources(database) -> dict:
    return {
        "io_manager": SalesDuckDBIOManager(
            database=str(database),
            model_types=[type_name(forecasting.FittedForecaster)],
            trusted_model_types=list(forecasting.TRUSTED_TYPES),
        ),
        "duckdb": DuckDBDatabase(database=str(database)),
        "shop": ShopSettings(orders_per_day=150.0),
        "forecast_settings": ForecastSettings(horizon=7),
    }


def write_tables(database, **frames: pd.DataFrame) -> None:
    with duckdb.connect(str(database)) as conn:
        for name, frame in frames.items():
            conn.register("frame", frame)
            conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame")
            conn.unregister("frame")


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    """The metadata of `asset`'s materialization (a multi-asset's node materializes several)."""
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.path == [asset]]
    return events[-1].materialization.metadata


def test_every_asset_has_an_owner():
    specs = list(defs.resolve_all_asset_specs())
    assert len(specs) >= 15
    assert {spec.key.to_user_string(): list(spec.owners) for spec in specs} == {
        spec.key.to_user_string(): OWNERS for spec in specs
    }


def test_a_zero_row_preview_is_left_out_not_shown_as_no_rows():
    df = pd.DataFrame({"a": [1.0, 2.0]})
    assert "preview" not in table_metadata(df, preview_rows=0)
    assert table_metadata(df, preview_rows=0)["dagster/row_count"] == 2
    assert "_no rows_" not in table_metadata(df)["preview"].value
    assert table_metadata(df.iloc[:0])["preview"].value == "_no rows_"


def test_orders_revenue_reads_as_a_formatted_amount(tmp_path):
    result = dg.materialize(
        [products, customers, orders],
        partition_key="2025-03-14",
        resources=resources(tmp_path / "sales.duckdb"),
    )
    revenue = metadata_of(result, tables.ORDERS)["revenue"].value
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", revenue), revenue
    generated = synthetic.generate_orders(dt.date(2025, 3, 14), dt.date(2025, 3, 14), SHOP)
    assert float(revenue.replace(",", "")) == pytest.approx(generated["amount"].sum(), abs=0.01)


def test_a_run_over_several_days_gives_each_day_its_own_lines_and_revenue(tmp_path):
    result = dg.materialize(
        [products, customers, orders],
        tags={
            "dagster/asset_partition_range_start": "2025-03-14",
            "dagster/asset_partition_range_end": "2025-03-16",
        },
        resources=resources(tmp_path / "sales.duckdb"),
    )
    events = {
        e.partition: e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.path == [tables.ORDERS]
    }
    generated = synthetic.generate_orders(dt.date(2025, 3, 14), dt.date(2025, 3, 16), SHOP)
    per_day = generated.groupby(pd.to_datetime(generated["order_date"]))["amount"]
    assert sorted(events) == ["2025-03-14", "2025-03-15", "2025-03-16"]
    for day, amounts in per_day:
        metadata = events[day.strftime("%Y-%m-%d")]
        assert metadata["dagster/partition_row_count"].value == len(amounts)
        assert float(metadata["revenue"].value.replace(",", "")) == pytest.approx(amounts.sum())
        assert metadata["dagster/row_count"].value == len(generated)  # the table's
    assert len({m["dagster/partition_row_count"].value for m in events.values()}) > 1
    assert "preview" in events["2025-03-16"] and "preview" not in events["2025-03-14"]


@pytest.fixture(scope="module")
def model_stage(tmp_path_factory):
    """daily_sales .. backtest of a five-month synthetic shop, materialized on a temporary file."""
    database = tmp_path_factory.mktemp("model") / "sales.duckdb"
    write_tables(
        database,
        **{
            tables.ORDERS: synthetic.generate_orders(START, END, SHOP),
            tables.PRODUCTS: synthetic.generate_products(SHOP),
            tables.PROMOTIONS: synthetic.promotions(START, END + dt.timedelta(days=60), SHOP),
            tables.EXPECTED_DEMAND: synthetic.expected_demand(START, END, SHOP),
        },
    )
    result = dg.materialize(
        [
            *(dg.AssetSpec(name) for name in (tables.ORDERS, tables.PRODUCTS)),
            *(dg.AssetSpec(name) for name in (tables.PROMOTIONS, tables.EXPECTED_DEMAND)),
            daily_sales,
            sales_features,
            sales_model,
            backtest,
            sales_model_predicts,
        ],
        resources=resources(database),
    )
    assert result.success
    return database, result


def test_backtest_metadata_fits_the_panel_and_has_no_empty_preview(model_stage):
    database, result = model_stage
    metadata = metadata_of(result, tables.BACKTEST)
    rows = metadata["dagster/row_count"].value
    assert rows > 0
    assert "preview" not in metadata
    total = metadata["metrics_total"].value.splitlines()
    header = [cell.strip() for cell in total[0].strip("|").split("|")]
    assert header == OVERVIEW_COLUMNS
    stored = read_table(database, tables.BACKTEST)
    on_total = stored[stored["series"] == tables.TOTAL_SERIES]
    assert len(total) - 2 == len(on_total) > 1  # header, separator, one row per model
    models = [line.strip("|").split("|")[0].strip() for line in total[2:]]
    assert models == list(on_total.sort_values("mase")["model"])
    # The full table stays available.
    assert len(metadata["metrics_all"].value.splitlines()) - 2 == rows


def test_stored_model_check_loads_it_back_and_passes(model_stage):
    _, result = model_stage
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "sales_model_predicts"
    assert evaluation.passed
    assert evaluation.metadata["predicted_values"].value > 0


class NaNTree:
    def predict(self, X, check_input=True):
        return np.full(len(X), np.nan)


class NaNForest:
    """A model whose trees went bad: every prediction NaN (the forecast sums its trees)."""

    estimators_ = [NaNTree(), NaNTree()]


def test_model_check_fails_on_a_model_that_predicts_nan(model_stage):
    database, _ = model_stage
    with duckdb.connect(str(database), read_only=True) as conn:
        stored_sales = conn.execute(f"SELECT * FROM {tables.DAILY_SALES}").df()
        features = conn.execute(f"SELECT * FROM {tables.SALES_FEATURES}").df()
        stored_promotions = conn.execute(f"SELECT * FROM {tables.PROMOTIONS}").df()
    model = forecasting.fit_forecaster(features, forecasting.ForecastConfig(), stored_promotions)
    good = sales_model_predicts(
        sales_model=model, daily_sales=stored_sales, promotions=stored_promotions
    )
    assert good.passed and good.metadata["bad_values"].value == 0
    model.estimator = NaNForest()
    bad = sales_model_predicts(
        sales_model=model, daily_sales=stored_sales, promotions=stored_promotions
    )
    assert not bad.passed
    assert bad.metadata["bad_values"].value == bad.metadata["predicted_values"].value > 0


def published(first_day: str, days: int, run_id: str = "r1") -> pd.DataFrame:
    dates = pd.date_range(first_day, periods=days, freq="D")
    return pd.DataFrame(
        {
            "date": dates,
            "series": tables.TOTAL_SERIES,
            "horizon": range(1, days + 1),
            "forecast": 100.0,
            "lower_80": 90.0,
            "upper_80": 110.0,
            "lower_95": 80.0,
            "upper_95": 120.0,
            "run_id": run_id,
        }
    )


def actuals(first_day: str, days: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.date_range(first_day, periods=days, freq="D"),
            "series": tables.TOTAL_SERIES,
            "revenue": 105.0,
        }
    )


def test_accuracy_check_passes_on_scores_of_published_forecasts():
    history = published("2025-08-01", 7)
    scores = forecasting.score_forecasts(history, actuals("2025-07-01", 38))
    assert len(scores) == 7
    result = accuracy_scores_published_forecasts(forecast_accuracy=scores, forecast_history=history)
    assert result.passed
    assert result.metadata["rows_without_published_forecasts"].value == 0


def test_accuracy_check_fails_on_scores_no_published_forecast_backs():
    history = published("2025-08-01", 7)
    scores = forecasting.score_forecasts(history, actuals("2025-07-01", 38))
    # A series never published, and more scored days than were published.
    stray = scores.iloc[:1].assign(series="Toys")
    inflated = scores.iloc[1:2].assign(forecasts=5)
    result = accuracy_scores_published_forecasts(
        forecast_accuracy=pd.concat([scores, stray, inflated], ignore_index=True),
        forecast_history=history,
    )
    assert not result.passed
    assert result.metadata["rows_without_published_forecasts"].value == 2


@pytest.mark.parametrize(
    ("actual_days", "first_score"),
    [(31, "2025-08-02"), (33, None)],  # history ends 07-31: not scored yet; 08-02: scored
)
def test_forecast_accuracy_says_when_its_first_score_appears(tmp_path, actual_days, first_score):
    database = tmp_path / "sales.duckdb"
    write_tables(
        database,
        **{
            tables.FORECAST_HISTORY: published("2025-08-01", 7),
            tables.DAILY_SALES: actuals("2025-07-01", actual_days),
        },
    )
    result = dg.materialize(
        [
            dg.AssetSpec(tables.FORECAST_HISTORY),
            dg.AssetSpec(tables.DAILY_SALES),
            forecast_accuracy,
        ],
        resources=resources(database),
    )
    metadata = metadata_of(result, tables.FORECAST_ACCURACY)
    if first_score is None:
        assert metadata["dagster/row_count"].value > 0
        assert "first_score" not in metadata
    else:
        assert metadata["dagster/row_count"].value == 0
        assert metadata["first_score"].value.startswith(f"{first_score}: ")
