"""Point and interval forecast metrics (plain NumPy).

Conventions (also used by the ``backtest`` and ``forecast_accuracy`` tables):

- ``mae`` = mean |actual - forecast|; ``rmse`` = sqrt(mean (actual - forecast)^2).
- ``smape`` in percent, 0..200: mean of 200 |a - f| / (|a| + |f|), a term with a = f = 0 counts 0.
- ``mase``: MAE divided by the in-sample MAE of the seasonal naive forecast with period ``m``
  (default 7) on the history before the forecast origin (Hyndman & Koehler, 2006).
- ``bias`` = mean (forecast - actual): positive means over-forecasting.
- ``coverage``: share of actuals inside [lower, upper] (bounds included);
  ``width``: mean of upper - lower.
- ``mape`` in percent: mean 100 |a - f| / |a| over the days with a != 0 (NaN if there are none).
"""

from __future__ import annotations

import numpy as np


def _arrays(*values) -> list[np.ndarray]:
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError(f"arrays differ in shape: {[a.shape for a in arrays]}")
    return arrays


def mae(actual, forecast) -> float:
    a, f = _arrays(actual, forecast)
    return float(np.mean(np.abs(a - f))) if a.size else float("nan")


def rmse(actual, forecast) -> float:
    a, f = _arrays(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2))) if a.size else float("nan")


def smape(actual, forecast) -> float:
    a, f = _arrays(actual, forecast)
    if not a.size:
        return float("nan")
    denom = np.abs(a) + np.abs(f)
    terms = np.divide(200.0 * np.abs(a - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(np.mean(terms))


def mape(actual, forecast) -> float:
    a, f = _arrays(actual, forecast)
    ok = a != 0
    if not ok.any():
        return float("nan")
    return float(np.mean(100.0 * np.abs(a[ok] - f[ok]) / np.abs(a[ok])))


def bias(actual, forecast) -> float:
    a, f = _arrays(actual, forecast)
    return float(np.mean(f - a)) if a.size else float("nan")


def seasonal_naive_scale(history, m: int = 7) -> float:
    """In-sample MAE of the seasonal naive forecast (period ``m``): MASE's denominator."""
    (h,) = _arrays(history)
    if h.size <= m:
        return float("nan")
    return float(np.mean(np.abs(h[m:] - h[:-m])))


def mase(actual, forecast, history=None, m: int = 7, scale: float | None = None) -> float:
    """MAE scaled by the in-sample seasonal-naive MAE of ``history`` (or an explicit ``scale``)."""
    if scale is None:
        if history is None:
            raise ValueError("mase needs history or scale")
        scale = seasonal_naive_scale(history, m)
    if not np.isfinite(scale) or scale <= 0:
        return float("nan")
    return mae(actual, forecast) / scale


def coverage(actual, lower, upper) -> float:
    a, lo, hi = _arrays(actual, lower, upper)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return float("nan")
    return float(np.mean((a[ok] >= lo[ok]) & (a[ok] <= hi[ok])))


def width(lower, upper) -> float:
    lo, hi = _arrays(lower, upper)
    ok = np.isfinite(lo) & np.isfinite(hi)
    return float(np.mean(hi[ok] - lo[ok])) if ok.any() else float("nan")
