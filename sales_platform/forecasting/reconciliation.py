"""Make the categories' forecasts add up to the total's.

The hierarchy has two levels: ``total = sum(categories)``. Given base forecasts ``t`` (total) and
``b[i]`` (categories) of one day, every method returns coherent forecasts ``(sum(b'), b')``:

- ``bottom_up``: ``b' = b`` (the total's own forecast is dropped);
- ``top_down``: ``b' = b * t / sum(b)`` (the categories' shares applied to the total's forecast);
- ``wls``: the minimum-trace (MinT) solution with a diagonal error covariance ``W``: the
  discrepancy ``e = t - sum(b)`` is shared as ``b'[i] = b[i] + e * w[i] / (w_t + sum(w))``. With
  ``w`` proportional to each series' forecast (variance proportional to the level, as for counts),
  the total moves half way and the categories share the other half by size;
- ``none``: unchanged (incoherent).

Zero or negative reconciled values are clipped at zero and the total recomputed, so the result
stays coherent.
"""

from __future__ import annotations

import numpy as np

METHODS = ("bottom_up", "top_down", "wls", "none")


def reconcile(
    forecasts: np.ndarray,
    total_index: int | None,
    method: str = "wls",
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Coherent forecasts from base forecasts ``[n_days, n_series]``.

    ``total_index``: the column of the total (``None``: no hierarchy, returned unchanged).
    ``weights``: per-series error variances for ``wls`` (``[n_series]`` or ``[n_days, n_series]``);
    default proportional to the base forecasts.
    """
    if method not in METHODS:
        raise ValueError(f"reconciliation method must be one of {METHODS}, got {method!r}")
    f = np.asarray(forecasts, dtype=np.float64)
    if total_index is None or method == "none" or f.shape[1] < 2:
        return f.copy()
    cats = [j for j in range(f.shape[1]) if j != total_index]
    t = f[:, total_index]
    b = f[:, cats]
    if method == "bottom_up":
        nb = b.copy()
    elif method == "top_down":
        s = b.sum(axis=1, keepdims=True)
        share = np.divide(b, s, out=np.full_like(b, 1.0 / b.shape[1]), where=s > 0)
        nb = share * t[:, None]
    else:
        w = np.maximum(f, 0.0) if weights is None else np.broadcast_to(weights, f.shape)
        w = np.asarray(w, dtype=np.float64) + 1e-12
        wt = w[:, total_index]
        wb = w[:, cats]
        e = t - b.sum(axis=1)
        nb = b + (e / (wt + wb.sum(axis=1)))[:, None] * wb
    nb = np.maximum(nb, 0.0)
    out = np.empty_like(f)
    out[:, cats] = nb
    out[:, total_index] = nb.sum(axis=1)
    return out
