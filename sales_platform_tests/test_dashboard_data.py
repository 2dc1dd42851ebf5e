"""The dashboard's read-only loading and KPI functions, on a small database with known values."""

from __future__ import annotations

import io
import math
import time
from datetime import datetime, timedelta

import pandas as pd
import pytest

from dashboard import charts, data
from sales_platform import storage
from sales_platform import tables as T
from sales_platform_tests import dashboard_fixtures as fx


@pytest.fixture(scope="module")
def known_db(tmp_path_factory):
    return fx.build_dashboard_db(tmp_path_factory.mktemp("dash") / "sales.duckdb")


@pytest.fixture(scope="module")
def known(known_db):
    return data.load_dashboard_data(known_db)


def test_load_reads_every_table_of_the_contract(known):
    assert known.issues == {}
    assert not known.blocking_issues
    assert len(known.daily_sales) == fx.HISTORY_DAYS * 3
    assert len(known.sales_forecast) == fx.HORIZON * 3
    assert set(known.daily_sales.columns) == set(T.COLUMNS[T.DAILY_SALES])
    assert known.daily_sales["date"].dtype == "datetime64[ns]"
    assert set(known.backtest["model"]) == {
        "published",
        "random_forest",
        "ets",
        "weekday_level",
        "seasonal_naive_7",
        "moving_average_28",
    }
    assert set(known.backtest_predictions["fold"]) == {0, 1, 2, 3}


def test_headline_kpis_match_hand_computed_values(known):
    head = data.headline_kpis(known.daily_sales, known.sales_forecast)
    assert head.window_days == 30
    assert head.last_date == fx.default_end_date()
    assert head.actual == pytest.approx(fx.EXPECTED_LAST_30_REVENUE)  # 50,835
    assert head.forecast == pytest.approx(fx.EXPECTED_NEXT_30_FORECAST)  # 54,330
    assert head.change_pct == pytest.approx(fx.EXPECTED_CHANGE_PCT)  # +6.875 %
    assert head.range80_summed == pytest.approx(fx.EXPECTED_RANGE_80_SUMMED)  # 49,005 .. 59,655
    lo, hi = head.range80_independent
    assert hi - fx.EXPECTED_NEXT_30_FORECAST == pytest.approx(fx.EXPECTED_RANGE_80_INDEPENDENT_HALF)
    assert fx.EXPECTED_NEXT_30_FORECAST - lo == pytest.approx(fx.EXPECTED_RANGE_80_INDEPENDENT_HALF)
    # The independent-errors range is always inside the summed-bounds range.
    assert head.range80_summed[0] <= lo < hi <= head.range80_summed[1]
    assert head.forecast_start == fx.default_end_date() + timedelta(days=1)


def test_headline_kpis_of_a_category(known):
    head = data.headline_kpis(known.daily_sales, known.sales_forecast, "Home")
    # Home(i) = 400 + i + 30 WEEK[i % 7] for i = 180..209: 12000 + 5835 + 30 * 37
    assert head.actual == pytest.approx(12_000 + 5_835 + 30 * 37)
    assert head.forecast == pytest.approx(0.4 * fx.EXPECTED_NEXT_30_FORECAST)


def test_headline_compares_like_with_like_when_the_forecast_is_shorter():
    days = pd.date_range("2025-01-01", periods=40, freq="D")
    sales = pd.DataFrame(
        {"date": days, "series": "total", "revenue": 10.0, "units": 1, "orders": 1}
    )
    fc = pd.DataFrame(
        {
            "date": pd.date_range("2025-02-10", periods=14, freq="D"),
            "series": "total",
            "horizon": range(1, 15),
            "forecast": 11.0,
            "lower_80": 9.0,
            "upper_80": 13.0,
        }
    )
    head = data.headline_kpis(sales, fc)
    assert head.window_days == 14
    assert head.actual == pytest.approx(140.0)
    assert head.forecast == pytest.approx(154.0)
    assert head.change_pct == pytest.approx(10.0)
    assert head.range80_summed == pytest.approx((126.0, 182.0))
    assert head.range80_independent == pytest.approx(
        (154 - 2 * math.sqrt(14), 154 + 2 * math.sqrt(14))
    )


def test_headline_without_forecast_or_history():
    head = data.headline_kpis(None, None)
    assert head.actual is None and head.forecast is None and head.change_pct is None
    assert head.range80_summed is None


