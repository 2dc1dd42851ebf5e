"""score_forecasts on a hand-made example, and interval calibration on known residuals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sales_platform import tables
from sales_platform.forecasting import IntervalCalibration, score_forecasts
from sales_platform.forecasting.intervals import LEVELS


def _history() -> pd.DataFrame:
    rows = [
        # run r1 made on 2025-01-01: days 2 and 3 at horizons 1 and 2
        ("r1", "2025-01-02", "total", 1, 100.0, 90.0, 110.0, 80.0, 120.0),
        ("r1", "2025-01-03", "total", 2, 100.0, 90.0, 110.0, 80.0, 120.0),
        # run r2 made on 2025-01-02: days 3 and 4 (day 4 has no actual yet)
        ("r2", "2025-01-03", "total", 1, 130.0, 125.0, 135.0, 115.0, 145.0),
        ("r2", "2025-01-04", "total", 2, 100.0, 90.0, 110.0, 80.0, 120.0),
        ("r1", "2025-01-02", "Alpha", 1, 10.0, np.nan, np.nan, np.nan, np.nan),
    ]
    cols = ["run_id", "date", "series", "horizon", "forecast"]
    cols += ["lower_80", "upper_80", "lower_95", "upper_95"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _actuals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-02"]),
            "series": ["total", "total", "Alpha"],
            "revenue": [105.0, 140.0, 0.0],
        }
    )


def _rows(series: str, fold, horizon, forecast, actual) -> pd.DataFrame:
    """Backtest prediction rows of model ``m`` for the interval calibration."""
    return pd.DataFrame(
        {
            "model": "m",
            "series": series,
            "fold": fold,
            "horizon": horizon,
            "forecast": forecast,
            "actual": actual,
        }
    )


def test_score_forecasts_hand_computed() -> None:
    hist = pd.concat([_history(), _history().head(1)])  # a duplicated row of run r1
    out = score_forecasts(hist, _actuals())
    assert list(out.columns) == list(tables.COLUMNS[tables.FORECAST_ACCURACY])
    out = out.set_index(["series", "horizon"])
    # total, horizon 1: r1 day 2 (100 vs 105) and r2 day 3 (130 vs 140)
    h1 = out.loc[("total", 1)]
    assert h1["forecasts"] == 2
    assert h1["mae"] == pytest.approx((5 + 10) / 2)
    assert h1["mape"] == pytest.approx((100 * 5 / 105 + 100 * 10 / 140) / 2)
    assert h1["bias"] == pytest.approx((-5 - 10) / 2)
    assert h1["coverage_80"] == pytest.approx(0.5)  # 105 in [90, 110]; 140 not in [125, 135]
    assert h1["coverage_95"] == pytest.approx(1.0)  # 140 in [115, 145]
    # total, horizon 2: only r1 day 3 (100 vs 140); day 4 has no actual yet.
    h2 = out.loc[("total", 2)]
    assert h2["forecasts"] == 1 and h2["mae"] == pytest.approx(40.0)
    assert h2["coverage_80"] == 0.0 and h2["coverage_95"] == 0.0
    # Alpha: actual 0 gives no MAPE, no bounds give no coverage.
    alpha = out.loc[("Alpha", 1)]
    assert alpha["mae"] == pytest.approx(10.0)
    assert math.isnan(alpha["mape"]) and math.isnan(alpha["coverage_80"])
    assert out.index.get_level_values("series")[0] == "total"


def test_score_forecasts_empty_inputs() -> None:
    out = score_forecasts(_history().iloc[0:0], _actuals())
    assert out.empty and list(out.columns) == list(tables.COLUMNS[tables.FORECAST_ACCURACY])
    future_only = _history()[_history()["date"] == "2025-01-04"]
    assert score_forecasts(future_only, _actuals()).empty


def test_calibrated_intervals_cover_new_draws_at_their_level() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    forecast = rng.uniform(500, 5000, n)
    horizon = np.tile(np.arange(1, 31), n // 30)
    noise = 0.05 + 0.002 * horizon  # the error grows with the horizon
    preds = pd.DataFrame(
        {
            "model": "m",
            "series": np.where(np.arange(n) % 2 == 0, "a", "b"),
            "horizon": horizon,
            "forecast": forecast,
            "actual": forecast * (1 + noise * rng.standard_normal(n)),
        }
    )
    cal = IntervalCalibration.from_predictions(preds)
    fresh = forecast * (1 + noise * rng.standard_normal(n))
    for level, lo, hi in (("80", 0.77, 0.83), ("95", 0.93, 0.97)):
        inside = 0
        for s in ("a", "b"):
            mask = preds["series"].to_numpy() == s
            b = cal.bounds("m", s, horizon[mask], forecast[mask])
            inside += int(
                ((fresh[mask] >= b[f"lower_{level}"]) & (fresh[mask] <= b[f"upper_{level}"])).sum()
            )
        assert lo <= inside / n <= hi
    far = cal.bounds("m", "a", [1, 30], [1000.0, 1000.0])
    assert far["upper_95"][1] - far["lower_95"][1] > far["upper_95"][0] - far["lower_95"][0]
    unknown = cal.bounds("other", "a", [1], [1000.0])
    assert np.isnan(unknown["lower_80"]).all()


def test_a_steady_and_a_noisy_series_pooled_are_each_calibrated_on_both_sides() -> None:
    # Multiplicative errors, 10% and 80% (log scale): a noisy day is more often twice its forecast
    # than half of it. Pooled relative residuals gave the steady series 73.5% and the noisy one
    # 85.4% with 1.2% below its lower 80% bound; log residuals have one shape for both.
    rng = np.random.default_rng(5)
    n = 3000
    horizon = np.tile(np.arange(1, 31), n // 30)
    frames, fresh = [], {}
    for series, sigma in (("steady", 0.1), ("noisy", 0.8)):
        forecast = rng.uniform(500, 5000, n)
        actual = forecast * np.exp(sigma * rng.standard_normal(n))
        frames.append(_rows(series, np.arange(n) // 600, horizon, forecast, actual))
        fresh[series] = (forecast, forecast * np.exp(sigma * rng.standard_normal(n)))
    cal = IntervalCalibration.from_predictions(pd.concat(frames, ignore_index=True))
    for series, (forecast, actual) in fresh.items():
        b = cal.bounds("m", series, horizon, forecast)
        below = float((actual < b["lower_80"]).mean())
        above = float((actual > b["upper_80"]).mean())
        assert 0.76 <= 1 - below - above <= 0.84, series
        assert 0.05 <= below <= 0.15 and 0.05 <= above <= 0.15, series
        inside_95 = (actual >= b["lower_95"]) & (actual <= b["upper_95"])
        assert 0.93 <= float(inside_95.mean()) <= 0.97, series
    # A day without sales keeps finite bounds, the lower one at zero or above.
    zero = cal.bounds("m", "noisy", [1], [0.0])
    assert all(np.isfinite(v).all() and (v >= 0).all() for v in zero.values())


def test_quantiles_of_residuals_scaled_out_of_fold_cover_a_short_history() -> None:
    # 40 series of different noise, 2 folds of 5 days each: every scale rests on 10 residuals.
    rng = np.random.default_rng(3)
    n_series, folds, days = 40, 2, 5
    series = np.repeat([f"s{i}" for i in range(n_series)], folds * days)
    sigma = np.repeat(rng.uniform(0.05, 0.3, n_series), folds * days)
    forecast = np.full(series.size, 1000.0)
    fold = np.tile(np.repeat(np.arange(folds), days), n_series)
    actual = forecast * (1 + sigma * rng.standard_normal(series.size))
    preds = _rows(series, fold, 1, forecast, actual)
    fresh = forecast * (1 + sigma * rng.standard_normal((400, series.size)))

    def coverage_95(cal: IntervalCalibration) -> float:
        b = {s: cal.bounds("m", s, [1], [1000.0]) for s in np.unique(series)}
        lo = np.array([b[s]["lower_95"][0] for s in series])
        hi = np.array([b[s]["upper_95"][0] for s in series])
        return float(((fresh >= lo) & (fresh <= hi)).mean())

    # Each residual scaled by its own series' scale (no folds): too narrow (0.93 against 0.97).
    in_sample = coverage_95(IntervalCalibration.from_predictions(preds.drop(columns="fold")))
    out_of_fold = coverage_95(IntervalCalibration.from_predictions(preds))
    assert in_sample < 0.94 and out_of_fold - in_sample > 0.03
    assert 0.93 <= out_of_fold <= 0.98


def test_intervals_are_calibrated_on_the_last_three_folds() -> None:
    # Errors three times as large until three folds ago (a noisier season, a shop since settled):
    # calibrated on all six folds, the 80% intervals covered the next month's days 99% of the time.
    rng = np.random.default_rng(11)
    n_series, folds, days = 10, 6, 30
    sigma = rng.uniform(0.1, 0.3, n_series)
    frames = []
    for j in range(n_series):
        for fold in range(folds):
            forecast = rng.uniform(500, 5000, days)
            spread = sigma[j] * (3.0 if fold < folds - 3 else 1.0)
            actual = forecast * np.exp(spread * rng.standard_normal(days))
            frames.append(_rows(f"s{j}", fold, np.arange(1, days + 1), forecast, actual))
    cal = IntervalCalibration.from_predictions(pd.concat(frames, ignore_index=True))
    inside = {"80": [], "95": []}
    for j in range(n_series):
        forecast = rng.uniform(500, 5000, 3000)
        actual = forecast * np.exp(sigma[j] * rng.standard_normal(forecast.size))
        b = cal.bounds("m", f"s{j}", np.tile(np.arange(1, days + 1), 100), forecast)
        for level in inside:
            inside[level].append((actual >= b[f"lower_{level}"]) & (actual <= b[f"upper_{level}"]))
    assert 0.75 <= float(np.mean(inside["80"])) <= 0.85
    assert 0.92 <= float(np.mean(inside["95"])) <= 0.98


def test_a_steady_total_among_many_lumpy_categories_keeps_its_own_calibration() -> None:
    # Twelve categories with sales on 40% of days: their normalized residuals have another shape
    # than the total's. Pooled with them, the total's 80% intervals covered 55.6% of new days.
    rng = np.random.default_rng(7)
    days = 60

    def steady(forecast):
        return forecast * np.exp(0.1 * rng.standard_normal(forecast.size))

    def lumpy(forecast):
        sale = rng.random(forecast.size) < 0.4
        return np.where(sale, forecast / 0.4 * np.exp(0.5 * rng.standard_normal(forecast.size)), 0)

    frames = []
    for series, draw in [("total", steady)] + [(f"c{j}", lumpy) for j in range(12)]:
        for fold in range(3):
            forecast = rng.uniform(500, 5000, days)
            frames.append(_rows(series, fold, np.arange(1, days + 1), forecast, draw(forecast)))
    cal = IntervalCalibration.from_predictions(pd.concat(frames, ignore_index=True))
    forecast = rng.uniform(500, 5000, 6000)
    actual = steady(forecast)
    b = cal.bounds("m", "total", np.tile(np.arange(1, days + 1), 100), forecast)
    inside = {lvl: (actual >= b[f"lower_{lvl}"]) & (actual <= b[f"upper_{lvl}"]) for lvl in LEVELS}
    assert 0.72 <= float(inside["80"].mean()) <= 0.88
    assert 0.90 <= float(inside["95"].mean()) <= 0.99
