"""Forecast benchmark: speed, backtest accuracy (baselines, skforecast, oracle) and coverage.

    python benchmarks/forecast_benchmark.py                 # default synthetic shop, seed 42
    python benchmarks/forecast_benchmark.py --end 2026-01-10 --seed 7
    python benchmarks/forecast_benchmark.py --select   # how the defaults were chosen (dev seeds)
    python benchmarks/forecast_benchmark.py --demand-noise 0   # no day-level demand shocks

On the default synthetic data (seed 42, about 1,400 order lines a day, two years ending yesterday)
it prints:

- fit + forecast time for the total and every category (features, fit, 30-day forecast), and the
  same on four years of history (the training window is capped, so it should cost about the same);
- the full backtest time (5 rolling-origin folds of 30 days, refit per fold);
- backtest MAE of the total series relative to SeasonalNaive(7) for our model, the baselines,
  skforecast's ``ForecasterRecursive`` with the same RandomForest (same folds, same lags, rolling
  means/stds and calendar exogenous features) and the oracle (the generator's expected demand);
- empirical coverage of the 80% / 95% intervals (cross-conformal: out-of-sample per fold).

skforecast is a benchmark-only dependency (``pip install skforecast``); without it the comparison
is skipped. Daily sales are aggregated from the synthetic orders in pandas here; the pipeline does
the same in DuckDB SQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sales_platform.calendar import calendar_features  # noqa: E402
from sales_platform.forecasting import (  # noqa: E402
    ALL_SERIES,
    ForecastConfig,
    build_features,
    fit_forecaster,
    forecast,
    gate_passes,
    run_backtest,
)
from sales_platform.forecasting.backtest import fold_origins  # noqa: E402
from sales_platform.forecasting.features import to_wide  # noqa: E402
from sales_platform.forecasting.model import make_estimator  # noqa: E402
from sales_platform.synthetic import (  # noqa: E402
    ShopConfig,
    expected_demand,
    generate_orders,
    generate_products,
)
from sales_platform.tables import TOTAL_SERIES  # noqa: E402


def synthetic_daily_sales(start: dt.date, end: dt.date, shop: ShopConfig) -> pd.DataFrame:
    """``daily_sales`` from synthetic orders: total and per category, zero-filled days."""
    orders = generate_orders(start, end, shop)
    products = generate_products(shop)[["product_id", "category"]]
    lines = orders.merge(products, on="product_id", how="left")
    lines["date"] = pd.to_datetime(lines["order_date"]).dt.normalize()
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", name="date")
    frames = []
    groups = [(TOTAL_SERIES, lines), *lines.groupby("category", sort=True)]
    for series, g in groups:
        daily = g.groupby("date").agg(
            revenue=("amount", "sum"), units=("quantity", "sum"), orders=("order_id", "nunique")
        )
        daily = daily.reindex(days, fill_value=0).reset_index()
        daily["series"] = str(series)
        frames.append(daily)
    out = pd.concat(frames, ignore_index=True)
    out["units"] = out["units"].astype(np.int64)
    out["orders"] = out["orders"].astype(np.int64)
    return out[["date", "series", "revenue", "units", "orders"]]


def oracle_with_estimated_level(
    daily: pd.DataFrame, oracle: pd.DataFrame, folds: int, horizon: int, window: int = 28
) -> float:
    """MAE on the total of the oracle's shape rescaled to the last ``window`` days' actuals.

    The floor of a model that knew the demand model exactly but had to estimate its level.
    """
    panel = to_wide(daily)
    total = panel.series.index(TOTAL_SERIES)
    actual = panel.values[:, total]
    expected = to_wide(oracle, value="expected_revenue", series=panel.series).values[:, total]
    errors = []
    for o in fold_origins(len(actual), folds, horizon):
        past = slice(o + 1 - window, o + 1)
        scale = actual[past].sum() / expected[past].sum()
        future = slice(o + 1, o + 1 + horizon)
        errors.append(np.abs(actual[future] - scale * expected[future]))
    return float(np.concatenate(errors).mean())


def time_fit_forecast(
    daily: pd.DataFrame, config: ForecastConfig, repeat: int = 3
) -> tuple[float, int]:
    """Best-of-``repeat`` seconds of features + fit + 30-day forecast, and the training rows."""
    best, rows = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        model = fit_forecaster(build_features(daily, config), config)
        forecast(model, daily, None)
        best = min(best, time.perf_counter() - start)
        rows = model.n_train_rows
    return best, rows


def skforecast_backtest(
    daily: pd.DataFrame, config: ForecastConfig, folds: int, horizon: int, differentiation=None
):
    """MAE of skforecast's ForecasterRecursive on the total series over the same folds."""
    from skforecast.preprocessing import RollingFeatures
    from skforecast.recursive import ForecasterRecursive

    panel = to_wide(daily)
    y_all = pd.Series(
        panel.values[:, panel.series.index(TOTAL_SERIES)], index=panel.dates, name="y"
    )
    y_all.index.freq = "D"
    future = pd.date_range(panel.dates[0], periods=len(panel.dates) + horizon, freq="D")
    exog_all = calendar_features(future, country=config.country).astype(float)
    exog_all.index = future
    exog_all.index.freq = "D"
    errors = []
    for origin in fold_origins(len(panel.dates), folds, horizon):
        y = y_all.iloc[: origin + 1]
        forecaster = ForecasterRecursive(
            estimator=make_estimator(config),
            lags=list(config.lags),
            window_features=RollingFeatures(
                stats=["mean", "std"] * len(config.windows),
                window_sizes=[w for w in config.windows for _ in range(2)],
            ),
            differentiation=differentiation,
        )
        forecaster.fit(y=y, exog=exog_all.loc[y.index])
        steps = pd.date_range(y.index[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
        pred = forecaster.predict(steps=horizon, exog=exog_all.loc[steps])
        actual = y_all.iloc[origin + 1 : origin + 1 + horizon].to_numpy()
        errors.append(np.abs(actual - pred.to_numpy()))
    return float(np.concatenate(errors).mean())


DEV_SETS = (  # development data: other seeds and end dates than the benchmark's (seed 42)
    (7, dt.date(2026, 11, 27)),
    (7, dt.date(2026, 1, 10)),
    (11, dt.date(2026, 6, 30)),
)
CANDIDATES: dict[str, dict] = {
    "default (recursive, ratio to clean level x weekday profile, wls)": {},
    "ratio to clean level only": {"profile_in_target": False},
    "ratio to plain 28-day mean x profile": {"clean_level": False},
    "log ratio": {"target_transform": "log_ratio"},
    "raw revenue (no level)": {"target_transform": "none", "profile_in_target": False},
    "direct (horizon as a feature, every 7th origin)": {"strategy": "direct", "origin_stride": 7},
    "bottom-up reconciliation": {"reconciliation": "bottom_up"},
    "top-down reconciliation": {"reconciliation": "top_down"},
    "min_samples_leaf=5, max_samples=0.3": {"min_samples_leaf": 5, "max_samples": 0.3},
    "min_samples_leaf=10": {"min_samples_leaf": 10},
    "min_samples_leaf=30": {"min_samples_leaf": 30},
    "300 trees": {"n_estimators": 300},
    "max_features=0.3": {"max_features": 0.3},
    "max_features=1.0": {"max_features": 1.0},
    "56-day level": {"level_window": 56},
    "52-week weekday profile": {"profile_weeks": 52},
    "without lag features": {"use_lags": False},
}


def select(orders_per_day: float) -> int:
    """Backtest the candidate configurations on the development data sets (never seed 42)."""
    data = []
    for seed, end in DEV_SETS:
        shop = ShopConfig(seed=seed, orders_per_day=orders_per_day)
        start = end - dt.timedelta(days=729)
        data.append((synthetic_daily_sales(start, end, shop), expected_demand(start, end, shop)))
    labels = [f"seed {seed} to {end}" for seed, end in DEV_SETS]
    print("relative MAE on the total (MAE / SeasonalNaive(7)'s), 5 folds x 30 days, per data set")
    print(f"  {'configuration':66s} " + " ".join(f"{x:>22s}" for x in labels) + "    mean")
    oracle_row = None
    for name, changes in CANDIDATES.items():
        config = ForecastConfig(**changes)
        rels, oracle = [], []
        for daily, expected in data:
            m = run_backtest(daily, config, expected_demand=expected).metrics
            t = m[m["series"] == TOTAL_SERIES].set_index("model")
            rels.append(t.loc["random_forest", "mae"] / t.loc["seasonal_naive_7", "mae"])
            oracle.append(t.loc["oracle", "mae"] / t.loc["seasonal_naive_7", "mae"])
        oracle_row = oracle
        cells = " ".join(f"{r:22.3f}" for r in rels)
        print(f"  {name:66s} {cells} {np.mean(rels):7.3f}", flush=True)
    cells = " ".join(f"{r:22.3f}" for r in oracle_row)
    print(f"  {'oracle (expected demand)':66s} {cells} {np.mean(oracle_row):7.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    yesterday = dt.date.today() - dt.timedelta(days=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--end", type=dt.date.fromisoformat, default=yesterday, help="last day (default: yesterday)"
    )
    parser.add_argument(
        "--days", type=int, default=730, help="days of history (default: two years)"
    )
    parser.add_argument("--orders-per-day", type=float, default=1400.0)
    parser.add_argument(
        "--demand-noise",
        type=float,
        default=1.0,
        help="scale of the generator's day-level shocks (default 1; 0 = Poisson counts only)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument(
        "--no-skforecast", action="store_true", help="skip the skforecast comparison"
    )
    parser.add_argument("--no-long-history", action="store_true", help="skip the 4-year timing")
    parser.add_argument(
        "--select",
        action="store_true",
        help="compare the candidate configurations on the development data sets instead",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    if args.select:
        return select(args.orders_per_day)

    shop = ShopConfig(
        seed=args.seed, orders_per_day=args.orders_per_day, demand_noise=args.demand_noise
    )
    start = args.end - dt.timedelta(days=args.days - 1)
    config = ForecastConfig(horizon=args.horizon)
    t0 = time.perf_counter()
    daily = synthetic_daily_sales(start, args.end, shop)
    oracle = expected_demand(start, args.end, shop)
    n_series = daily["series"].nunique()
    print(
        f"data: seed {args.seed}, demand noise {args.demand_noise}, {start} .. {args.end} "
        f"({args.days} days), {n_series} series "
        f"(total + {n_series - 1} categories), generated in {time.perf_counter() - t0:.1f} s"
    )
    print(
        f"config: strategy={config.strategy}, target={config.target_transform} to clean level "
        f"x weekday profile, n_estimators={config.n_estimators}, "
        f"min_samples_leaf={config.min_samples_leaf}, max_features={config.max_features}, "
        f"max_train_days={config.max_train_days}, reconciliation={config.reconciliation}"
    )

    seconds, rows = time_fit_forecast(daily, config)
    print(
        f"\nfit + forecast ({n_series} series, {args.days} days, {rows} training rows): "
        f"{seconds:.2f} s"
    )
    if not args.no_long_history:
        long_start = args.end - dt.timedelta(days=4 * 365 - 1)
        long_daily = synthetic_daily_sales(long_start, args.end, shop)
        long_seconds, long_rows = time_fit_forecast(long_daily, config)
        print(
            f"fit + forecast on 4 years of history ({long_rows} training rows): "
            f"{long_seconds:.2f} s (ratio to 2 years {long_seconds / seconds:.2f})"
        )

    result = run_backtest(
        daily, config, expected_demand=oracle, folds=args.folds, horizon=args.horizon
    )
    print(
        f"full backtest ({args.folds} folds x {args.horizon} days, refit per fold): "
        f"{result.seconds:.1f} s"
    )

    m = result.metrics
    total = m[m["series"] == TOTAL_SERIES].set_index("model")
    naive = total.loc["seasonal_naive_7", "mae"]
    rows_out = [(name, total.loc[name, "mae"], total.loc[name, "mase"]) for name in total.index]
    floor = oracle_with_estimated_level(daily, oracle, args.folds, args.horizon)
    rows_out.append(("oracle shape x level of the last 28 days", floor, float("nan")))
    if not args.no_skforecast:
        try:
            t1 = time.perf_counter()
            sk = skforecast_backtest(daily, config, args.folds, args.horizon)
            sk_diff = skforecast_backtest(
                daily, config, args.folds, args.horizon, differentiation=1
            )
            rows_out.insert(1, ("skforecast ForecasterRecursive (same RF)", sk, float("nan")))
            rows_out.insert(
                2, ("skforecast ForecasterRecursive + differencing", sk_diff, float("nan"))
            )
            print(f"skforecast backtests: {time.perf_counter() - t1:.1f} s")
        except ImportError:
            print("skforecast is not installed: comparison skipped (pip install skforecast)")
    print(f"\nbacktest on series '{TOTAL_SERIES}', {args.folds} folds x {args.horizon} days:")
    print(f"  {'model':48s} {'MAE':>10s} {'MAE / SeasonalNaive(7)':>24s} {'MASE':>7s}")
    for name, mae_value, mase_value in rows_out:
        print(f"  {name:48s} {mae_value:10.0f} {mae_value / naive:24.3f} {mase_value:7.3f}")

    rf = m[m["model"] == "random_forest"].set_index("series")
    print("\nrandom_forest out-of-sample interval coverage (cross-conformal over folds):")
    head = ["cov 80%", "cov 95%", "width 80%", "width 95%", "MASE", "sMAPE %"]
    print(f"  {'series':14s} " + " ".join(f"{h:>10s}" for h in head))
    for series, row in rf.iterrows():
        print(
            f"  {series:14s} {row.coverage_80:10.3f} {row.coverage_95:10.3f} "
            f"{row.width_80:10.0f} {row.width_95:10.0f} {row.mase:10.3f} {row.smape:10.2f}"
        )
    ok, reason = gate_passes(m)
    print(f"\nquality gate: {'PASS' if ok else 'FAIL'}: {reason}")
    rel = total.loc["random_forest", "mae"] / naive
    cov80 = rf.loc[TOTAL_SERIES, "coverage_80"]
    cov95 = rf.loc[TOTAL_SERIES, "coverage_95"]
    all80, all95 = rf.loc[ALL_SERIES, "coverage_80"], rf.loc[ALL_SERIES, "coverage_95"]
    print("\ntargets:")
    print(
        f"  relative MAE (total) {rel:.3f} <= 0.60: {'met' if rel <= 0.60 else 'MISSED'} "
        f"(oracle {total.loc['oracle', 'mae'] / naive:.3f})"
        if "oracle" in total.index
        else ""
    )
    print(
        f"  coverage 80% total {cov80:.3f} / all series {all80:.3f} in [0.75, 0.85]: "
        f"{'met' if 0.75 <= cov80 <= 0.85 and 0.75 <= all80 <= 0.85 else 'MISSED'}"
    )
    print(
        f"  coverage 95% total {cov95:.3f} / all series {all95:.3f} in [0.90, 0.98]: "
        f"{'met' if 0.90 <= cov95 <= 0.98 and 0.90 <= all95 <= 0.98 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
