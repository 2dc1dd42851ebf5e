"""Demand classes of Syntetos and Boylan (2005): ADI and CV² of the non-zero demand sizes.

``ADI`` (average inter-demand interval) = days / days with a sale; ``CV²`` = squared coefficient
of variation of the sizes of the non-zero days. The cut-offs 1.32 and 0.49 are theirs:

=================  ===========  ===========
class              ADI          CV²
=================  ===========  ===========
smooth             < 1.32       < 0.49
erratic            < 1.32       >= 0.49
intermittent       >= 1.32      < 0.49
lumpy              >= 1.32      >= 0.49
=================  ===========  ===========
"""

from __future__ import annotations

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
CLASS_WINDOW_DAYS = 364
"""Classes are computed over the last year of each product's history (or all of it)."""

SMOOTH, ERRATIC, INTERMITTENT, LUMPY = "smooth", "erratic", "intermittent", "lumpy"
CLASSES = (SMOOTH, ERRATIC, INTERMITTENT, LUMPY)


def adi_cv2(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADI and CV² per row of ``units [n_products, n_days]`` (NaN days are not counted).

    A product without a sale has ADI = inf; CV² of a single sale is 0.
    """
    window = np.asarray(units, dtype=np.float64)[:, -CLASS_WINDOW_DAYS:]
    known = ~np.isnan(window)
    sold = np.nan_to_num(window) > 0
    n_days = known.sum(axis=1)
    n_sold = sold.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(n_sold > 0, n_days / np.maximum(n_sold, 1), np.inf)
        sizes = np.where(sold, window, 0.0)
        mean = sizes.sum(axis=1) / np.maximum(n_sold, 1)
        var = np.where(sold, (window - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(n_sold, 1)
        cv2 = np.where(mean > 0, var / np.maximum(mean, 1e-12) ** 2, 0.0)
    return adi, cv2


def demand_class(units: np.ndarray) -> np.ndarray:
    """The Syntetos-Boylan class of each row of ``units``."""
    adi, cv2 = adi_cv2(units)
    frequent = adi < ADI_CUTOFF
    steady = cv2 < CV2_CUTOFF
    return np.where(
        frequent, np.where(steady, SMOOTH, ERRATIC), np.where(steady, INTERMITTENT, LUMPY)
    ).astype(object)
