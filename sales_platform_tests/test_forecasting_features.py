"""Feature building: the sales_features table and the model's design rows never look ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sales_platform.calendar import CALENDAR_FEATURES
from sales_platform.forecasting import ForecastConfig, build_features
from sales_platform.forecasting.features import (
    DATE_POSITION_COLUMNS,
    calendar_matrix,
    design_matrix,
    event_days,
    feature_names,
    state_arrays,
    to_wide,
)
from sales_platform.tables import TOTAL_SERIES


def toy_daily_sales(
    days: int = 420,
    seed: int = 0,
    start: str = "2024-01-01",
    categories: tuple[str, ...] = ("Alpha", "Beta", "Gamma"),
) -> pd.DataFrame:
    """Small ``daily_sales``: trend x weekday pattern x noise per category, plus their total."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    t = np.arange(days)
    values = {}
    for i, cat in enumerate(categories):
        weekly = 1 + 0.25 * np.sin(2 * np.pi * (dates.dayofweek.to_numpy() + 2 * i) / 7)
        trend = 1000.0 * (i + 1) * (1 + 0.0008 * t)
        values[cat] = np.round(trend * weekly * rng.gamma(60, 1 / 60, days), 2)
    values[TOTAL_SERIES] = sum(values[c] for c in categories)
    frames = [
        pd.DataFrame({"date": dates, "series": name, "revenue": v, "units": 1, "orders": 1})
        for name, v in values.items()
    ]
    return pd.concat(frames, ignore_index=True)


SMALL = ForecastConfig(n_estimators=8, n_jobs=1)


def test_build_features_one_row_per_date_and_series() -> None:
    daily = toy_daily_sales(days=120)
    feats = build_features(daily, SMALL)
    assert len(feats) == 120 * 4
    assert not feats.duplicated(["date", "series"]).any()
    expected = {"date", "series", "revenue", "series_id", "level", "weekday_profile"}
    expected |= {f"lag_{k}" for k in (1, 7, 14, 28)}
    expected |= {f"roll_{s}_{w}" for s in ("mean", "std") for w in (7, 28)}
    expected |= set(CALENDAR_FEATURES)
    assert expected <= set(feats.columns)
    assert feats.loc[feats["series"] == TOTAL_SERIES, "series_id"].eq(0).all()


def test_lags_and_rolling_statistics_use_only_the_past() -> None:
    daily = toy_daily_sales(days=90)
    feats = build_features(daily, SMALL)
    s = feats[feats["series"] == "Beta"].reset_index(drop=True)
    revenue = s["revenue"].to_numpy()
    d = 60
    assert s.loc[d, "lag_1"] == revenue[d - 1]
    assert s.loc[d, "lag_7"] == revenue[d - 7]
    assert s.loc[d, "lag_28"] == revenue[d - 28]
    assert s.loc[d, "roll_mean_7"] == pytest.approx(revenue[d - 7 : d].mean())
    assert s.loc[d, "roll_std_28"] == pytest.approx(revenue[d - 28 : d].std(ddof=1))
    # The first rows lack history: NaN rather than a guess.
    assert np.isnan(s.loc[0, "lag_1"]) and np.isnan(s.loc[10, "roll_mean_28"])


