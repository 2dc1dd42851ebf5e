"""Assets and checks materialized with `dg.materialize` on a temporary DuckDB file."""

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from sales_platform import tables
from sales_platform.defs import checks
from sales_platform.defs.forecast import forecast_history
from sales_platform.defs.promotions import promotions
from sales_platform.defs.raw import customers, orders, products
from sales_platform.defs.sales import daily_sales, sales_features
from sales_platform.resources import ForecastSettings, ShopSettings
from sales_platform.sources import SourceError, load_orders
from sales_platform.storage import DuckDBDatabase, SalesDuckDBIOManager, read_table

FIXTURES = Path(__file__).parent / "fixtures" / "orders_files"


def resources(database: Path, **shop) -> dict:
    return {
        "io_manager": SalesDuckDBIOManager(database=str(database)),
        "duckdb": DuckDBDatabase(database=str(database)),
        "shop": ShopSettings(**shop),
        "forecast_settings": ForecastSettings(horizon=7),
    }


def check_named(name: str) -> dg.AssetChecksDefinition:
    return next(
        c for c in [*checks.input_checks, *checks.forecast_checks] if c.node_def.name.endswith(name)
    )


def write_tables(database: Path, **frames: pd.DataFrame) -> None:
    with duckdb.connect(str(database)) as conn:
        for name, frame in frames.items():
            conn.register("frame", frame)
            conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame")
            conn.unregister("frame")


def order_lines(rows: list[tuple]) -> pd.DataFrame:
    """Order lines from (order_id, line_number, day, product_id, quantity, unit_price)."""
    df = pd.DataFrame(
        rows,
        columns=["order_id", "line_number", "order_date", "product_id", "quantity", "unit_price"],
    )
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["order_ts"] = df["order_date"] + pd.Timedelta(hours=10)
    df["customer_id"] = "C1"
    df["amount"] = df["quantity"] * df["unit_price"]
    return df[list(tables.COLUMNS[tables.ORDERS])]


CATALOG = pd.DataFrame(
    {
        "product_id": ["P1", "P2"],
        "name": ["Mug", "Lamp"],
        "category": ["Home", "Electronics"],
        "price": [5.0, 20.0],
        "cost": [2.0, 12.0],
    }
)


def test_synthetic_raw_layer_replaces_exactly_the_partition(tmp_path):
    database = tmp_path / "sales.duckdb"
    for _ in range(2):  # a re-run of the same day must not duplicate it
        result = dg.materialize(
            [products, customers, orders],
            partition_key="2025-03-14",
            resources=resources(database, orders_per_day=150.0),
        )
        assert result.success
    stored = read_table(database, tables.ORDERS)
    assert list(stored.columns) == list(tables.COLUMNS[tables.ORDERS])
    assert set(stored["order_date"].dt.date.astype(str)) == {"2025-03-14"}
    assert not stored.duplicated(["order_id", "line_number"]).any()
    # The next day is added beside it, the first day untouched.
    dg.materialize(
        [products, customers, orders],
        partition_key="2025-03-15",
        resources=resources(database, orders_per_day=150.0),
    )
    both = read_table(database, tables.ORDERS)
    assert both[both["order_date"] == "2025-03-14"].reset_index(drop=True).equals(stored)
    assert set(both["order_date"].dt.date.astype(str)) == {"2025-03-14", "2025-03-15"}


def test_daily_sales_is_aggregated_in_duckdb_with_zero_filled_days(tmp_path):
    database = tmp_path / "sales.duckdb"
    lines = order_lines(
        [
            ("A", 1, "2025-01-01", "P1", 2, 5.0),
            ("A", 2, "2025-01-01", "P2", 1, 20.0),
            ("B", 1, "2025-01-01", "P1", 1, 5.0),
            ("C", 1, "2025-01-03", "P2", 3, 20.0),
        ]
    )
    write_tables(database, orders=lines, products=CATALOG)
    assert dg.materialize([daily_sales], resources=resources(database)).success
    got = read_table(database, tables.DAILY_SALES).set_index(["series", "date"])
    expected = {
        ("total", "2025-01-01"): (35.0, 4, 2),
        ("total", "2025-01-02"): (0.0, 0, 0),
        ("total", "2025-01-03"): (60.0, 3, 1),
        ("Home", "2025-01-01"): (15.0, 3, 2),
        ("Home", "2025-01-02"): (0.0, 0, 0),
        ("Home", "2025-01-03"): (0.0, 0, 0),
        ("Electronics", "2025-01-01"): (20.0, 1, 1),
        ("Electronics", "2025-01-02"): (0.0, 0, 0),
        ("Electronics", "2025-01-03"): (60.0, 3, 1),
    }
    assert len(got) == len(expected)
    for (series, day), values in expected.items():
        row = got.loc[(series, pd.Timestamp(day))]
        assert (row["revenue"], row["units"], row["orders"]) == values


