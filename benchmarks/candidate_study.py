"""How the published candidates were chosen: the choice replayed with other candidate sets.

    python benchmarks/candidate_study.py            # 10 synthetic sets + Superstore (if present)
    python benchmarks/candidate_study.py --sets 2   # a quick check

For every development set (the forecast benchmark's: synthetic seeds 1-5 x two end dates, and the
Superstore export) it runs the platform's backtest once, then replays the per-series choice on the
``total`` with other candidate sets: fold k publishes the candidate with the lowest score on the
folds before it, exactly as ``run_backtest``'s ``published`` rows do. The mean of the forest and
AutoETS (``forest+ets``) is rebuilt from the two candidates' rows. Then the platform's candidates
with other choice rules: how many warm-up folds the choice may use (1, the platform's, to
``1 + EXTRA_WARMUP``: the study's backtest has that many folds more than the benchmark's five,
which stay the scored ones) and whether each fold's MAE counts as it is or relative to the fold's
best candidate (the platform's ``candidate_scores``). Last, the ``yearly_level`` candidate with
other settings of its yearly index (the days around each day, how much of the earlier years'
change to apply), rebuilt from the level x weekday profile's rows and each fold's history.
Printed: MAE relative to SeasonalNaive(7) on the scored folds, per set and the mean over sets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_benchmark import development_sets  # noqa: E402

from sales_platform.forecasting import ForecastConfig, run_backtest  # noqa: E402
from sales_platform.forecasting.features import Panel, to_wide  # noqa: E402
from sales_platform.forecasting.selection import CHOICES  # noqa: E402
from sales_platform.forecasting.yearly_index import STRENGTH, WINDOW, yearly_index  # noqa: E402
from sales_platform.tables import TOTAL_SERIES  # noqa: E402

BASELINES = ["seasonal_naive_7", "moving_average_28"]
SCORED_FOLDS = 5
EXTRA_WARMUP = 3
"""Folds of the study's backtest before the platform's warm-up fold (renumbered -3 .. -1)."""
PLATFORM = "platform: forest, ets, weekday_level, yearly_level"
CANDIDATE_SETS = {
    PLATFORM: list(CHOICES),
    "the same and the baselines (until 2026-11-29)": [*CHOICES, *BASELINES],
    "without yearly_level": ["random_forest", "ets", "weekday_level", *BASELINES],
    "yearly_level instead of weekday_level": ["random_forest", "ets", "yearly_level", *BASELINES],
    "with forest+ets": [
        "random_forest",
        "ets",
        "weekday_level",
        "yearly_level",
        "forest+ets",
        *BASELINES,
    ],
    "forest, ets, forest+ets, baselines": ["random_forest", "ets", "forest+ets", *BASELINES],
    "forest, ets, baselines": ["random_forest", "ets", *BASELINES],
}
YEARLY_SETTINGS = [(w, a) for w in (15, 31, 61) for a in (0.5, 0.75, 1.0)]
"""(days around each day, strength) of the yearly index replayed; the platform's is
(WINDOW, STRENGTH)."""


def total_forecasts(predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Forecasts of the total per (fold, horizon) x model, and the actuals."""
    rows = predictions[predictions["series"] == TOTAL_SERIES]
    rows = rows.assign(fold=rows["fold"] - EXTRA_WARMUP)  # the scored folds stay 1 .. 5
    wide = rows.pivot_table(index=["fold", "horizon"], columns="model", values="forecast")
    wide["forest+ets"] = (wide["random_forest"] + wide["ets"]) / 2
    actual = rows[rows["model"] == "seasonal_naive_7"].set_index(["fold", "horizon"])["actual"]
    return wide, actual.reindex(wide.index)


