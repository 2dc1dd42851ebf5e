"""How the AutoETS candidate's model search was chosen: variants on the development sets' folds.

    python benchmarks/ets_study.py            # 10 synthetic sets + Superstore (if present)
    python benchmarks/ets_study.py --sets 2   # a quick check

For every development set (the forecast benchmark's) and every series, each variant forecasts the
30 days after each of the backtest's five origins from the history up to it. Printed per set: each
variant's mean absolute error, scaled by the series' last 28-day mean and averaged over series
and folds, relative to the platform's earlier search (every error, trend and season type on a
year); then the mean over sets and each variant's seconds of fitting.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_benchmark import development_sets, wide  # noqa: E402

from sales_platform.forecasting.backtest import fold_origins  # noqa: E402
from sales_platform.forecasting.statistical import SEASON_LENGTH  # noqa: E402

HORIZON, FOLDS = 30, 5
REFERENCE = "every type, 365 days"
VARIANTS = {
    REFERENCE: {"model": "ZZZ", "days": 365},
    "no trend (ZNZ), 365 days": {"model": "ZNZ", "days": 365},
    "every type, undamped, 365 days": {"model": "ZZZ", "days": 365, "damped": False},
    "additive (AZA), 365 days": {"model": "AZA", "days": 365},
    "every type, 182 days": {"model": "ZZZ", "days": 182},
}


def ets_forecast(history: np.ndarray, variant: dict) -> np.ndarray:
    from statsforecast.models import AutoETS

    y = history[-variant["days"] :]
    fallback = np.full(HORIZON, y[-28:].mean())
    options = {k: v for k, v in variant.items() if k != "days"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean = AutoETS(season_length=SEASON_LENGTH, **options).fit(y).predict(h=HORIZON)
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
        return fallback
    return np.maximum(np.where(np.isfinite(mean["mean"]), mean["mean"], fallback), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=10, help="synthetic sets (of 10)")
    args = parser.parse_args()
    relative = {name: [] for name in VARIANTS}
    seconds = dict.fromkeys(VARIANTS, 0.0)
    for set_name, daily, _promotions in development_sets(args.sets):
        values = wide(daily).to_numpy()
        scaled_mae = {}
        for name, variant in VARIANTS.items():
            started, errors = time.perf_counter(), []
            for origin in fold_origins(len(values), FOLDS, HORIZON):
                for series in values.T:
                    forecast = ets_forecast(series[: origin + 1], variant)
                    actual = series[origin + 1 : origin + 1 + HORIZON]
                    level = max(series[origin - 27 : origin + 1].mean(), 1e-9)
                    errors.append(np.abs(actual - forecast).mean() / level)
            seconds[name] += time.perf_counter() - started
            scaled_mae[name] = float(np.mean(errors))
        for name in VARIANTS:
            relative[name].append(scaled_mae[name] / scaled_mae[REFERENCE])
        row = ", ".join(f"{name} {relative[name][-1]:.3f}" for name in VARIANTS)
        print(f"{set_name}: {row}", flush=True)
    print("mean over sets, MAE / the reference's:")
    for name in VARIANTS:
        print(f"  {name}: {np.mean(relative[name]):.4f}; fits {seconds[name]:.1f} s")


if __name__ == "__main__":
    main()