def test_failing_input_check_blocks_everything_downstream(tmp_path):
    database = tmp_path / "sales.duckdb"
    # A return booked as a negative line makes a day's revenue negative.
    lines = order_lines(
        [("A", 1, "2025-01-01", "P1", 2, 5.0), ("R", 1, "2025-01-02", "P1", -4, 5.0)]
    )
    write_tables(database, orders=lines, products=CATALOG)
    result = dg.materialize(
        [daily_sales, promotions, sales_features, check_named("daily_sales_non_negative")],
        resources=resources(database),
        raise_on_error=False,
    )
    evaluation = result.get_asset_check_evaluations()[0]
    # Only `total`: the orders touch one category, which is no second series.
    assert not evaluation.passed and evaluation.metadata["bad_rows"].value == 1
    materialized = {
        event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
    }
    assert materialized == {tables.DAILY_SALES, tables.PROMOTIONS}  # sales_features never ran


@pytest.mark.parametrize(
    ("name", "bad_sql"),
    [
        ("order_lines_unique", "INSERT INTO orders SELECT * FROM orders LIMIT 1"),
        ("order_lines_complete", "UPDATE orders SET product_id = NULL WHERE order_id = 'B'"),
        ("order_lines_non_negative", "UPDATE orders SET quantity = 0 WHERE order_id = 'B'"),
        (
            "order_days_without_sales",
            "UPDATE orders SET order_date = '2025-01-03' WHERE order_id = 'B'",
        ),
    ],
)
def test_order_checks_pass_on_good_lines_and_fail_on_bad(tmp_path, name, bad_sql):
    database = tmp_path / "sales.duckdb"
    write_tables(
        database,
        orders=order_lines(
            [("A", 1, "2025-01-01", "P1", 2, 5.0), ("B", 1, "2025-01-02", "P2", 1, 20.0)]
        ),
    )
    check = check_named(name)
    database_resource = DuckDBDatabase(database=str(database))
    assert check(duckdb=database_resource).passed
    with duckdb.connect(str(database)) as conn:
        conn.execute(bad_sql)
    failed = check(duckdb=database_resource)
    assert not failed.passed and failed.metadata["bad_rows"].value == 1


