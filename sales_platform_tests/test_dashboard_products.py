"""The dashboard's product view with ``AppTest``, on the known database of ``dashboard_fixtures``.

The products (see ``fx.PRODUCT_ROWS``): P001 sells 4 units a day (forecast 120 over 30 days),
P003 is new (30), P002 is intermittent (15); their order quantities at each service level are
hand-computed in ``fx.EXPECTED_ORDER_QUANTITY``.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import data
from sales_platform import storage
from sales_platform import tables as T
from sales_platform_tests import dashboard_fixtures as fx
from sales_platform_tests.test_dashboard_app import APP, chart_frame, metrics, texts

PRODUCT_TABLES = [T.PRODUCT_DAILY_SALES, T.PRODUCT_BACKTEST, T.PRODUCT_FORECAST, T.REPLENISHMENT]


# Each test starts from an empty st.cache_data; `known_db` (conftest) is the fixture database.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_cache")


def open_products(db, monkeypatch) -> AppTest:
    monkeypatch.setenv("SALES_DUCKDB_PATH", str(db))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.session_state["view"] = "Products"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def pick(at: AppTest, product_id: str) -> None:
    at.selectbox(key="product").select(product_id).run()
    assert not at.exception, [e.value for e in at.exception]


def product_chart(at: AppTest) -> pd.DataFrame:
    """The product chart's data: the only chart of the Products tab (the tabs are lazy)."""
    assert len(at.get("vega_lite_chart")) == 1
    return chart_frame(at)


def test_opens_on_the_biggest_product_with_its_replenishment(known_db, monkeypatch):
    at = open_products(known_db, monkeypatch)
    assert at.selectbox(key="product").value == "P001"
    assert at.selectbox(key="product").options == [
        "P001 · Desk Lamp (Home)",
        "P003 · Smart Speaker (Electronics)",
        "P002 · Phone Case (Electronics)",
    ]  # biggest forecast first
    m = metrics(at)
    assert m["Forecast units, next 30 days"][0] == "120.0"
    assert m["Expected demand over 7 days"][0] == "28.0"
    assert m["Order quantity at 95%"] == ("42", "safety stock 14.0")
    # The published backtest row (1.2), not the chosen method's (1.1).
    assert m["Backtest MAE, units per day"][0] == "1.20"
    assert "Lead time **7 days**" in texts(at.caption)
    assert "covered 94.0% of Home's 7-day windows" in texts(at.caption)

    frame = product_chart(at)
    history = frame.dropna(subset=["actual"])
    forecast = frame.dropna(subset=["forecast"])
    assert len(history) == fx.PRODUCT_HISTORY_DAYS
    last = fx.PRODUCT_HISTORY_DAYS - 1
    assert list(history["actual"].tail(3)) == [
        fx.product_history_units("P001", i) for i in (last - 2, last - 1, last)
    ]
    assert len(forecast) == fx.HORIZON
    assert set(forecast["forecast"]) == {4.0}
    assert set(forecast["upper_80"]) == {6.0} and set(forecast["upper_95"]) == {8.0}


def test_picking_a_product_updates_the_chart_and_the_quantity(known_db, monkeypatch):
    at = open_products(known_db, monkeypatch)
    pick(at, "P002")
    m = metrics(at)
    assert m["Forecast units, next 30 days"][0] == "15.0"
    assert m["Expected demand over 7 days"][0] == "3.5"
    assert m["Order quantity at 95%"] == ("9", "safety stock 5.5")
    assert m["Backtest MAE, units per day"][0] == "0.40"
    captions = texts(at.caption)
    assert "Method `croston_sba` (demand class intermittent) · scaled MAE 0.90" in captions
    assert "covered 91.0% of Electronics's 7-day windows" in captions

    frame = product_chart(at)
    assert set(frame["forecast"].dropna()) == {0.5}
    assert list(frame["actual"].dropna()) == [
        fx.product_history_units("P002", i) for i in range(fx.PRODUCT_HISTORY_DAYS)
    ]


def test_a_new_product_has_no_backtest_of_its_own(known_db, monkeypatch):
    at = open_products(known_db, monkeypatch)
    pick(at, "P003")
    m = metrics(at)
    assert m["Order quantity at 95%"][0] == "16"
    assert m["Backtest MAE, units per day"][0] == "—"
    assert "a new product, forecast as its share of the category" in texts(at.caption)
    assert len(product_chart(at).dropna(subset=["actual"])) == fx.NEW_PRODUCT_DAYS