def replay_choice(
    wide: pd.DataFrame,
    actual: pd.Series,
    candidates: list[str],
    warmup: int = 1,
    relative: bool = True,
) -> pd.Series:
    """Fold k >= 1 publishes the candidate with the lowest score on the folds before k, from the
    last ``warmup`` warm-up folds on: the mean of each fold's MAE, relative to the fold's best
    candidate or as it is."""
    folds = wide.index.get_level_values("fold")
    errors = wide[candidates].sub(actual, axis=0).abs().groupby(level="fold").mean()
    if relative:
        errors = errors.div(errors.min(axis=1), axis=0)
    published = pd.Series(np.nan, index=wide.index)
    for k in sorted(set(folds[folds > 0])):
        score = errors[(errors.index < k) & (errors.index > -warmup)].mean()
        published[folds == k] = wide.loc[folds == k, score.idxmin()]
    return published


def yearly_level_variant(
    predictions: pd.DataFrame, panel: Panel, wide: pd.DataFrame, window: int, strength: float
) -> pd.Series:
    """The total's ``yearly_level`` forecasts with another yearly index: its level x weekday
    profile times the index from each fold's history (the days of ``panel`` up to its origin)."""
    total = panel.series.index(TOTAL_SERIES)
    horizon = int(wide.index.get_level_values("horizon").max())
    level_window = ForecastConfig().level_window
    origins = predictions.groupby("fold")["origin"].first()
    factors = []
    for origin in origins:
        n_days = int(panel.dates.get_loc(pd.Timestamp(origin))) + 1
        index = yearly_index(
            panel.values[:n_days], horizon, level_window, window=window, strength=strength
        )
        factors.append(pd.Series(index[:, total], index=range(1, horizon + 1)))
    factor = pd.concat(factors, keys=origins.index - EXTRA_WARMUP, names=["fold", "horizon"])
    return wide["weekday_level"] * factor.reindex(wide.index)


def relative_mae(wide: pd.DataFrame, actual: pd.Series, forecast: pd.Series) -> float:
    scored = wide.index.get_level_values("fold") > 0
    naive = (actual[scored] - wide.loc[scored, "seasonal_naive_7"]).abs().mean()
    return float((actual[scored] - forecast[scored]).abs().mean() / naive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=10, help="synthetic sets to run (<= 10)")
    args = parser.parse_args(argv)
    data = list(development_sets(args.sets))
    scores: dict[str, dict[str, float]] = {}
    for name, daily, promos in data:
        print(f"backtest: {name}", file=sys.stderr, flush=True)
        result = run_backtest(daily, promotions=promos, folds=SCORED_FOLDS + EXTRA_WARMUP)
        wide, actual = total_forecasts(result.predictions)
        scores[name] = {
            label: relative_mae(wide, actual, replay_choice(wide, actual, candidates))
            for label, candidates in CANDIDATE_SETS.items()
        }
        for single in ("random_forest", "ets", "weekday_level", "yearly_level", "forest+ets"):
            scores[name][f"{single} alone"] = relative_mae(wide, actual, wide[single])
        platform = CANDIDATE_SETS[PLATFORM]
        for warmup in range(1, EXTRA_WARMUP + 2):
            for relative in (False, True):
                label = f"{warmup} warm-up fold(s), {'relative' if relative else 'plain'} MAE"
                published = replay_choice(wide, actual, platform, warmup, relative)
                scores[name][label] = relative_mae(wide, actual, published)
        panel = to_wide(daily)
        for window, strength in YEARLY_SETTINGS:
            variant = wide.assign(
                yearly_level=yearly_level_variant(result.predictions, panel, wide, window, strength)
            )
            published = replay_choice(variant, actual, platform)
            platform_setting = (window, strength) == (WINDOW, STRENGTH)
            label = f"yearly index {window} days, strength {strength}"
            scores[name][label + (" (platform)" if platform_setting else "")] = relative_mae(
                variant, actual, published
            )
    table = pd.DataFrame(scores)
    table["mean"] = table.mean(axis=1)
    pd.set_option("display.width", 250)
    print("MAE on the total / SeasonalNaive(7)'s, scored folds, choice replayed per fold")
    print(table.round(4).to_string())  # the choice rules differ in the fourth decimal
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
