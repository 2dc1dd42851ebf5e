"""The synthetic shop's own promotions: its rule, and the table it publishes as a real shop would.

The rule is the shop's business, not the calendar's: the forecaster never sees it, only the
``promotions`` table (one row per promotion event, with its first and last day), exactly what a
real shop would export from its promotion plan. Every event is shop-wide (``scope`` None):

- Spring sale: the seven days starting on the second Monday of March.
- Summer sale: three days starting on the second Tuesday of July (a "Prime Day"-like event).
- Back-to-school weekend: the third Saturday of August and the Sunday after it.
- Singles' Day: 11 November.

The demand model (``demand``) sells 60% more lines on these days at a 15% discount.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd

from sales_platform.synthetic.config import ShopConfig

__all__ = ["PROMOTION_COLUMNS", "promotion_days", "promotion_events", "promotions"]

PROMOTION_COLUMNS: tuple[str, ...] = ("start_date", "end_date", "scope", "name")
"""The columns of :func:`promotions` (the ``promotions`` table's contract)."""


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th (1-based) ``weekday`` (Monday=0) of ``month``."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


@lru_cache(maxsize=512)
def promotion_events(year: int) -> tuple[tuple[dt.date, dt.date, str], ...]:
    """The promotion events of ``year``: ``(first day, last day inclusive, name)``, sorted."""
    spring = _nth_weekday(year, 3, 0, 2)  # second Monday of March
    summer = _nth_weekday(year, 7, 1, 2)  # second Tuesday of July
    school = _nth_weekday(year, 8, 5, 3)  # third Saturday of August
    singles = dt.date(year, 11, 11)
    return (
        (spring, spring + dt.timedelta(days=6), "Spring sale"),
        (summer, summer + dt.timedelta(days=2), "Summer sale"),
        (school, school + dt.timedelta(days=1), "Back-to-school weekend"),
        (singles, singles, "Singles' Day"),
    )


@lru_cache(maxsize=512)
def _days_of_year(year: int) -> np.ndarray:
    days = {
        first + dt.timedelta(days=i)
        for first, last, _ in promotion_events(year)
        for i in range((last - first).days + 1)
    }
    return np.array(sorted(days), dtype="datetime64[D]")


def promotion_days(days: pd.DatetimeIndex) -> np.ndarray:
    """Boolean mask: which of ``days`` (normalized, tz-naive) fall on a promotion of the shop."""
    if len(days) == 0:
        return np.zeros(0, dtype=bool)
    years = range(int(days.year.min()), int(days.year.max()) + 1)
    promo = np.concatenate([_days_of_year(y) for y in years])
    return np.isin(days.values.astype("datetime64[D]"), promo)


def promotions(start: dt.date, end: dt.date, config: ShopConfig | None = None) -> pd.DataFrame:
    """The shop's promotion plan: every event with a day in ``start`` .. ``end`` (inclusive).

    One row per event, whole (an event that straddles ``start`` or ``end`` keeps its own first and
    last day), sorted by ``start_date``. Columns :data:`PROMOTION_COLUMNS`: ``start_date`` and
    ``end_date`` (``datetime64[ns]``, midnight; ``end_date`` is the event's last day, inclusive),
    ``scope`` (None: the whole shop; else a category) and ``name``. A shop knows its plan ahead, so
    ``end`` may lie in the future (the asset publishes a year past the history). ``config`` is
    accepted for symmetry with the other generators: the rule is the same for every seed.
    """
    del config  # the rule does not depend on the seed or the volume
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    rows = [
        (first, last, None, name)
        for year in range(start.year, end.year + 1)
        for first, last, name in promotion_events(year)
        if first <= end and last >= start
    ]
    frame = pd.DataFrame(rows, columns=list(PROMOTION_COLUMNS))
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    frame["scope"] = frame["scope"].astype(object)
    frame["name"] = frame["name"].astype(object)
    return frame.sort_values("start_date", kind="stable").reset_index(drop=True)