@pytest.mark.parametrize("level", [0.99, 0.8])
def test_the_service_level_sets_every_order_quantity(known_db, monkeypatch, level):
    at = open_products(known_db, monkeypatch)
    slider = at.select_slider(key="product_service_level")
    assert slider.value == fx.SERVICE_LEVEL  # the stored table's setting by default
    slider.set_value(level).run()
    assert not at.exception
    label = f"Order quantity at {level:.0%}"
    assert metrics(at)[label][0] == str(fx.EXPECTED_ORDER_QUANTITY["P001"][level])
    table = at.dataframe[0].value.set_index("product_id")
    assert dict(table["quantity"]) == {p: q[level] for p, q in fx.EXPECTED_ORDER_QUANTITY.items()}
    assert set(table["service_level"]) == {level}


def test_at_the_stored_service_level_the_quantity_is_the_stored_one(known_db):
    """The dashboard recomputes with the pipeline's quantile: the same numbers as the table."""
    products = data.load_product_data(known_db)
    table = data.product_table(products, fx.SERVICE_LEVEL).set_index("product_id")
    stored = products.replenishment.set_index("product_id")["quantity"]
    assert dict(table["quantity"]) == dict(stored)


def test_product_table_columns_order_and_csv_download(known_db, monkeypatch):
    served: list[tuple[bytes, str | None]] = []
    load = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        served.append((path_or_data, filename))
        return load(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at = open_products(known_db, monkeypatch)
    table = at.dataframe[0].value
    assert list(table.columns) == data.PRODUCT_TABLE_COLUMNS
    assert list(table["product_id"]) == ["P001", "P003", "P002"]
    row = table.set_index("product_id").loc["P001"]
    assert (row["name"], row["category"], row["method"]) == ("Desk Lamp", "Home", "forest")
    assert (row["forecast_units"], row["expected_demand"], row["quantity"]) == (120.0, 28.0, 42)
    assert (row["backtest_mae"], row["backtest_scaled_mae"]) == (1.2, 0.8)
    assert pd.isna(table.set_index("product_id").loc["P003", "backtest_mae"])

    (button,) = at.get("download_button")
    assert button.proto.label == "Download the product table as CSV"
    (content, filename) = next((c, f) for c, f in served if f and f.endswith(".csv"))
    assert filename == "replenishment_7d_0.95.csv"
    csv = pd.read_csv(io.BytesIO(content))
    assert list(csv.columns) == data.PRODUCT_TABLE_COLUMNS
    assert dict(zip(csv["product_id"], csv["quantity"], strict=True)) == {
        "P001": 42, "P003": 16, "P002": 9
    }  # fmt: skip


def test_without_product_tables_the_view_says_so(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "before_products.duckdb", skip_tables=PRODUCT_TABLES)
    at = open_products(db, monkeypatch)
    info = texts(at.info)
    assert "No product forecasts in this database yet" in info
    assert "Table `replenishment` is not in the database yet" in info
    assert "product_forecast_job" in info
    assert not at.dataframe and not at.get("download_button")
    assert metrics(at)["Revenue, last 30 days"][0] == "$50,835"  # the rest of the page works


def test_an_older_replenishment_schema_is_named(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(
        tmp_path / "old.duckdb", drop_columns={T.REPLENISHMENT: ["dispersion"]}
    )
    at = open_products(db, monkeypatch)
    assert "`replenishment` comes from an older schema: it lacks the column `dispersion`" in texts(
        at.info
    )


def test_a_run_writing_while_the_view_opens_shows_busy(known_db, monkeypatch):
    monkeypatch.setenv("SALES_DUCKDB_PATH", str(known_db))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()

    def busy(*args, **kwargs):
        raise storage.DatabaseBusyError("locked by a writer")

    monkeypatch.setattr(data, "load_product_data", busy)
    at.session_state["view"] = "Products"
    at.run()
    assert not at.exception
    assert "database is busy" in texts(at.warning)


def test_without_the_products_table_the_picker_shows_ids(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "no_names.duckdb", skip_tables=[T.PRODUCTS])
    at = open_products(db, monkeypatch)
    assert at.selectbox(key="product").options == [
        "P001 (Home)",
        "P003 (Electronics)",
        "P002 (Electronics)",
    ]
    assert metrics(at)["Order quantity at 95%"][0] == "42"