def test_to_wide_zero_fills_missing_days_and_rejects_duplicates() -> None:
    daily = toy_daily_sales(days=20)
    gap = daily[daily["date"] != pd.Timestamp("2024-01-05")]
    panel = to_wide(gap)
    assert len(panel.dates) == 20 and panel.series[0] == TOTAL_SERIES
    assert (panel.values[4] == 0).all()
    with pytest.raises(ValueError, match="duplicate"):
        to_wide(pd.concat([daily, daily.head(1)]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=1, max_value=69),
    seed=st.integers(min_value=0, max_value=10_000),
    scale=st.floats(min_value=0.0, max_value=50.0),
)
def test_no_feature_of_a_day_depends_on_that_day_or_later(
    cut: int, seed: int, scale: float
) -> None:
    """Changing revenue on day ``cut`` and after never changes a feature of a day <= ``cut``."""
    daily = toy_daily_sales(days=70, seed=1, categories=("Alpha", "Beta"))
    changed = daily.copy()
    rng = np.random.default_rng(seed)
    after = pd.to_datetime(changed["date"]) >= daily["date"].min() + pd.Timedelta(days=cut)
    changed.loc[after, "revenue"] = changed.loc[after, "revenue"] * rng.uniform(
        0, scale, after.sum()
    )
    config = ForecastConfig(profile_weeks=2)
    a = build_features(daily, config)
    b = build_features(changed, config)
    keep = pd.to_datetime(a["date"]) <= daily["date"].min() + pd.Timedelta(days=cut)
    features = [c for c in a.columns if c != "revenue"]
    pd.testing.assert_frame_equal(a.loc[keep, features], b.loc[keep, features])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origin=st.integers(min_value=30, max_value=90),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_design_rows_use_nothing_after_their_origin(origin: int, seed: int) -> None:
    """A model row of origin ``o`` (any horizon) is the same whatever happens after ``o``."""
    daily = toy_daily_sales(days=130, seed=2)
    panel = to_wide(daily)
    config = ForecastConfig(profile_weeks=4)
    names, cal = calendar_matrix(pd.date_range(panel.dates[0], periods=160, freq="D"), "US")
    values = panel.values
    other = values.copy()
    rng = np.random.default_rng(seed)
    other[origin + 1 :] *= rng.uniform(0, 3, other[origin + 1 :].shape)
    origins = np.full(20, origin)
    steps = np.arange(1, 21)
    promo = np.zeros((len(cal), values.shape[1]))
    xa, la = design_matrix(values, names, cal, origins, steps, config, promo)
    xb, lb = design_matrix(other, names, cal, origins, steps, config, promo)
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(la, lb)


def test_the_forest_does_not_see_where_a_day_falls_in_its_month_or_year() -> None:
    """Two ordinary Tuesdays months apart get the same calendar features: the forest cannot split
    on a date's position (and learn last year's noise of that day); the weekday stays."""
    daily = toy_daily_sales(days=130, seed=2)
    panel = to_wide(daily)
    config = ForecastConfig(profile_weeks=4)
    names, cal = calendar_matrix(pd.date_range(panel.dates[0], periods=160, freq="D"), "US")
    columns = feature_names(config, names)
    assert not set(DATE_POSITION_COLUMNS) & set(columns)
    assert "day_of_week" in columns and set(DATE_POSITION_COLUMNS) <= set(names)
    promo = np.zeros((len(cal), panel.values.shape[1]))
    # Ordinary Tuesdays as the target days of one-step rows (origin the day before).
    targets = panel.dates.get_indexer(pd.to_datetime(["2024-02-06", "2024-04-16"]))
    x, _ = design_matrix(panel.values, names, cal, targets - 1, np.ones(2, int), config, promo)
    assert x.shape[1] == len(columns)
    calendar = [columns.index(c) for c in columns if c in names]
    n_series = panel.values.shape[1]
    np.testing.assert_array_equal(x[0, calendar], x[n_series, calendar])


def test_clean_level_skips_event_days() -> None:
    dates = pd.date_range("2025-11-01", periods=60, freq="D")
    names, cal = calendar_matrix(dates, "US")
    events = event_days(names, cal)
    values = np.full((60, 1), 100.0)
    values[events] = 400.0  # event days sell four times as much
    state = state_arrays(values, ForecastConfig(profile_weeks=1), events)
    assert events.sum() > 5
    assert state["level"][40, 0] == pytest.approx(100.0)
    plain = state_arrays(values, ForecastConfig(profile_weeks=1), None)
    assert plain["level"][40, 0] > 100.0
