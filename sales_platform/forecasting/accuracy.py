"""How accurate were we: published forecasts scored against the actuals that arrived since."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_platform.forecasting.features import order_series
from sales_platform.tables import COLUMNS

ACCURACY_COLUMNS = list(COLUMNS["forecast_accuracy"])


def score_forecasts(history: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """The ``forecast_accuracy`` table: one row per series and horizon.

    ``history``: published forecasts (``forecast_history`` rows: ``date, series, horizon,
    forecast`` and the 80%/95% bounds; ``run_id`` if present is used to drop duplicate rows of a
    run). ``actuals``: ``daily_sales`` (``date, series, revenue``; a column ``actual`` is accepted
    instead of ``revenue``). Only forecast days whose actual has arrived are scored.

    Columns: ``series, horizon, forecasts`` (number of scored forecasts), ``mae``, ``mape``
    (percent, over days with non-zero actuals; NaN if none), ``bias`` (mean forecast - actual),
    ``coverage_80``/``coverage_95`` (share of actuals inside the bounds, over the forecasts that
    have bounds; NaN if none has). Empty input gives an empty table with these columns.
    """
    value = "actual" if "actual" in actuals.columns else "revenue"
    if history.empty or actuals.empty:
        return _empty()
    act = actuals[["date", "series", value]].rename(columns={value: "actual"}).copy()
    act["date"] = pd.to_datetime(act["date"]).dt.normalize()
    act["series"] = act["series"].astype(str)
    act = act.drop_duplicates(["date", "series"], keep="last")
    hist = history.copy()
    for c in ("lower_80", "upper_80", "lower_95", "upper_95"):
        if c not in hist.columns:
            hist[c] = np.nan
    hist["date"] = pd.to_datetime(hist["date"]).dt.normalize()
    hist["series"] = hist["series"].astype(str)
    if "run_id" in hist.columns:
        hist = hist.drop_duplicates(["run_id", "date", "series"], keep="last")
    scored = hist.merge(act, on=["date", "series"], how="inner")
    scored = scored[np.isfinite(scored["actual"].to_numpy(dtype=float))]
    scored = scored[np.isfinite(scored["forecast"].to_numpy(dtype=float))]
    if scored.empty:
        return _empty()
    rows = []
    for (series, horizon), g in scored.groupby(["series", "horizon"], sort=False):
        a = g["actual"].to_numpy(dtype=float)
        f = g["forecast"].to_numpy(dtype=float)
        nz = a != 0
        row = {
            "series": series,
            "horizon": int(horizon),
            "forecasts": int(len(g)),
            "mae": float(np.mean(np.abs(a - f))),
            "mape": float(np.mean(100 * np.abs(a[nz] - f[nz]) / np.abs(a[nz])))
            if nz.any()
            else np.nan,
            "bias": float(np.mean(f - a)),
        }
        for name in ("80", "95"):
            lo = g[f"lower_{name}"].to_numpy(dtype=float)
            hi = g[f"upper_{name}"].to_numpy(dtype=float)
            ok = np.isfinite(lo) & np.isfinite(hi)
            row[f"coverage_{name}"] = (
                float(np.mean((a[ok] >= lo[ok]) & (a[ok] <= hi[ok]))) if ok.any() else np.nan
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
    rank = {s: i for i, s in enumerate(order_series(out["series"].unique()))}
    out = out.sort_values(
        ["series", "horizon"], key=lambda c: c.map(rank) if c.name == "series" else c
    )
    out["horizon"] = out["horizon"].astype(np.int64)
    out["forecasts"] = out["forecasts"].astype(np.int64)
    return out.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in ACCURACY_COLUMNS})
    frame["series"] = frame["series"].astype(object)
    frame["horizon"] = frame["horizon"].astype(np.int64)
    frame["forecasts"] = frame["forecasts"].astype(np.int64)
    return frame
