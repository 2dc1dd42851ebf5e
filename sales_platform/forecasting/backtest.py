"""Rolling-origin backtest, the quality gate and the choice of fallback baseline.

Folds: ``folds`` consecutive, non-overlapping windows of ``horizon`` days that end on the last
date of ``daily_sales``, after a warm-up fold 0 just before them. Fold ``k`` (1 = oldest scored)
has origin ``o_k`` = the day before its window. A history too short for ``folds`` gets fewer.
For each fold the model is refit on the data up to ``o_k`` only (the history is cut at the origin
before anything is computed), then the model, the baselines and (given ``expected_demand``) the
oracle forecast the window.

Every candidate of :mod:`~sales_platform.forecasting.selection` forecasts each fold, and so does
the ``published`` forecast: each series' candidate chosen on the folds *before* the fold (fold 1
publishes the default), reconciled. Its scores are those of the whole procedure, choice included.

Intervals are calibrated on earlier folds only: the intervals of fold ``k`` come from the
residuals of the folds before it (the last three of them, as in production:
:data:`~sales_platform.forecasting.intervals.CALIBRATION_FOLDS`), so the coverage is
out-of-sample. The :class:`~sales_platform.forecasting.intervals.IntervalCalibration` returned
for publishing uses the last three folds.

Metrics rows (the ``backtest`` table): one per series and model, plus ``series = "__all__"`` per
model, which pools every series' out-of-sample days: ``mae``/``rmse``/``bias`` are then in currency
and dominated by the large series, ``smape``/``mase``/``coverage_*`` are scale-free means (MASE of
"__all__" = mean of the series' MASE, as every series has the same days). MASE scales each fold's
errors by the in-sample MAE of the seasonal naive (period 7) forecast on the history up to that
fold's origin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sales_platform.forecasting.baselines import BASELINES, SEASONAL_NAIVE_7
from sales_platform.forecasting.config import ForecastConfig
from sales_platform.forecasting.features import NotEnoughHistory, Panel, to_wide
from sales_platform.forecasting.intervals import INTERVAL_COLUMNS, IntervalCalibration
from sales_platform.forecasting.metrics import seasonal_naive_scale
from sales_platform.forecasting.model import fit_forecaster
from sales_platform.forecasting.selection import (
    CANDIDATES,
    DEFAULT_METHOD,
    PUBLISHED,
    candidate_values,
    choose_methods,
    publish,
)
from sales_platform.tables import COLUMNS, TOTAL_SERIES

ORACLE = "oracle"
MIN_TRAINING_DAYS = 30
"""Days of history the first fold trains on beyond the features' warm-up."""
ALL_SERIES = "__all__"
METRIC_COLUMNS = list(COLUMNS["backtest"])
PREDICTION_COLUMNS = list(COLUMNS["backtest_predictions"])