@pytest.mark.parametrize(
    ("name", "bad_sql"),
    [
        (
            "forecast_intervals_ordered",
            "UPDATE sales_forecast SET upper_80 = NULL WHERE horizon = 2",
        ),
        (
            "forecast_intervals_ordered",
            "UPDATE sales_forecast SET lower_95 = forecast + 1 WHERE horizon = 1",
        ),
        (
            "forecast_categories_sum_to_total",
            "UPDATE sales_forecast SET forecast = 5 WHERE series = 'Home' AND horizon = 1",
        ),
        (
            "forecast_categories_sum_to_total",
            "DELETE FROM sales_forecast WHERE series = 'total' AND horizon = 1",
        ),
    ],
)
def test_forecast_checks_catch_disorder_and_missing_values(tmp_path, name, bad_sql):
    database = tmp_path / "sales.duckdb"
    rows = [
        (series, horizon, value)
        for horizon in (1, 2)
        for series, value in (("total", 30.0), ("Home", 10.0), ("Electronics", 20.0))
    ]
    forecast = pd.DataFrame(rows, columns=["series", "horizon", "forecast"])
    forecast["date"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(forecast["horizon"], unit="D")
    for name_, offset in (("lower_95", -2), ("lower_80", -1), ("upper_80", 1), ("upper_95", 2)):
        forecast[name_] = forecast["forecast"] + offset
    write_tables(database, sales_forecast=forecast)
    check = check_named(name)
    database_resource = DuckDBDatabase(database=str(database))
    assert check(duckdb=database_resource).passed
    with duckdb.connect(str(database)) as conn:
        conn.execute(bad_sql)
    assert not check(duckdb=database_resource).passed


def test_forecast_history_replaces_a_rerun_of_the_same_origin(tmp_path):
    database = tmp_path / "sales.duckdb"

    def published(first_day: str, run_id: str, value: float) -> pd.DataFrame:
        dates = pd.date_range(first_day, periods=3)
        return pd.DataFrame(
            {
                "origin": dates[0] - pd.Timedelta(days=1),
                "date": dates,
                "series": "total",
                "horizon": [1, 2, 3],
                "forecast": value,
                "lower_80": value - 1,
                "upper_80": value + 1,
                "lower_95": value - 2,
                "upper_95": value + 2,
                "method": "random_forest",
                "model_version": "v",
                "run_id": run_id,
                "created_at": pd.Timestamp("2025-01-01"),
            }
        )

    def materialize(df: pd.DataFrame) -> pd.DataFrame:
        history = forecast_history(
            context=dg.build_asset_context(),
            sales_forecast=df,
            duckdb=DuckDBDatabase(database=str(database)),
        )
        write_tables(database, forecast_history=history)
        return history

    materialize(published("2025-01-01", "run-1", 10.0))
    materialize(published("2025-01-02", "run-2", 20.0))
    history = materialize(published("2025-01-02", "run-3", 30.0))
    assert sorted(history["run_id"].unique()) == ["run-1", "run-3"]
    assert len(history) == 6


def test_file_source_loads_a_day_and_a_bad_file_changes_nothing(tmp_path):
    database = tmp_path / "sales.duckdb"
    good = resources(database, source="file", source_path=str(FIXTURES / "good"))
    assert dg.materialize(
        [products, customers, orders], partition_key="2025-01-01", resources=good
    ).success
    before = read_table(database, tables.ORDERS)
    assert len(before) > 0 and set(before["order_date"].dt.date.astype(str)) == {"2025-01-01"}

    bad_file = FIXTURES / "bad" / "negative_price.csv"
    bad = resources(database, source="file", source_path=str(bad_file))
    with pytest.raises(SourceError) as error:
        dg.materialize([orders], partition_key="2025-01-05", resources=bad)
    message = str(error.value)
    assert "negative_price.csv" in message and "UnitPrice" in message and "row 2" in message
    assert read_table(database, tables.ORDERS).equals(before)


def test_file_source_quarantines_bad_rows_and_loads_the_good(tmp_path):
    database = tmp_path / "sales.duckdb"
    bad_file = FIXTURES / "bad" / "negative_price.csv"
    quarantine = resources(
        database, source="file", source_path=str(bad_file), on_error="quarantine", max_rejected=1.0
    )
    assert dg.materialize([orders], partition_key="2025-01-05", resources=quarantine).success
    loaded = read_table(database, tables.ORDERS)
    rejected = read_table(database, tables.ORDERS_REJECTED)
    assert list(loaded["order_id"]) == ["1002"]
    assert list(rejected["row"]) == [2] and list(rejected["column"]) == ["UnitPrice"]
    assert str(rejected["partition_date"].iloc[0].date()) == "2025-01-05"


@pytest.fixture
def two_line_frames(monkeypatch):
    """The file source read two lines at a time, so that a small export streams in frames."""
    from functools import partial

    from sales_platform.defs import raw

    monkeypatch.setattr(raw.sources, "open_orders", partial(raw.sources.open_orders, chunk_rows=2))


def test_a_file_source_streams_its_lines_frame_by_frame(tmp_path, two_line_frames):
    database = tmp_path / "sales.duckdb"
    good = resources(database, source="file", source_path=str(FIXTURES / "good"))
    result = dg.materialize([orders], partition_key="2025-01-01", resources=good)
    (event,) = [
        e
        for e in result.asset_materializations_for_node("orders")
        if e.asset_key == dg.AssetKey(tables.ORDERS)
    ]
    assert event.metadata["storage_action"].value == "created in 2 frames"
    # What a load knows only at its end still reaches the run's last day.
    assert event.metadata["rejected_rows"].value == 0
    assert event.metadata["load"].value["orders"] == 4
    expected = load_orders(FIXTURES / "good", start="2025-01-01", end="2025-01-01").orders
    stored = read_table(database, tables.ORDERS)
    assert len(stored) == 4 and list(stored["order_id"]) == list(expected["order_id"])


def test_a_load_refused_at_the_end_of_its_stream_changes_no_stored_line(tmp_path, two_line_frames):
    database = tmp_path / "sales.duckdb"
    one_day = tmp_path / "one_day.csv"
    bad = (FIXTURES / "bad" / "negative_price.csv").read_text().splitlines()
    # Lines after the bad one, so that frames are staged before the load is refused.
    one_day.write_text(
        "\n".join(
            [*bad, *(f"10{i},2025-01-05 12:00:00,A2,Cup,1,4.50,C3,Home" for i in range(10, 16))]
        )
        + "\n"
    )
    good = resources(database, source="file", source_path=str(FIXTURES / "good"))
    dg.materialize([orders], partition_key="2025-01-01", resources=good)
    before = read_table(database, tables.ORDERS)
    shop = resources(database, source="file", source_path=str(one_day))
    with pytest.raises(SourceError, match="negative_price|UnitPrice"):
        dg.materialize([orders], partition_key="2025-01-05", resources=shop)
    assert read_table(database, tables.ORDERS).equals(before)
    with duckdb.connect(str(database)) as conn:
        left = conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_staging%'"
        ).fetchall()
    assert left == []
