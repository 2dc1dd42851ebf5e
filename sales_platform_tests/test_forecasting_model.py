"""The global forest: forecast frame, coherence, reproducibility, skops storage, no look-ahead."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from sales_platform.forecasting import (
    DEFAULT_METHOD,
    MODEL_VERSION,
    TRUSTED_TYPES,
    ForecastConfig,
    build_features,
    fit_forecaster,
    published_forecast,
)
from sales_platform.forecasting.features import YEAR, to_wide
from sales_platform.forecasting.intervals import FORECAST_FRAME_COLUMNS, forecast_frame
from sales_platform.forecasting.last_year import GROWTH_DAYS, with_last_year
from sales_platform.forecasting.model import forest_predict, predict_panel
from sales_platform.forecasting.selection import (
    EVENT_LAST_YEAR_WEIGHT,
    LAST_YEAR_WEIGHT,
    candidate_values,
)
from sales_platform.tables import TOTAL_SERIES
from sales_platform_tests.test_forecasting_features import toy_daily_sales

CONFIG = ForecastConfig(n_estimators=10, n_jobs=1)
HORIZON = 14
NO_BACKTEST = pd.DataFrame(columns=["model", "series", "horizon", "actual", "forecast"])


def forecast(model, daily, horizon=HORIZON) -> pd.DataFrame:
    """The forest candidate's own forecast frame (the published one chooses per series)."""
    panel = to_wide(daily, series=model.series)
    values = predict_panel(model, panel, horizon)
    return forecast_frame(panel.dates[-1], model.series, values, model.method, calibration=None)


def published(model, daily, horizon=HORIZON) -> pd.DataFrame:
    return published_forecast(model, daily, NO_BACKTEST, horizon)


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    return toy_daily_sales(days=400)


@pytest.fixture(scope="module")
def model(daily):
    return fit_forecaster(build_features(daily, CONFIG), CONFIG)


def test_published_frame(model, daily) -> None:
    frame = published(model, daily)
    assert list(frame.columns) == FORECAST_FRAME_COLUMNS
    assert len(frame) == 14 * 4
    assert set(frame["series"]) == set(daily["series"])
    assert (frame["method"] == DEFAULT_METHOD).all()  # no backtest rows to choose from
    first = pd.Timestamp(daily["date"].max()) + pd.Timedelta(days=1)
    assert frame["date"].min() == first.date()
    assert (
        frame.groupby("series")["horizon"].apply(list).map(lambda h: h == list(range(1, 15))).all()
    )
    assert (frame["forecast"] >= 0).all() and np.isfinite(frame["forecast"]).all()
    shorter = published(model, daily, horizon=5)
    assert shorter["horizon"].max() == 5


def test_categories_add_up_to_the_total(model, daily) -> None:
    frame = published(model, daily)
    wide = frame.pivot(index="date", columns="series", values="forecast")
    np.testing.assert_allclose(wide[TOTAL_SERIES], wide.drop(columns=TOTAL_SERIES).sum(axis=1))


def test_forecast_tracks_the_level(model, daily) -> None:
    """A sanity check of the ratio target: the forecast is on the scale of recent sales."""
    frame = forecast(model, daily)
    recent = daily[
        pd.to_datetime(daily["date"]) > pd.Timestamp(daily["date"].max()) - pd.Timedelta(days=28)
    ]
    for series, g in frame.groupby("series"):
        level = recent.loc[recent["series"] == series, "revenue"].mean()
        assert 0.8 * level < g["forecast"].mean() < 1.25 * level


def test_same_data_and_seed_give_bit_identical_forecasts(daily) -> None:
    a = forecast(fit_forecaster(daily, CONFIG), daily)
    b = forecast(fit_forecaster(daily, CONFIG.with_(n_jobs=2)), daily)
    np.testing.assert_array_equal(a["forecast"].to_numpy(), b["forecast"].to_numpy())
    c = forecast(fit_forecaster(daily, CONFIG.with_(random_state=7)), daily)
    assert not np.array_equal(a["forecast"].to_numpy(), c["forecast"].to_numpy())


def test_prediction_sums_the_trees_exactly_as_the_forest_does_on_one_thread(model) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, model.estimator.n_features_in_)).astype(np.float32)
    n_jobs = model.estimator.n_jobs
    model.estimator.set_params(n_jobs=1)
    try:
        expected = model.estimator.predict(X)
    finally:
        model.estimator.set_params(n_jobs=n_jobs)
    np.testing.assert_array_equal(forest_predict(model.estimator, X), expected)