@dataclass
class BacktestResult:
    """``metrics`` (``backtest`` table), ``predictions`` (``backtest_predictions`` table) and the
    interval ``calibration`` built from the last folds; ``seconds`` is the wall time,
    ``fit_seconds`` the model fit time per fold."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    calibration: IntervalCalibration
    seconds: float = 0.0
    fit_seconds: list[float] = field(default_factory=list)


def fold_origins(n_days: int, folds: int, horizon: int) -> list[int]:
    """Row indices of the fold origins, oldest first; fold windows end on the last day."""
    return [n_days - 1 - (folds - k) * horizon for k in range(folds)]


def run_backtest(
    daily_sales: pd.DataFrame,
    config: ForecastConfig | None = None,
    *,
    promotions: pd.DataFrame | None = None,
    expected_demand: pd.DataFrame | None = None,
    folds: int = 5,
    horizon: int = 30,
) -> BacktestResult:
    """Rolling-origin evaluation of the candidates, the published choice and the oracle."""
    start = time.perf_counter()
    config = config or ForecastConfig()
    if folds < 1:
        raise ValueError(f"folds must be >= 1, got {folds}")
    panel = to_wide(daily_sales)
    n, _ = panel.values.shape
    need = config.warmup_days + MIN_TRAINING_DAYS
    # A short history gets fewer folds rather than none (at least one scored fold).
    folds = min(folds, (n - need) // horizon - 1)
    if folds < 1:
        raise NotEnoughHistory(
            f"{n} days of history are too few to backtest {horizon}-day forecasts: that needs "
            f"{need + 2 * horizon} days ({need} to train, a {horizon}-day fold to choose each "
            f"series' method and one to score it)"
        )
    # Fold 0 only warms up: it gives fold 1 a choice of method and intervals, and is not scored.
    origins = fold_origins(n, folds + 1, horizon)
    oracle = _oracle_panel(expected_demand, panel) if expected_demand is not None else None

    frames, fit_seconds = [], []
    for k, o in enumerate(origins):
        history = Panel(panel.dates[: o + 1], panel.series, panel.values[: o + 1])
        train = _long(history)  # the data up to the origin, nothing after it
        model = fit_forecaster(train, config, promotions)
        fit_seconds.append(model.fit_seconds)
        preds = candidate_values(model, history, horizon, promotions)
        choice = (
            choose_methods(pd.concat(frames, ignore_index=True), panel.series)
            if frames
            else dict.fromkeys(panel.series, DEFAULT_METHOD)
        )
        preds[PUBLISHED] = publish(preds, panel.series, choice)
        if oracle is not None:
            preds[ORACLE] = oracle[o + 1 : o + 1 + horizon]
        actual = panel.values[o + 1 : o + 1 + horizon]
        scales = {s: seasonal_naive_scale(history.values[:, j]) for j, s in enumerate(panel.series)}
        frames.append(_fold_frame(k, panel, o, horizon, actual, preds, scales))
    predictions = pd.concat(frames, ignore_index=True)

    # Fold k's intervals come from the residuals of the (last three) folds before it, as in
    # production.
    for c in INTERVAL_COLUMNS:
        predictions[c] = np.nan
    for k in range(1, folds + 1):
        calib = IntervalCalibration.from_predictions(predictions[predictions["fold"] < k])
        mask = (predictions["fold"] == k).to_numpy()
        part = predictions.loc[mask]
        for (model_name, series), idx in part.groupby(["model", "series"]).groups.items():
            rows = part.loc[idx]
            b = calib.bounds(model_name, series, rows["horizon"], rows["forecast"])
            for c in INTERVAL_COLUMNS:
                predictions.loc[idx, c] = b[c]
    calibration = IntervalCalibration.from_predictions(predictions)
    metrics = compute_metrics(predictions[predictions["fold"] > 0], folds)
    predictions = predictions[PREDICTION_COLUMNS].reset_index(drop=True)
    return BacktestResult(
        metrics=metrics,
        predictions=predictions,
        calibration=calibration,
        seconds=time.perf_counter() - start,
        fit_seconds=fit_seconds,
    )


def _long(panel: Panel) -> pd.DataFrame:
    n, s = panel.values.shape
    return pd.DataFrame(
        {
            "date": np.repeat(panel.dates.values, s),
            "series": np.tile(np.array(panel.series, dtype=object), n),
            "revenue": panel.values.reshape(-1),
        }
    )


def _oracle_panel(expected_demand: pd.DataFrame, panel: Panel) -> np.ndarray:
    frame = expected_demand.rename(columns={"expected_revenue": "revenue"})
    frame = frame[frame["series"].astype(str).isin(panel.series)]
    frame = frame.assign(date=pd.to_datetime(frame["date"]).dt.normalize())
    wide = frame.pivot(index="date", columns="series", values="revenue")
    wide = wide.reindex(index=panel.dates, columns=panel.series)
    return wide.to_numpy(dtype=np.float64)  # NaN where the oracle does not know a day or series


def _fold_frame(fold, panel, origin, horizon, actual, preds, scales) -> pd.DataFrame:
    n_series = len(panel.series)
    dates = panel.dates[origin + 1 : origin + 1 + horizon]
    base = {
        "series": np.tile(np.array(panel.series, dtype=object), horizon),
        "fold": fold,
        "origin": panel.dates[origin].date(),
        "date": np.repeat(dates.date, n_series),
        "horizon": np.repeat(np.arange(1, horizon + 1), n_series),
        "actual": actual.reshape(-1),
        "scale": np.tile([scales[s] for s in panel.series], horizon),
    }
    frames = []
    for name, values in preds.items():
        frame = pd.DataFrame({**base, "model": name, "forecast": values.reshape(-1)})
        frames.append(frame.dropna(subset=["forecast"]))
    return pd.concat(frames, ignore_index=True)


def _metric_row(g: pd.DataFrame) -> dict:
    a = g["actual"].to_numpy()
    f = g["forecast"].to_numpy()
    e = a - f
    denom = np.abs(a) + np.abs(f)
    sm = np.divide(200 * np.abs(e), denom, out=np.zeros_like(denom), where=denom > 0)
    scale = g["scale"].to_numpy()
    ok = np.isfinite(scale) & (scale > 0)
    row = {
        "mae": float(np.mean(np.abs(e))),
        "rmse": float(np.sqrt(np.mean(e**2))),
        "smape": float(np.mean(sm)),
        "mase": float(np.mean(np.abs(e[ok]) / scale[ok])) if ok.any() else float("nan"),
        "bias": float(np.mean(f - a)),
    }
    for name in ("80", "95"):
        lo = g[f"lower_{name}"].to_numpy()
        hi = g[f"upper_{name}"].to_numpy()
        has = np.isfinite(lo) & np.isfinite(hi)
        row[f"coverage_{name}"] = (
            float(np.mean((a[has] >= lo[has]) & (a[has] <= hi[has]))) if has.any() else float("nan")
        )
        row[f"width_{name}"] = float(np.mean(hi[has] - lo[has])) if has.any() else float("nan")
    row["folds"] = int(g["fold"].nunique())
    return row


def compute_metrics(predictions: pd.DataFrame, folds: int | None = None) -> pd.DataFrame:
    """The ``backtest`` table from backtest predictions (with a ``scale`` column for MASE)."""
    rows = []
    model_order = [PUBLISHED, *CANDIDATES, ORACLE]
    models = [m for m in model_order if m in set(predictions["model"])]
    models += sorted(set(predictions["model"]) - set(models))
    series_order = list(dict.fromkeys(predictions["series"]))
    for model in models:
        gm = predictions[predictions["model"] == model]
        for series in series_order:
            g = gm[gm["series"] == series]
            if len(g):
                rows.append({"series": series, "model": model, **_metric_row(g)})
        rows.append({"series": ALL_SERIES, "model": model, **_metric_row(gm)})
    metrics = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    metrics["folds"] = metrics["folds"].astype(np.int64)
    return metrics


def _gate_series(metrics: pd.DataFrame) -> str:
    return TOTAL_SERIES if (metrics["series"] == TOTAL_SERIES).any() else ALL_SERIES


def _mase(metrics: pd.DataFrame, series: str, model: str) -> float:
    row = metrics[(metrics["series"] == series) & (metrics["model"] == model)]
    return float(row["mase"].iloc[0]) if len(row) else float("nan")


def gate_passes(metrics: pd.DataFrame) -> tuple[bool, str]:
    """Quality gate: the published forecast's backtest MASE must be lower than SeasonalNaive(7)'s.

    Compared on the ``total`` series (the one the business plans with), or on ``__all__`` when
    there is no total. Fails when either figure is missing or not finite.
    """
    series = _gate_series(metrics)
    model = _mase(metrics, series, PUBLISHED)
    naive = _mase(metrics, series, SEASONAL_NAIVE_7)
    if not (np.isfinite(model) and np.isfinite(naive)):
        return False, (
            f"cannot judge the forecast on series '{series}': MASE of {PUBLISHED} = {model}, "
            f"of {SEASONAL_NAIVE_7} = {naive}"
        )
    if model < naive:
        return True, (
            f"{PUBLISHED} passes: backtest MASE {model:.3f} < {SEASONAL_NAIVE_7} {naive:.3f} "
            f"on series '{series}' ({model / naive:.0%} of the baseline's error)"
        )
    return False, (
        f"{PUBLISHED} fails: backtest MASE {model:.3f} is not below {SEASONAL_NAIVE_7} "
        f"{naive:.3f} on series '{series}'; publish the best baseline instead"
    )


def best_baseline(metrics: pd.DataFrame) -> str:
    """The baseline with the lowest backtest MASE on the gate's series (ties: seasonal naive)."""
    series = _gate_series(metrics)
    scores = [(_mase(metrics, series, name), i, name) for i, name in enumerate(BASELINES)]
    scores = [s for s in scores if np.isfinite(s[0])]
    return min(scores)[2] if scores else SEASONAL_NAIVE_7