def test_backtest_accuracy_of_published_vs_seasonal_naive(known):
    acc = data.backtest_accuracy(known.backtest)  # the `published` row, not a candidate's
    assert (acc.model_mae, acc.model_mase) == (fx.EXPECTED_MODEL_MAE, fx.EXPECTED_MODEL_MASE)
    assert (acc.baseline_mae, acc.baseline_mase) == (
        fx.EXPECTED_BASELINE_MAE,
        fx.EXPECTED_BASELINE_MASE,
    )
    assert acc.mae_change_pct == pytest.approx(fx.EXPECTED_MAE_CHANGE_PCT)
    assert acc.folds == 3
    assert data.backtest_accuracy(known.backtest, model="no_such_model") is None
    assert data.backtest_accuracy(None) is None
    home = data.backtest_accuracy(known.backtest, "Home")
    assert home.model_mae == fx.EXPECTED_HOME_MODEL_MAE
    assert home.mae_change_pct == pytest.approx(fx.EXPECTED_HOME_MAE_CHANGE_PCT)


def test_backtest_table_has_relative_mae_labels_and_published_first(known):
    table = data.backtest_table(known.backtest)
    assert list(table["series"].unique()) == ["total", "Electronics", "Home", "__all__"]
    assert list(table["series_label"].unique()) == [
        "Total (all categories)",
        "Electronics",
        "Home",
        "all series (pooled)",
    ]
    total = table[table["series"] == "total"]
    assert list(total["model"]) == [
        "published",
        "random_forest",
        "ets",
        "weekday_level",
        "seasonal_naive_7",
        "moving_average_28",
    ]
    assert list(total["model_label"]) == [
        "published (per-series choice)",
        "forest",
        "AutoETS",
        "level x weekday profile",
        "seasonal naive",
        "28-day mean",
    ]
    assert list(total["relative_mae"]) == pytest.approx([0.8, 0.75, 0.9, 0.82, 1.0, 1.2])


def test_backtest_window_error_scores_published_on_folds_from_1(known):
    err, folds = data.backtest_window_error(known.backtest_predictions)
    # Each fold: 15 days +70, 15 days -50 -> the fold total is off by +300.
    sums = (
        known.backtest_predictions.query("series == 'total' and model == 'published' and fold > 0")
        .groupby("fold")["actual"]
        .sum()
    )
    assert folds == 3  # the warm-up fold 0 is not scored
    assert err == pytest.approx((300 / sums).mean() * 100)


def test_freshness_and_stale_thresholds(known):
    end = fx.default_end_date()
    created = known.sales_forecast["created_at"].max().to_pydatetime()
    at = datetime.combine(end, datetime.min.time()) + timedelta(days=1, hours=12)
    fresh = data.freshness(known.daily_sales, known.sales_forecast, now=at)
    assert fresh.data_through == end
    assert fresh.data_age_days == 1
    assert fresh.run_id == fx.RUN_ID and fresh.model_version == fx.MODEL_VERSION
    assert fresh.forecast_created_at == created

    two_days = data.freshness(known.daily_sales, None, now=at + timedelta(days=1))
    assert two_days.data_age_days == data.DATA_STALE_AFTER_DAYS and not two_days.data_stale
    three_days = data.freshness(known.daily_sales, None, now=at + timedelta(days=2))
    assert three_days.data_stale

    just_fresh = data.freshness(None, known.sales_forecast, now=created + data.FORECAST_STALE_AFTER)
    assert not just_fresh.forecast_stale
    stale = data.freshness(
        None, known.sales_forecast, now=created + data.FORECAST_STALE_AFTER + timedelta(seconds=1)
    )
    assert stale.forecast_stale


def test_methods_per_series(known):
    assert data.forecast_methods(known.sales_forecast) == ["random_forest", "ets", "weekday_level"]
    assert data.forecast_methods(known.sales_forecast, "Home") == ["weekday_level"]
    assert data.series_methods(known.sales_forecast) == fx.METHODS
    assert data.forecast_methods(None) == []


def test_gate_passes_although_series_publish_different_methods(known):
    gate = data.gate_status(known.backtest)
    assert gate.passed and not gate.fallback and not gate.no_backtest
    assert (gate.series, gate.published_mase, gate.baseline_mase) == ("total", 0.8, 1.0)
    assert "0.800, is below seasonal naive's 1.000" in gate.reason()


def test_gate_fails_when_published_does_not_beat_seasonal_naive(tmp_path):
    db = fx.build_dashboard_db(tmp_path / "failed.duckdb", gate_failed=True)
    loaded = data.load_dashboard_data(db)
    gate = data.gate_status(loaded.backtest)
    assert gate.fallback and gate.published_mase == 1.05
    assert "is not below" in gate.reason()
    assert data.forecast_methods(loaded.sales_forecast) == ["seasonal_naive_7"]


