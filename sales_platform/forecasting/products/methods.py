"""Per-product statistical methods: statsforecast's intermittent-demand models and seasonal naive.

Each method maps a product's units since its first sale (at most :data:`MAX_HISTORY_DAYS`) to a
flat or weekly forecast of ``horizon`` days. The intermittent methods are statsforecast's:

- ``croston_sba``: Croston's method with the Syntetos-Boylan bias correction (sizes and intervals
  smoothed separately; forecast = size / interval x (1 - alpha/2));
- ``tsb``: Teunter-Syntetos-Babai: smooths the probability of a sale every day, so a product
  that stops selling decays towards zero (Croston's forecast would stay put);
- ``adida``: temporal aggregation to buckets of the mean inter-demand interval, SES on the
  buckets, back to days;
- ``seasonal_naive_7``: the last seven days repeated, the M5 baseline.
"""

from __future__ import annotations

import warnings

import numpy as np

CROSTON_SBA = "croston_sba"
TSB = "tsb"
ADIDA = "adida"
SEASONAL_NAIVE_7 = "seasonal_naive_7"
STATISTICAL_METHODS = (CROSTON_SBA, TSB, ADIDA, SEASONAL_NAIVE_7)
TSB_ALPHA = 0.1
"""TSB's smoothing of the sale probability and of the sizes (a common choice; see the README)."""
MAX_HISTORY_DAYS = 364


def _models() -> dict:
    from statsforecast.models import ADIDA as Adida  # a heavy import: only when used
    from statsforecast.models import TSB as Tsb
    from statsforecast.models import CrostonSBA

    return {
        CROSTON_SBA: CrostonSBA(),
        TSB: Tsb(alpha_d=TSB_ALPHA, alpha_p=TSB_ALPHA),
        ADIDA: Adida(),
    }


def seasonal_naive(units: np.ndarray, horizon: int) -> np.ndarray:
    """``[n_products, horizon]``: each row's last 7 days repeated (NaN days count as 0)."""
    last = np.nan_to_num(np.asarray(units, dtype=np.float64)[:, -7:])
    if last.shape[1] < 7:
        last = np.pad(last, ((0, 0), (7 - last.shape[1], 0)))
    return np.tile(last, (1, -(-horizon // 7)))[:, :horizon]


def statistical_forecasts(
    units: np.ndarray, horizon: int, methods: tuple[str, ...] = STATISTICAL_METHODS
) -> dict[str, np.ndarray]:
    """Forecasts ``{method: [n_products, horizon]}`` of ``units [n_products, n_days]``.

    A product without any sale in its history gets zeros (the statsforecast models need one).
    """
    units = np.asarray(units, dtype=np.float64)
    out = {m: np.zeros((len(units), horizon)) for m in methods}
    if SEASONAL_NAIVE_7 in methods:
        out[SEASONAL_NAIVE_7] = seasonal_naive(units, horizon)
    models = {m: model for m, model in _models().items() if m in methods}
    if not models:
        return out
    window = units[:, -MAX_HISTORY_DAYS:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, row in enumerate(window):
            y = row[~np.isnan(row)]
            if not (y > 0).any():
                continue
            for name, model in models.items():
                out[name][i] = model.forecast(y=y, h=horizon)["mean"]
    for name in models:
        out[name] = np.maximum(np.nan_to_num(out[name]), 0.0)
    return out