def test_skops_round_trip(model, daily) -> None:
    data = sio.dumps(model)
    untrusted = set(sio.get_untrusted_types(data=data))
    assert untrusted <= set(TRUSTED_TYPES), untrusted - set(TRUSTED_TYPES)
    loaded = sio.loads(data, trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(
        forecast(model, daily)["forecast"].to_numpy(),
        forecast(loaded, daily)["forecast"].to_numpy(),
    )
    assert loaded.metadata() == model.metadata()


def test_model_attributes_are_skops_safe(model) -> None:
    allowed = (str, int, float, bool, list, dict, type(None))
    for name, value in vars(model).items():
        if name != "estimator":
            assert isinstance(value, allowed), name
            assert not isinstance(value, (pd.DataFrame, pd.Series)), name


def test_metadata(model) -> None:
    meta = model.metadata(top_n=5)
    json.dumps(meta)  # builtins only
    assert meta["model_version"] == MODEL_VERSION
    assert meta["training_rows"] == model.n_train_rows > 0
    assert len(meta["feature_importances"]) == 5
    assert set(meta["feature_importances"]) <= set(meta["features"])
    assert "lag_1" in meta["features"] and "is_black_friday" in meta["features"]
    assert meta["training_window_end"] == "2025-02-03"  # the last day of 400 from 2024-01-01
    assert meta["params"]["n_estimators"] == 10 and meta["fit_seconds"] >= 0


def test_training_window_is_capped(daily) -> None:
    long = toy_daily_sales(days=900)
    config = CONFIG.with_(max_train_days=200)
    model = fit_forecaster(long, config)
    assert model.n_train_rows == 200 * 4
    assert model.train_start == "2025-12-01"  # the last 200 of the days up to 2026-06-18
    assert model.train_end == "2026-06-18"


def test_unknown_series_raises(model, daily) -> None:
    extra = daily[daily["series"] == "Alpha"].assign(series="Delta")
    with pytest.raises(ValueError, match="Delta"):
        published(model, pd.concat([daily, extra]))


def test_recursion_feeds_back_predictions_not_actuals(daily) -> None:
    """Step 2 equals a one-step forecast from history + the step-1 *prediction*."""
    model = fit_forecaster(daily, CONFIG)
    two = forecast(model, daily, horizon=2)
    step1 = two[two["horizon"] == 1]
    extended = pd.concat(
        [daily, step1.rename(columns={"forecast": "revenue"})[["date", "series", "revenue"]]]
    )
    again = forecast(model, extended, horizon=1)
    np.testing.assert_allclose(
        two.loc[two["horizon"] == 2, "forecast"].to_numpy(), again["forecast"].to_numpy()
    )


def test_forecast_ignores_what_happens_after_the_origin(daily) -> None:
    """Cut at an origin: a forecast from data up to it is unchanged by any later actuals."""
    origin = pd.Timestamp("2024-12-31")
    past = daily[pd.to_datetime(daily["date"]) <= origin]
    model = fit_forecaster(past, CONFIG)
    changed = daily.copy()
    later = pd.to_datetime(changed["date"]) > origin
    changed.loc[later, "revenue"] *= 3.0
    panel_a = to_wide(past)
    panel_b = to_wide(changed[pd.to_datetime(changed["date"]) <= origin])
    np.testing.assert_array_equal(
        predict_panel(model, panel_a, HORIZON), predict_panel(model, panel_b, HORIZON)
    )


def test_too_little_history_raises() -> None:
    with pytest.raises(ValueError, match="not enough history"):
        fit_forecaster(toy_daily_sales(days=40), CONFIG)


def test_forest_candidate_blends_last_year_once_a_year_and_its_growth_window_exist() -> None:
    daily = toy_daily_sales(days=YEAR + GROWTH_DAYS + 5)
    model = fit_forecaster(daily, CONFIG)
    panel = to_wide(daily, series=model.series)
    forest = predict_panel(model, panel, HORIZON)
    blended = candidate_values(model, panel, HORIZON)[model.method]
    expected = with_last_year(
        forest,
        panel.values,
        panel.dates,
        panel.series,
        None,
        CONFIG.country,
        LAST_YEAR_WEIGHT,
        EVENT_LAST_YEAR_WEIGHT,
    )
    np.testing.assert_allclose(blended, expected)
    assert not np.allclose(blended, forest)