def test_a_baseline_chosen_by_one_series_is_no_fallback():
    """A series may choose a baseline on its backtest: that is the choice, not the fallback."""
    backtest = pd.DataFrame(
        {"series": ["total", "total", "Home", "Home"],
         "model": ["published", "seasonal_naive_7", "published", "seasonal_naive_7"],
         "mase": [0.9, 1.0, 1.3, 1.2]}
    )  # fmt: skip
    assert data.gate_status(backtest).passed  # judged on the total only


def test_gate_without_total_uses_the_pooled_row_and_empty_backtest_is_fallback():
    pooled = pd.DataFrame(
        {"series": ["__all__", "__all__"], "model": ["published", "seasonal_naive_7"],
         "mase": [1.1, 1.0]}
    )  # fmt: skip
    gate = data.gate_status(pooled)
    assert gate.series == "__all__" and gate.fallback
    assert "all series" in gate.reason()
    empty = data.gate_status(pooled.iloc[0:0])
    assert empty.fallback and empty.no_backtest and "too short" in empty.reason()
    assert data.gate_status(None) is None  # no table: unknown, not a fallback
    no_published = data.gate_status(pooled[pooled["model"] != "published"])
    assert no_published.fallback  # nothing to judge: the platform publishes the baseline


def test_candidate_mae_marks_each_series_choice(known):
    table = data.candidate_mae(known.backtest_predictions, known.sales_forecast)
    assert list(table["series"]) == ["total", "Electronics", "Home"]
    assert list(table.columns) == ["series", "publishes", *fx.CANDIDATE_MAE["total"]]
    for _, row in table.iterrows():
        expected = fx.CANDIDATE_MAE[row["series"]]
        assert row[list(expected)].tolist() == pytest.approx(list(expected.values()))
        # The published method is the candidate with the lowest MAE.
        assert row["publishes"] == min(expected, key=expected.get) == fx.METHODS[row["series"]]
    assert data.candidate_mae(None).empty


def test_labels():
    assert data.model_label("published") == "published (per-series choice)"
    assert data.model_label("random_forest") == "forest"
    assert data.model_label("ets") == "AutoETS"
    assert data.model_label("weekday_level") == "level x weekday profile"
    assert data.model_label("seasonal_naive_7") == "seasonal naive"
    assert data.model_label("moving_average_28") == "28-day mean"
    assert data.model_label("something_new") == "something_new"
    assert data.series_label("__all__") == "all series (pooled)"


def test_forecast_stamp_read_back_changes_with_a_new_run(tmp_path):
    db = fx.build_dashboard_db(tmp_path / "stamp.duckdb")
    loaded = data.load_dashboard_data(db)
    stamp = data.forecast_stamp(loaded.sales_forecast)
    assert stamp.startswith(f"{fx.RUN_ID}@")
    assert data.read_forecast_stamp(db) == stamp
    fx.build_dashboard_db(db, run_id="run-0002")
    assert data.read_forecast_stamp(db).startswith("run-0002@")
    assert data.forecast_stamp(None) is None
    fx.build_dashboard_db(db, empty_tables=[T.SALES_FORECAST])
    assert data.read_forecast_stamp(db) is None


def test_series_options_total_first(known):
    assert data.series_options(known.daily_sales, known.sales_forecast) == [
        "total",
        "Electronics",
        "Home",
    ]
    assert data.series_options(None, None) == []
    assert data.series_label("total") == "Total (all categories)"


def test_history_slices_and_default_range(known):
    bounds = data.history_bounds(known.daily_sales)
    end = fx.default_end_date()
    assert bounds == (end - timedelta(days=fx.HISTORY_DAYS - 1), end)
    start, stop = data.default_history_range(bounds)
    assert (stop - start).days == data.DEFAULT_HISTORY_DAYS - 1
    assert len(data.history(known.daily_sales, "total", start, stop)) == data.DEFAULT_HISTORY_DAYS
    assert data.history(known.daily_sales, "nope").empty
    short = (end - timedelta(days=9), end)
    assert data.default_history_range(short) == short


def test_accuracy_summary(known):
    acc = data.accuracy_for(known.forecast_accuracy, "total")
    assert list(acc["horizon"]) == list(range(1, 31))
    summary = data.accuracy_summary(acc)
    assert summary["mae"] == pytest.approx(50 + 2 * 15.5)  # mean of 50 + 2h over h = 1..30
    assert data.accuracy_summary(data.accuracy_for(None, "total")) is None


def test_forecast_csv_has_every_series_and_contract_columns(known):
    df = pd.read_csv(io.BytesIO(data.forecast_csv(known.sales_forecast)))
    assert len(df) == fx.HORIZON * 3
    assert list(df.columns[:8]) == ["date", "series", "horizon", "forecast", "lower_80",
                                    "upper_80", "lower_95", "upper_95"]  # fmt: skip
    assert df["series"].iloc[0] == "total"
    assert df.loc[df["series"] == "total", "forecast"].sum() == pytest.approx(54_330)


