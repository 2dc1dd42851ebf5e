"""The spread of product demand around a forecast: negative binomial, dispersion from the backtest.

Demand of a product over a window (one day, or a lead time of ``L`` days) is modelled as negative
binomial with mean ``m`` = the forecast's sum over the window and variance ``m + phi m^2``. ``phi``
is fitted per demand class by the method of moments on the backtest's out-of-sample windows:
``phi = sum((A - F)^2 - F) / sum(F^2)`` (0 is Poisson). The residuals include the forecast's own
error, not only the randomness of demand, so the quantiles cover both.

The lead-time quantity is a quantile of the lead-time sum's distribution, fitted on lead-time
sums: not a sum of daily quantiles, which would overstate it (quantiles do not add up).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def fit_dispersion(actual: np.ndarray, forecast: np.ndarray) -> float:
    """``phi`` of pairs of window sums (actual, forecast); 0 when the data are under-dispersed."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    f = np.asarray(forecast, dtype=np.float64).ravel()
    denominator = float(np.sum(f**2))
    if denominator <= 0:
        return 0.0
    return max(0.0, float(np.sum((a - f) ** 2 - f)) / denominator)


def demand_quantile(mean: np.ndarray, phi: np.ndarray | float, level: float) -> np.ndarray:
    """The smallest whole number of units ``q`` with P(demand <= q) >= ``level``."""
    m = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    phi = np.broadcast_to(np.asarray(phi, dtype=np.float64), m.shape)
    poisson = phi <= 1e-9
    n = np.where(poisson, 1.0, 1.0 / np.maximum(phi, 1e-9))
    out = np.where(
        poisson,
        stats.poisson.ppf(level, m),
        stats.nbinom.ppf(level, n, n / (n + np.where(m > 0, m, 1.0))),
    )
    return np.where(m > 0, out, 0.0)


def interval(mean: np.ndarray, phi: np.ndarray | float, coverage: float):
    """Central interval ``(lower, upper)`` holding ``coverage`` of the demand distribution."""
    tail = (1.0 - coverage) / 2.0
    return demand_quantile(mean, phi, tail), demand_quantile(mean, phi, 1.0 - tail)
