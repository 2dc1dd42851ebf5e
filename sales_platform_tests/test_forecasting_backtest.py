"""Rolling-origin backtest: fold logic, refit per fold, honest intervals, the gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sales_platform import tables
from sales_platform.forecasting import (
    ALL_SERIES,
    CANDIDATES,
    ForecastConfig,
    IntervalCalibration,
    NotEnoughHistory,
    best_baseline,
    choose_methods,
    fold_origins,
    gate_passes,
    run_backtest,
    selection_table,
)
from sales_platform.forecasting import backtest as backtest_module
from sales_platform_tests.test_forecasting_features import toy_daily_sales

CONFIG = ForecastConfig(n_estimators=8, n_jobs=1)
FOLDS, HORIZON = 3, 14


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    return toy_daily_sales(days=260)


@pytest.fixture(scope="module")
def oracle(daily) -> pd.DataFrame:
    # A stand-in for the generator's expected demand: the actuals smoothed by 10%.
    return daily.assign(expected_revenue=daily["revenue"] * 0.9)[
        ["date", "series", "expected_revenue"]
    ]


@pytest.fixture(scope="module")
def result(daily, oracle):
    return run_backtest(daily, CONFIG, expected_demand=oracle, folds=FOLDS, horizon=HORIZON)


def test_fold_origins_end_on_the_last_day() -> None:
    assert fold_origins(100, 3, 10) == [69, 79, 89]


def test_tables_follow_the_contract(result) -> None:
    assert list(result.metrics.columns) == list(tables.COLUMNS[tables.BACKTEST])
    assert list(result.predictions.columns) == list(tables.COLUMNS[tables.BACKTEST_PREDICTIONS])
    models = {"published", *CANDIDATES, "oracle"}
    assert set(result.metrics["model"]) == models
    assert set(result.metrics["series"]) == {"total", "Alpha", "Beta", "Gamma", ALL_SERIES}
    assert (result.metrics["folds"] == FOLDS).all()
    assert not result.metrics[["mae", "rmse", "smape", "mase", "bias"]].isna().any().any()


def test_folds_are_consecutive_windows_ending_on_the_last_day(result, daily) -> None:
    p = result.predictions
    last = pd.Timestamp(daily["date"].max()).date()
    assert p["date"].max() == last
    per_fold = p[p["model"] == "random_forest"].groupby("fold")
    assert per_fold.size().tolist() == [HORIZON * 4] * (FOLDS + 1)  # with the warm-up fold 0
    for _fold, g in per_fold:
        assert g["horizon"].min() == 1 and g["horizon"].max() == HORIZON
        assert (pd.to_datetime(g["date"]) > pd.to_datetime(g["origin"])).all()
        assert (
            (pd.to_datetime(g["date"]) - pd.to_datetime(g["origin"])).dt.days == g["horizon"]
        ).all()
    origins = sorted(pd.to_datetime(p["origin"].unique()))
    assert np.diff(origins).astype("timedelta64[D]").astype(int).tolist() == [HORIZON] * FOLDS


def test_refit_per_fold_on_data_up_to_the_origin_only(daily, monkeypatch) -> None:
    seen = []
    real_fit = backtest_module.fit_forecaster

    def spy(train, config, promotions):
        seen.append(pd.to_datetime(train["date"]).max())
        return real_fit(train, config, promotions)

    monkeypatch.setattr(backtest_module, "fit_forecaster", spy)
    res = run_backtest(daily, CONFIG, folds=FOLDS, horizon=HORIZON)
    origins = sorted(pd.to_datetime(res.predictions["origin"].unique()))
    assert seen == origins  # one fit per fold, trained on nothing after its origin


def test_fold_forecasts_do_not_see_later_actuals(daily, result) -> None:
    first_origin = pd.to_datetime(result.predictions["origin"]).min()
    changed = daily.copy()
    later = pd.to_datetime(changed["date"]) > first_origin
    changed.loc[later, "revenue"] *= 2.0
    res = run_backtest(changed, CONFIG, folds=FOLDS, horizon=HORIZON)

    def fold0(r):
        p = r.predictions
        return p[(p["fold"] == 0) & (p["model"] == "random_forest")]["forecast"].to_numpy()

    np.testing.assert_array_equal(fold0(result), fold0(res))


def test_intervals_of_a_fold_are_calibrated_on_earlier_folds_only(result) -> None:
    p = result.predictions
    assert p.loc[p["fold"] == 0, "upper_80"].isna().all()  # the warm-up fold has no past
    for fold in range(1, FOLDS + 1):
        calib = IntervalCalibration.from_predictions(p[p["fold"] < fold])
        rows = p[(p["fold"] == fold) & (p["model"] == "random_forest") & (p["series"] == "Beta")]
        bounds = calib.bounds("random_forest", "Beta", rows["horizon"], rows["forecast"])
        np.testing.assert_allclose(rows["upper_80"], bounds["upper_80"])
        np.testing.assert_allclose(rows["lower_95"], bounds["lower_95"])
    assert result.calibration.has("random_forest") and result.calibration.has("oracle")


def test_published_fold_uses_the_choice_of_earlier_folds(result) -> None:
    """Top-down: the total publishes its choice; the categories' choices scaled to add up."""
    p = result.predictions.set_index(["series", "horizon"])
    names = ["total", "Alpha", "Beta", "Gamma"]
    for fold in range(1, FOLDS + 1):
        choice = choose_methods(result.predictions.query("fold < @fold"), names)
        rows = p[p["fold"] == fold]
        published = rows[rows["model"] == "published"]["forecast"]
        chosen = {s: rows[rows["model"] == choice[s]]["forecast"].loc[s] for s in names}
        np.testing.assert_allclose(published.loc["total"], chosen["total"])
        factors = [published.loc[s] / chosen[s] for s in names[1:]]
        np.testing.assert_allclose(factors[0], factors[1])
        np.testing.assert_allclose(factors[0], factors[2])