def test_missing_tables_and_older_schema_are_reported(tmp_path):
    db = fx.build_dashboard_db(
        tmp_path / "old.duckdb",
        skip_tables=[T.BACKTEST],
        drop_columns={T.SALES_FORECAST: ["lower_95", "upper_95"]},
    )
    loaded = data.load_dashboard_data(db)
    assert loaded.backtest is None and loaded.sales_forecast is None
    assert loaded.issues[T.BACKTEST].missing_table
    assert "`backtest` is not in the database" in loaded.issues[T.BACKTEST].message()
    issue = loaded.issues[T.SALES_FORECAST]
    assert issue.missing_columns == ("lower_95", "upper_95")
    assert "`sales_forecast`" in issue.message() and "`lower_95`, `upper_95`" in issue.message()
    assert not loaded.blocking_issues  # daily_sales is fine: history can still be shown
    assert loaded.daily_sales is not None


def test_missing_daily_sales_blocks(tmp_path):
    db = fx.build_dashboard_db(tmp_path / "none.duckdb", skip_tables=[T.DAILY_SALES])
    loaded = data.load_dashboard_data(db)
    assert [i.table for i in loaded.blocking_issues] == [T.DAILY_SALES]


def test_no_database(tmp_path):
    assert data.data_version(tmp_path / "nope.duckdb") is None
    with pytest.raises(storage.DatabaseNotFoundError):
        data.load_dashboard_data(tmp_path / "nope.duckdb")


def test_busy_database_raises_busy(tmp_path):
    db = fx.build_dashboard_db(tmp_path / "busy.duckdb")
    with fx.hold_write_lock(db), pytest.raises(storage.DatabaseBusyError):
        data.load_dashboard_data(db, timeout_s=0.2)
    assert data.load_dashboard_data(db, timeout_s=5).issues == {}


def test_data_version_changes_with_every_write(tmp_path):
    db = fx.build_dashboard_db(tmp_path / "v.duckdb")
    v1 = data.data_version(db)
    assert v1 == data.data_version(db)
    data.load_dashboard_data(db)  # reading does not change the version
    assert data.data_version(db) == v1
    time.sleep(0.01)
    fx.build_dashboard_db(db, gate_failed=True)
    assert data.data_version(db) != v1


def test_database_path_from_environment():
    assert str(data.database_path({})) == "data/sales.duckdb"
    assert str(data.database_path({"SALES_DUCKDB_PATH": "/x/y.duckdb"})) == "/x/y.duckdb"


def test_amounts_are_in_the_shops_currency(monkeypatch):
    monkeypatch.setenv("SALES_CURRENCY", "gbp")
    assert data.format_currency(-1234.4) == "-£1,234"
    monkeypatch.setenv("SALES_CURRENCY", "CHF")  # no sign of its own: the code
    assert data.format_currency(1234.4) == "CHF 1,234"
    chart = charts.in_currency(charts.alt.Chart(pd.DataFrame({"a": [1.0]})).mark_bar())
    assert chart.to_dict()["config"]["locale"]["number"]["currency"] == ["CHF ", ""]
    monkeypatch.setenv("SALES_CURRENCY", "pounds")
    with pytest.raises(ValueError, match="SALES_CURRENCY='pounds' is not a currency code"):
        data.format_currency(1.0)


def test_formatting():
    assert data.format_currency(1234567.8) == "$1,234,568"
    assert data.format_currency(-1234.0) == "-$1,234"
    assert data.format_currency(None) == "—"
    assert data.format_currency(float("nan")) == "—"
    assert data.format_pct(6.875) == "+6.9%"
    assert data.format_pct(-20) == "-20.0%"
    assert data.format_pct(73.3, 0, signed=False) == "73%"
    assert data.format_number(0.8) == "0.80"
    assert data.format_age(timedelta(minutes=5)) == "5 min ago"
    assert data.format_age(timedelta(hours=3)) == "3 h ago"
    assert data.format_age(timedelta(days=3)) == "3 days ago"
    assert data.format_days_ago(1) == "1 day ago"
    assert data.format_days_ago(0) == "today"


def test_the_dashboard_names_every_candidate_the_platform_can_publish():
    """The dashboard keeps its own copy of the ``method`` values (it reads the tables, not the
    pipeline); a candidate added to the platform must get a name there too."""
    from sales_platform.forecasting.selection import CANDIDATES, CHOICES

    assert data.CANDIDATES == CANDIDATES and data.CHOICES == CHOICES
    assert set(CANDIDATES) <= set(data.MODEL_LABELS)
