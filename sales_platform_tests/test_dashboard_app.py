"""The Streamlit app with ``AppTest``: known KPIs, friendly states, series selection, caching."""

from __future__ import annotations

import ast
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from sales_platform import settings
from sales_platform import tables as T
from sales_platform_tests import dashboard_fixtures as fx

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


# Each test starts from an empty st.cache_data; `known_db` (conftest) is the fixture database.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_cache")


def run_app(db: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv(settings.DUCKDB_PATH_ENV, str(db))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    """label -> (value, delta) of every st.metric on the page."""
    return {m.label: (m.value, m.proto.delta) for m in at.metric}


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def chart_frame(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The data of the ``index``-th Vega-Lite chart's first layer, decoded from the page."""
    chart = at.get("vega_lite_chart")[index]
    spec = json.loads(chart.proto.spec)
    # Altair names each layer's data; data shared by all layers moves to the top level.
    name = (spec["layer"][0].get("data") or spec["data"])["name"]
    (dataset,) = [ds for ds in chart.proto.datasets if ds.name == name]
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()


def test_kpis_shown_match_hand_computed_values(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    m = metrics(at)
    assert m["Revenue, last 30 days"][0] == "$50,835"
    assert m["Forecast, next 30 days"] == ("$54,330", "+6.9%")
    assert m["Backtest error per day (MAE)"] == ("$80", "-20.0%")
    assert m["Backtest MASE"] == ("0.80", "-0.20")
    assert m["Forecast method"] == ("forest", "per-series choice")
    assert m["Data through"] == (f"{fx.default_end_date():%b %d, %Y}", "1 day ago")
    assert "80% range $49,005 – $59,655 (daily bounds summed)" in texts(at.caption)
    assert "Our forecast (published) over 3 folds · seasonal naive $100" in texts(at.caption)
    assert "#### Total (all categories)" in texts(at.markdown)  # the cards say whose they are
    assert not at.warning and not at.error  # no fallback banner: the gate passed
    assert at.title[0].value == "Sales forecast"
    # Lazy tabs: only the open one (the forecast chart) is built on the first run.
    assert at.session_state["view"] == "Forecast"
    assert len(at.get("vega_lite_chart")) == 1


def test_amounts_are_shown_in_the_shops_currency(known_db, monkeypatch):
    monkeypatch.setenv(settings.CURRENCY_ENV, "GBP")
    at = run_app(known_db, monkeypatch)
    assert metrics(at)["Revenue, last 30 days"][0] == "£50,835"
    assert "All amounts in GBP." in texts(at.caption)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["config"]["locale"]["number"]["currency"] == ["£", ""]  # the axis: £1,200
    monkeypatch.setenv(settings.CURRENCY_ENV, "pounds")
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception and "is not a currency code" in at.error[0].value


def test_the_app_script_has_no_bare_string_for_streamlit_to_show():
    # Streamlit's magic writes a bare string of the app's script on the page: one after a
    # constant, meant as its docstring, was shown above the title.
    body = ast.parse(APP.read_text(encoding="utf-8")).body[1:]  # after the module's docstring
    strays = [
        node.lineno
        for node in body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    ]
    assert not strays, strays


def test_model_quality_tab(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    at.session_state["view"] = "Model quality"
    at.run()
    assert not at.exception
    table = at.dataframe[1].value
    assert len(table) == 4 * 6  # total, 2 categories, pooled x published + 5 candidates
    assert "__all__" not in set(table["series_label"])
    assert "all series (pooled)" in set(table["series_label"])
    total = table[table["series_label"] == "Total (all categories)"].set_index("model_label")
    assert list(total.index) == [
        "published (per-series choice)",
        "forest",
        "AutoETS",
        "level x weekday profile",
        "seasonal naive",
        "28-day mean",
    ]
    assert total.loc["published (per-series choice)", "mase"] == 0.8
    assert total.loc["published (per-series choice)", "relative_mae"] == pytest.approx(0.8)
    m = metrics(at)
    assert m["MAE of published forecasts"][0] == "$81"  # mean of 50 + 2h over h = 1..30
    assert len(at.get("vega_lite_chart")) == 4  # MASE bars, MAE + coverage by horizon, backtest
    # The backtest chart shows our forecast and the baseline by default, by readable names.
    assert at.multiselect(key="pred_models").value == ["published", "seasonal_naive_7"]
    assert "__all__" not in json.dumps(json.loads(at.get("vega_lite_chart")[0].proto.spec))


def test_per_series_choice_table(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    at.session_state["view"] = "Model quality"
    at.run()
    choice = at.dataframe[0].value.set_index("series")
    assert dict(choice["publishes"]) == {
        "Total (all categories)": "forest",
        "Electronics": "AutoETS",
        "Home": "level x weekday profile",
    }
    assert list(choice.columns) == [
        "publishes", "forest", "AutoETS", "level x weekday profile", "seasonal naive", "28-day mean"
    ]  # fmt: skip
    assert choice.loc["Electronics", "AutoETS"] == 40.0
    # The chosen cell of each row is highlighted.
    styles = at.dataframe[0].proto.arrow_data.styler.styles
    # series, publishes, forest, AutoETS, level x weekday profile: total -> forest, Electronics ->
    # AutoETS, Home -> level x weekday profile
    (rule,) = [r for r in styles.split("}") if "background-color: #fde2d8" in r]
    cells = sorted(c.strip().split("_", 2)[-1] for c in rule.split("{")[0].split(","))
    assert cells == ["row0_col2", "row1_col3", "row2_col4"]
    assert "Highlighted: what the series publishes" in texts(at.caption)


def test_kpi_cards_follow_the_picked_category(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    at.selectbox(key="series").select("Home").run()
    assert not at.exception
    m = metrics(at)
    # Home(i) = 400 + i + 30 WEEK[i % 7] for i = 180..209: 12000 + 5835 + 30 * 37 = 18945
    assert m["Revenue, last 30 days"][0] == "$18,945"
    assert m["Forecast, next 30 days"][0] == "$21,732"  # 40 % of 54,330
    assert m["Backtest error per day (MAE)"] == ("$31", "-22.5%")
    assert m["Backtest MASE"] == ("0.62", "-0.18")
    assert m["Forecast method"] == ("level x weekday profile", "per-series choice")
    assert "#### Home" in texts(at.markdown)
    assert (
        "Published forecast of Home: level x weekday profile (this series' choice on the backtest)."
        in (texts(at.caption))
    )
    at.selectbox(key="series").select("Electronics").run()
    assert metrics(at)["Forecast method"] == ("AutoETS", "per-series choice")
    assert not at.warning  # a category's own method is no fallback


def test_forecast_table_tab_and_csv(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    at.session_state["view"] = "Forecast table"
    at.run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert len(shown) == fx.HORIZON and set(shown["series"]) == {"total"}
    assert shown["forecast"].sum() == pytest.approx(fx.EXPECTED_NEXT_30_FORECAST)
    assert at.get("download_button")[0].proto.label.startswith("Download the forecast")
    at.toggle(key="table_all_series").set_value(True).run()
    assert len(at.dataframe[0].value) == 3 * fx.HORIZON


def test_series_selection_changes_the_chart_data(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    last_i = fx.HISTORY_DAYS - 1
    total = chart_frame(at)
    history = total.dropna(subset=["actual"])
    forecast = total.dropna(subset=["forecast"])
    assert len(history) == data.DEFAULT_HISTORY_DAYS  # default: the last 180 days
    assert len(forecast) == fx.HORIZON
    assert history["actual"].iloc[-1] == fx.total_revenue(last_i)
    assert forecast["forecast"].iloc[0] == fx.forecast_total(1)
    assert forecast["upper_95"].iloc[0] == fx.forecast_total(1) + 158  # 150 + 8 h

    at.selectbox(key="series").select("Home").run()
    assert not at.exception
    home = chart_frame(at)
    assert home["actual"].dropna().iloc[-1] == fx.category_revenue("Home", last_i)
    assert home["forecast"].dropna().iloc[0] == pytest.approx(0.4 * fx.forecast_total(1))
    assert "Home: daily revenue and forecast" in texts(at.subheader)


def test_history_range_selector(known_db, monkeypatch):
    at = run_app(known_db, monkeypatch)
    end = fx.default_end_date()
    slider = at.slider[0]
    assert slider.value == (end - timedelta(days=data.DEFAULT_HISTORY_DAYS - 1), end)
    slider.set_range(end - timedelta(days=29), end).run()
    assert not at.exception
    assert len(chart_frame(at).dropna(subset=["actual"])) == 30


def test_no_database_yet(tmp_path, monkeypatch):
    at = run_app(tmp_path / "missing.duckdb", monkeypatch)
    assert "No database yet" in texts(at.info)
    assert "make run" in texts(at.info)
    assert not at.metric and not at.error


def test_busy_database_then_retry_shows_the_data(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "busy.duckdb")
    monkeypatch.setattr(data, "READ_TIMEOUT_S", 0.3)
    with fx.hold_write_lock(db):
        at = run_app(db, monkeypatch)
        assert "database is busy" in texts(at.warning)
        assert at.button(key="retry").label == "Retry now"
        assert not at.metric
    at.button(key="retry").click().run()
    assert not at.exception
    assert not at.warning
    assert metrics(at)["Revenue, last 30 days"][0] == "$50,835"


def test_busy_from_the_read_helper(known_db, monkeypatch):
    """Whatever read raises DatabaseBusyError, the app shows the busy state, not a traceback."""
    from sales_platform import storage

    def busy(*args, **kwargs):
        raise storage.DatabaseBusyError("locked by a writer")

    monkeypatch.setattr(storage, "read_table", busy)
    at = run_app(known_db, monkeypatch)
    assert "database is busy" in texts(at.warning)


def test_missing_table(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "partial.duckdb", skip_tables=[T.DAILY_SALES])
    at = run_app(db, monkeypatch)
    assert "Table `daily_sales` is not in the database yet" in texts(at.error)
    assert "make run" in texts(at.error)
    assert not at.metric


def test_missing_optional_tables_show_the_rest(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(
        tmp_path / "partial.duckdb", skip_tables=[T.BACKTEST, T.FORECAST_ACCURACY]
    )
    at = run_app(db, monkeypatch)
    m = metrics(at)
    assert m["Revenue, last 30 days"][0] == "$50,835"
    assert m["Backtest MASE"][0] == "—"
    assert at.get("vega_lite_chart")
    at.session_state["view"] = "Model quality"
    at.run()
    assert not at.exception
    info = texts(at.info)
    assert "Table `backtest` is not in the database yet" in info
    assert "Table `forecast_accuracy` is not in the database yet" in info
    assert at.get("vega_lite_chart")  # the backtest predictions are still drawn


def test_older_schema_names_table_and_columns(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "old.duckdb", drop_columns={T.DAILY_SALES: ["revenue"]})
    at = run_app(db, monkeypatch)
    error = texts(at.error)
    assert "`daily_sales` comes from an older schema" in error and "`revenue`" in error

    db = fx.build_dashboard_db(
        tmp_path / "old_fc.duckdb", drop_columns={T.SALES_FORECAST: ["lower_95", "upper_95"]}
    )
    at = run_app(db, monkeypatch)
    warning = texts(at.warning)
    assert "`sales_forecast` comes from an older schema" in warning
    assert "`lower_95`, `upper_95`" in warning
    assert metrics(at)["Forecast, next 30 days"][0] == "—"
    assert at.get("vega_lite_chart")  # history is still drawn


def test_empty_tables(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(
        tmp_path / "empty.duckdb", empty_tables=[T.DAILY_SALES, T.SALES_FORECAST]
    )
    at = run_app(db, monkeypatch)
    assert "No sales data yet" in texts(at.info)

    db = fx.build_dashboard_db(tmp_path / "nofc.duckdb", empty_tables=[T.SALES_FORECAST])
    at = run_app(db, monkeypatch)
    assert "No forecast has been published yet" in texts(at.warning)
    assert metrics(at)["Revenue, last 30 days"][0] == "$50,835"


def test_series_without_history(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "new.duckdb", forecast_only_series=["Garden"])
    at = run_app(db, monkeypatch)
    assert "Garden" in at.selectbox(key="series").options
    at.selectbox(key="series").select("Garden").run()
    assert not at.exception
    assert "No sales history for **Garden**" in texts(at.info)
    frame = chart_frame(at)
    assert frame["actual"].isna().all() and len(frame) == fx.HORIZON


def test_stale_data_stale_forecast_and_fallback_warn(tmp_path, monkeypatch):
    today = datetime.now(UTC).date()
    db = fx.build_dashboard_db(
        tmp_path / "stale.duckdb",
        end_date=today - timedelta(days=10),
        created_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=5),
        gate_failed=True,
    )
    at = run_app(db, monkeypatch)
    warning = texts(at.warning)
    assert "Sales data is stale" in warning and "10 days ago" in warning
    assert "The forecast is stale" in warning
    assert "Fallback forecast" in warning and "**seasonal naive**" in warning
    assert "1.050, is not below seasonal naive's 1.000" in warning
    m = metrics(at)
    assert m["Forecast method"] == ("seasonal naive", "fallback")
    assert m["Backtest MASE"] == ("1.05", "+0.05")


def test_fallback_only_when_the_gate_failed(tmp_path, monkeypatch):
    # Every series publishing a baseline by its own choice, with the gate passed: no fallback.
    db = fx.build_dashboard_db(tmp_path / "chosen.duckdb", method="seasonal_naive_7")
    at = run_app(db, monkeypatch)
    assert "Fallback" not in texts(at.warning)
    assert metrics(at)["Forecast method"] == ("seasonal naive", "per-series choice")
    # No backtest (a history too short for one): the fallback, whatever the method says.
    db = fx.build_dashboard_db(tmp_path / "short.duckdb", empty_tables=[T.BACKTEST])
    at = run_app(db, monkeypatch)
    warning = texts(at.warning)
    assert "Fallback forecast" in warning and "too short for a backtest" in warning
    assert metrics(at)["Forecast method"][1] == "fallback"
    # No backtest table at all (an older database): unknown, no banner.
    db = fx.build_dashboard_db(tmp_path / "old.duckdb", skip_tables=[T.BACKTEST])
    at = run_app(db, monkeypatch)
    assert "Fallback" not in texts(at.warning)


def test_new_materialization_shows_up_on_rerun(tmp_path, monkeypatch):
    db = fx.build_dashboard_db(tmp_path / "sales.duckdb")
    at = run_app(db, monkeypatch)
    assert metrics(at)["Forecast method"][0] == "forest"
    time.sleep(0.01)
    fx.build_dashboard_db(db, gate_failed=True)  # a new materialization
    at.run()
    assert not at.exception
    assert metrics(at)["Forecast method"][0] == "seasonal naive"
    assert not texts(at.info)  # the page shows the new forecast: nothing to announce


def _notice_script(db: str, shown_version: str, shown_stamp: str | None) -> None:
    """The page's new-forecast fragment on its own, as it runs on a timer in a page left open."""
    from dashboard import app

    app.new_forecast_notice(db, shown_version, shown_stamp)


def test_page_left_open_notices_a_new_forecast(tmp_path):
    created = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    db = fx.build_dashboard_db(tmp_path / "sales.duckdb", created_at=created)
    shown_version = data.data_version(db)
    shown_stamp = data.read_forecast_stamp(db)

    def notice(version: str, stamp: str | None) -> AppTest:
        at = AppTest.from_function(
            _notice_script, args=(str(db), version, stamp), default_timeout=30
        )
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    assert not notice(shown_version, shown_stamp).info  # nothing new
    time.sleep(0.01)
    fx.build_dashboard_db(db, created_at=created, method="ets")  # same forecast, rewritten
    assert not notice(shown_version, shown_stamp).info  # the file changed, the forecast did not
    time.sleep(0.01)
    fx.build_dashboard_db(db, run_id="run-0002")  # a new run published
    at = notice(shown_version, shown_stamp)
    assert "New forecast available — reload" in texts(at.info)
    assert "run `run-0002`" in texts(at.info)
    assert at.button(key="reload_new_forecast").label == "Reload"
    with fx.hold_write_lock(db):  # a run is writing: no read, no notice, no error
        assert not notice("another-version", shown_stamp).info


def test_not_a_duckdb_file(tmp_path, monkeypatch):
    db = tmp_path / "garbage.duckdb"
    db.write_bytes(b"this is not a database" * 100)
    at = run_app(db, monkeypatch)
    assert "Could not read the database" in texts(at.error)
