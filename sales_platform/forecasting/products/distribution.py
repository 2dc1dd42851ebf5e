"""The spread of product demand around a forecast: negative binomial, dispersion from the backtest.

Demand of a product over a window (one day, or a lead time of ``L`` days) is modelled as negative
binomial with mean ``m`` = the forecast's sum over the window and variance ``m + phi m^2``. ``phi``
is fitted per demand class by maximum likelihood on the backtest's out-of-sample windows (0, i.e.
Poisson, when the errors are not over-dispersed). The residuals include the forecast's own error,
not only the randomness of demand, so the quantiles cover both. Maximum likelihood weighs every
window by its own variance; the method of moments it replaced (``sum((A - F)^2 - F) / sum(F^2)``)
was ruled by the best sellers and under-covered the middle of the catalog. With the lead-time
windows of every week of the folds (:mod:`.backtest`), 95% lead-time coverage on the four
development sets (synthetic seeds 42, 1, 7 at 300 products, Superstore) went from
94.1 / 90.2 / 95.9 / 96.1% to 95.7 / 92.8 / 96.2 / 95.4% (README).

The lead-time quantity is a quantile of the lead-time sum's distribution, fitted on lead-time
sums: not a sum of daily quantiles, which would overstate it (quantiles do not add up).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

MIN_PHI, MAX_PHI = 1e-6, 1e4
"""The range ``phi`` is searched in (1e-6 is Poisson for any forecast a shop makes)."""


def fit_dispersion(actual: np.ndarray, forecast: np.ndarray) -> float:
    """``phi`` of pairs of window sums (actual units, forecast): the negative binomial's maximum
    likelihood; 0 when the data are not over-dispersed. Pairs forecasting 0 carry no information
    on ``phi`` and are left out."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    f = np.asarray(forecast, dtype=np.float64).ravel()
    keep = f > 0
    a, f = np.round(a[keep]), f[keep]
    # The score at phi = 0 is half of sum((A - F)^2 - A): not positive, Poisson is the maximum.
    if not len(a) or np.sum((a - f) ** 2 - a) <= 0:
        return 0.0
    values, counts = np.unique(a, return_counts=True)

    def minus_log_likelihood(log_phi: float) -> float:
        n = np.exp(-log_phi)  # the size 1 / phi; terms free of phi are dropped
        sizes = counts @ (special.gammaln(values + n) - special.gammaln(n))
        return -(sizes - np.sum(n * np.log1p(f / n) + a * np.log(n + f)))

    best = optimize.minimize_scalar(
        minus_log_likelihood, bounds=(np.log(MIN_PHI), np.log(MAX_PHI)), method="bounded"
    )
    return float(np.exp(best.x))


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