def test_warm_up_fold_is_not_scored(result) -> None:
    m = result.metrics
    assert (m["folds"] == FOLDS).all()
    p = result.predictions
    scored = p[(p["fold"] > 0) & (p["model"] == "published") & (p["series"] == "total")]
    row = m[(m["model"] == "published") & (m["series"] == "total")].iloc[0]
    assert row["mae"] == pytest.approx((scored["actual"] - scored["forecast"]).abs().mean())


def test_choice_scores_each_fold_relative_to_its_best_candidate() -> None:
    """A fold hard for every candidate does not outvote two easy folds: the plain MAE would pick
    weekday_level (34.7 against ets's 37.3), relative to each fold's best ets wins (1.03 / 1.67)."""
    errors = {"ets": [110.0, 1.0, 1.0], "weekday_level": [100.0, 2.0, 2.0]}
    rows = [
        {"series": "total", "fold": fold, "model": model, "actual": 0.0, "forecast": err[fold]}
        for model, err in errors.items()
        for fold in range(3)
    ]
    assert choose_methods(pd.DataFrame(rows), ["total"]) == {"total": "ets"}


def test_the_baselines_are_scored_but_never_chosen() -> None:
    """SeasonalNaive(7) best on both folds: the series publishes the best of the choices, and
    its relative scores are taken among the choices (ets 1.0, weekday_level 1.5)."""
    errors = {"seasonal_naive_7": [1.0, 1.0], "ets": [2.0, 2.0], "weekday_level": [3.0, 3.0]}
    rows = pd.DataFrame(
        [
            {"series": "total", "fold": fold, "model": model, "actual": 0.0, "forecast": err[fold]}
            for model, err in errors.items()
            for fold in range(2)
        ]
    )
    assert choose_methods(rows, ["total"]) == {"total": "ets"}
    table = selection_table(rows, ["total"]).iloc[0]
    assert "(1.000; next best 1.500)" in table["why"]
    assert table["seasonal_naive_7"] == 1.0  # its MAE is still shown beside the choices'


def test_oracle_rows_are_the_expected_demand(result, daily) -> None:
    p = result.predictions
    o = p[p["model"] == "oracle"]
    np.testing.assert_allclose(o["forecast"], o["actual"] * 0.9)


def test_all_series_row_pools_every_series(result) -> None:
    m = result.metrics.set_index(["model", "series"])
    per_series = [m.loc[("random_forest", s), "mase"] for s in ("total", "Alpha", "Beta", "Gamma")]
    assert m.loc[("random_forest", ALL_SERIES), "mase"] == pytest.approx(np.mean(per_series))


def test_short_history_gets_fewer_folds_then_a_clear_error() -> None:
    fewer = run_backtest(toy_daily_sales(days=150), CONFIG, folds=5, horizon=30)
    assert (fewer.metrics["folds"] == 2).all()  # (150 - 58) // 30 - 1
    with pytest.raises(NotEnoughHistory, match="too few to backtest"):
        run_backtest(toy_daily_sales(days=110), CONFIG, folds=5, horizon=30)


def _metrics(rf: float, naive: float, ma: float, series: str = "total") -> pd.DataFrame:
    rows = [
        {"series": series, "model": "published", "mase": rf},
        {"series": series, "model": "seasonal_naive_7", "mase": naive},
        {"series": series, "model": "moving_average_28", "mase": ma},
        {"series": "Alpha", "model": "random_forest", "mase": 9.0},
    ]
    return pd.DataFrame(rows)


def test_gate_passes_when_the_model_beats_seasonal_naive() -> None:
    ok, reason = gate_passes(_metrics(0.5, 0.9, 0.8))
    assert ok and "0.500" in reason and "0.900" in reason and "'total'" in reason


@pytest.mark.parametrize("rf", [0.9, 1.2])
def test_gate_fails_when_the_model_is_not_better(rf: float) -> None:
    ok, reason = gate_passes(_metrics(rf, 0.9, 0.8))
    assert not ok and "fails" in reason


def test_gate_uses_all_series_without_a_total_and_fails_on_missing_figures() -> None:
    ok, reason = gate_passes(_metrics(0.5, 0.9, 0.8, series=ALL_SERIES))
    assert ok and ALL_SERIES in reason
    ok, reason = gate_passes(_metrics(float("nan"), 0.9, 0.8))
    assert not ok and "cannot judge" in reason


def test_best_baseline_has_the_lowest_mase() -> None:
    assert best_baseline(_metrics(0.5, 0.9, 0.8)) == "moving_average_28"
    assert best_baseline(_metrics(0.5, 0.7, 0.8)) == "seasonal_naive_7"
    assert best_baseline(_metrics(0.5, float("nan"), float("nan"))) == "seasonal_naive_7"


def test_calibration_rebuilds_from_the_stored_table(result) -> None:
    stored = result.predictions.copy()
    stored["date"] = pd.to_datetime(stored["date"])  # as read back from DuckDB
    stored["origin"] = pd.to_datetime(stored["origin"])
    again = IntervalCalibration.from_predictions(stored)
    a = again.bounds("random_forest", "total", [1, 5], [100.0, 200.0])
    b = result.calibration.bounds("random_forest", "total", [1, 5], [100.0, 200.0])
    for key in a:
        np.testing.assert_allclose(a[key], b[key])
    summary = again.to_frame()
    assert {"model", "series", "n", "scale", "rel_lower_80", "rel_upper_95"} <= set(summary.columns)
    assert (summary["rel_lower_95"] <= summary["rel_lower_80"]).all()
