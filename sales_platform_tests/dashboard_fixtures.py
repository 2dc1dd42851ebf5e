"""A small DuckDB database with known values, built from the table contract, for dashboard tests.

The numbers are chosen so that the dashboard's KPIs can be computed by hand (see the constants and
the ``EXPECTED_*`` values below, each with its arithmetic). Dates are relative to ``end_date`` (the
last day of history, yesterday in UTC by default) so that the default database is *fresh*.

History: ``HISTORY_DAYS`` days, day index ``i = 0 .. HISTORY_DAYS-1`` (``i = HISTORY_DAYS-1`` is
``end_date``), with a weekly shape ``WEEK[i % 7]``::

    Electronics(i) = 600 + 2 i + 60 WEEK[i % 7]
    Home(i)        = 400 +   i + 30 WEEK[i % 7]
    total(i)       = 1000 + 3 i + 90 WEEK[i % 7]

Forecast: 30 days, horizon ``h = 1 .. 30`` (day index ``i = HISTORY_DAYS - 1 + h``)::

    total(h)    = 1700 + 90 WEEK[i % 7]       Electronics = 60 %, Home = 40 % of it
    80 % bounds = total(h) -/+ (100 + 5 h)
    95 % bounds = total(h) -/+ (150 + 8 h)
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from sales_platform import tables as T

HISTORY_DAYS = 210
HORIZON = 30
WEEK = (0, 1, 2, 3, 2, 1, 0)
CATEGORIES = ("Electronics", "Home")
CATEGORY_SHARE = {"Electronics": 0.6, "Home": 0.4}
RUN_ID = "run-0001"
MODEL_VERSION = "rf-test-1"

# Hand-computed expectations (HISTORY_DAYS = 210, so the last 30 days are i = 180 .. 209):
#   sum(1000 + 3 i) for i in 180..209 = 30 * 1000 + 3 * (180 + 209) * 30 / 2 = 30000 + 17505
#   i % 7 runs 5,6,0,..: 4 full weeks (4 * 9 = 36) + i = 208, 209 (WEEK[5] + WEEK[6] = 1) = 37
#   -> 47505 + 90 * 37 = 50835
EXPECTED_LAST_30_REVENUE = 50_835.0
#   i = 210 .. 239: i % 7 = 0, 1, ..: 4 full weeks (36) + i = 238, 239 (WEEK[0] + WEEK[1] = 1)
#   -> 30 * 1700 + 90 * 37 = 54330
EXPECTED_NEXT_30_FORECAST = 54_330.0
#   (54330 - 50835) / 50835 = 3495 / 50835
EXPECTED_CHANGE_PCT = 3_495 / 50_835 * 100  # 6.875...%
#   sum(100 + 5 h) for h in 1..30 = 3000 + 5 * 465 = 5325
EXPECTED_RANGE_80_SUMMED = (54_330.0 - 5_325.0, 54_330.0 + 5_325.0)  # 49005 .. 59655
#   independent daily errors: half-width sqrt(sum((100 + 5 h)^2))
EXPECTED_RANGE_80_INDEPENDENT_HALF = math.sqrt(sum((100 + 5 * h) ** 2 for h in range(1, 31)))
# Backtest of the total series: published (the per-series choice) vs seasonal_naive_7
EXPECTED_MODEL_MAE, EXPECTED_MODEL_MASE = 80.0, 0.8
EXPECTED_BASELINE_MAE, EXPECTED_BASELINE_MASE = 100.0, 1.0
EXPECTED_MAE_CHANGE_PCT = -20.0  # (80 - 100) / 100
# Home's headline: published 31 vs seasonal naive 40 -> -22.5 %
EXPECTED_HOME_MODEL_MAE, EXPECTED_HOME_MAE_CHANGE_PCT = 31.0, -22.5

METHODS = {T.TOTAL_SERIES: "random_forest", "Electronics": "ets", "Home": "weekday_level"}
"""What each series publishes when the gate passes: its candidate with the lowest backtest MAE
(over every fold of ``backtest_predictions``, see ``CANDIDATE_MAE``)."""
FALLBACK_METHOD = "seasonal_naive_7"
CANDIDATE_MAE = {
    # series: {candidate: MAE over every fold of backtest_predictions (forecast = actual +/- MAE)}
    T.TOTAL_SERIES: {"random_forest": 70.0, "ets": 90.0, "weekday_level": 80.0,
                     "seasonal_naive_7": 100.0, "moving_average_28": 120.0},
    "Electronics": {"random_forest": 50.0, "ets": 40.0, "weekday_level": 45.0,
                    "seasonal_naive_7": 60.0, "moving_average_28": 70.0},
    "Home": {"random_forest": 35.0, "ets": 33.0, "weekday_level": 30.0,
             "seasonal_naive_7": 40.0, "moving_average_28": 50.0},
}  # fmt: skip

# Products: (product_id, name, category, price, daily forecast units, lead-time dispersion).
# Replenishment for LEAD_TIME_DAYS = 7 at SERVICE_LEVEL = 0.95: expected demand = 7 x the daily
# forecast; quantity = scipy.stats.nbinom.ppf(level, n, n / (n + mean)) with n = 1 / dispersion.
PRODUCT_ROWS = (
    ("P001", "Desk Lamp", "Home", 40.0, 4.0, 0.05),  # smooth, forest: 28 units over 7 days
    ("P002", "Phone Case", "Electronics", 15.0, 0.5, 0.3),  # intermittent, Croston: 3.5 units
    ("P003", "Smart Speaker", "Electronics", 90.0, 1.0, 0.3),  # new (category share): 7 units
)
PRODUCT_METHODS = {"P001": "forest", "P002": "croston_sba", "P003": "category_share"}
PRODUCT_CLASSES = {"P001": "smooth", "P002": "intermittent", "P003": "smooth"}
LEAD_TIME_DAYS, SERVICE_LEVEL = 7, 0.95
PRODUCT_HISTORY_DAYS = 60  # P003 is new: it sold on the last NEW_PRODUCT_DAYS days only
NEW_PRODUCT_DAYS = 20
EXPECTED_ORDER_QUANTITY = {
    # product: {service level: quantity} (scipy nbinom.ppf, see above)
    "P001": {0.8: 35, 0.9: 39, 0.95: 42, 0.98: 47, 0.99: 50},
    "P002": {0.8: 5, 0.9: 7, 0.95: 9, 0.98: 10, 0.99: 12},
    "P003": {0.8: 10, 0.9: 13, 0.95: 16, 0.98: 19, 0.99: 21},
}
# product_backtest: the published row (what the dashboard shows) and the chosen method's row
# (different numbers, so a test can tell them apart): (mae, scaled_mae) per product.
PRODUCT_PUBLISHED_ERROR = {"P001": (1.2, 0.8), "P002": (0.4, 0.9)}
PRODUCT_CHOSEN_ERROR = {"P001": (1.1, 0.75), "P002": (0.38, 0.85)}
LEAD_TIME_COVERAGE = {"Home": 0.94, "Electronics": 0.91}
"""Pooled (``__all__``) published rows: share of lead-time windows the 95% quantity covered."""


def product_history_units(product_id: str, i: int) -> int:
    """Units sold on day ``i = 0 .. PRODUCT_HISTORY_DAYS-1`` (the last is ``end_date``)."""
    if product_id == "P001":
        return 3 + i % 3
    if product_id == "P002":
        return 1 if i % 4 == 0 else 0
    return 1  # P003, from its first sale on


def default_end_date() -> date:
    """Yesterday in UTC: the last complete day of history a fresh pipeline run would have."""
    return datetime.now(UTC).date() - timedelta(days=1)


def total_revenue(i: int) -> float:
    return 1000.0 + 3 * i + 90 * WEEK[i % 7]


def category_revenue(category: str, i: int) -> float:
    if category == "Electronics":
        return 600.0 + 2 * i + 60 * WEEK[i % 7]
    if category == "Home":
        return 400.0 + i + 30 * WEEK[i % 7]
    raise KeyError(category)


def forecast_total(h: int) -> float:
    return 1700.0 + 90 * WEEK[(HISTORY_DAYS - 1 + h) % 7]


def _daily_sales(end: date) -> pd.DataFrame:
    start = end - timedelta(days=HISTORY_DAYS - 1)
    rows = []
    for i in range(HISTORY_DAYS):
        day = start + timedelta(days=i)
        for series in (T.TOTAL_SERIES, *CATEGORIES):
            revenue = total_revenue(i) if series == T.TOTAL_SERIES else category_revenue(series, i)
            rows.append((day, series, revenue, round(revenue / 25), round(revenue / 60)))
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.DAILY_SALES]))


def _forecast(
    end: date,
    created_at: datetime,
    methods: Mapping[str, str],
    extra_series: Sequence[str],
    run_id: str = RUN_ID,
) -> pd.DataFrame:
    rows = []
    for h in range(1, HORIZON + 1):
        day = end + timedelta(days=h)
        total = forecast_total(h)
        half80, half95 = 100.0 + 5 * h, 150.0 + 8 * h
        shares = {T.TOTAL_SERIES: 1.0, **CATEGORY_SHARE, **{s: 0.05 for s in extra_series}}
        for series, share in shares.items():
            f = total * share
            rows.append(
                (
                    end, day, series, h, f,
                    f - half80 * share, f + half80 * share,
                    f - half95 * share, f + half95 * share,
                    methods.get(series, "weekday_level"), MODEL_VERSION, run_id, created_at,
                )
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(T.FORECAST_COLUMNS))


_BACKTEST_METRICS = {
    # series: {model: (mae, mase)} over the scored folds 1..3 (fold 0 only warms up)
    T.TOTAL_SERIES: {
        "published": (80.0, 0.8),
        "random_forest": (75.0, 0.75),
        "ets": (90.0, 0.9),
        "weekday_level": (82.0, 0.82),
        "seasonal_naive_7": (100.0, 1.0),
        "moving_average_28": (120.0, 1.2),
    },
    "Electronics": {
        "published": (42.0, 0.63),
        "random_forest": (50.0, 0.75),
        "ets": (40.0, 0.6),
        "weekday_level": (45.0, 0.68),
        "seasonal_naive_7": (60.0, 0.9),
        "moving_average_28": (70.0, 1.05),
    },
    "Home": {
        "published": (31.0, 0.62),
        "random_forest": (35.0, 0.7),
        "ets": (33.0, 0.66),
        "weekday_level": (30.0, 0.6),
        "seasonal_naive_7": (40.0, 0.8),
        "moving_average_28": (50.0, 1.0),
    },
    "__all__": {
        "published": (51.0, 0.68),
        "random_forest": (53.3, 0.73),
        "ets": (54.3, 0.72),
        "weekday_level": (52.3, 0.7),
        "seasonal_naive_7": (66.7, 0.9),
        "moving_average_28": (80.0, 1.08),
    },
}
GATE_FAILED_TOTAL = (105.0, 1.05)
"""The published row of the total when the gate fails: MASE 1.05 is not below 1.0."""


def _backtest(gate_failed: bool = False) -> pd.DataFrame:
    rows = []
    for series, models in _BACKTEST_METRICS.items():
        for model, (mae, mase) in models.items():
            if gate_failed and series == T.TOTAL_SERIES and model == "published":
                mae, mase = GATE_FAILED_TOTAL
            has_intervals = model == "published"
            nan = float("nan")
            rows.append(
                (
                    series, model, mae, mae * 1.25, mae / 20, mase, mae / 10,
                    0.78 if has_intervals else nan, 0.94 if has_intervals else nan,
                    mae * 3 if has_intervals else nan, mae * 5 if has_intervals else nan,
                    3,
                )
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.BACKTEST]))


def _backtest_predictions(end: date) -> pd.DataFrame:
    """Folds 0 (warm-up) .. 3 of 30 days. ``published``: +70 / -50 (x the category's share) on
    alternate days, so a fold's total is off by +300 x share; every candidate: +/- its
    ``CANDIDATE_MAE`` on alternate days (so its MAE is exactly that)."""
    start = end - timedelta(days=HISTORY_DAYS - 1)
    rows = []
    for fold in range(4):
        origin_i = HISTORY_DAYS - 1 - 30 * (4 - fold)  # 89, 119, 149, 179
        origin = start + timedelta(days=origin_i)
        for h in range(1, 31):
            i = origin_i + h
            day = start + timedelta(days=i)
            up = (i + fold) % 2 == 1
            for series in (T.TOTAL_SERIES, *CATEGORIES):
                scale = 1.0 if series == T.TOTAL_SERIES else CATEGORY_SHARE[series]
                actual = (
                    total_revenue(i) if series == T.TOTAL_SERIES else category_revenue(series, i)
                )
                published = actual + (70.0 if up else -50.0) * scale
                rows.append(
                    (series, "published", fold, origin, day, h, actual, published,
                     published - 120 * scale, published + 120 * scale,
                     published - 190 * scale, published + 190 * scale)
                )  # fmt: skip
                nan = float("nan")
                for model, mae in CANDIDATE_MAE[series].items():
                    f = actual + (mae if up else -mae)
                    rows.append(
                        (series, model, fold, origin, day, h, actual, f, nan, nan, nan, nan)
                    )
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.BACKTEST_PREDICTIONS]))


def _forecast_accuracy() -> pd.DataFrame:
    rows = []
    for series in (T.TOTAL_SERIES, *CATEGORIES):
        scale = 1.0 if series == T.TOTAL_SERIES else CATEGORY_SHARE[series]
        for h in range(1, 31):
            rows.append(
                (series, h, 5, (50.0 + 2 * h) * scale, 0.04 + 0.001 * h, 3.0 * scale,
                 0.8 if h % 3 else 0.6, 1.0 if h % 4 else 0.8)
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.FORECAST_ACCURACY]))


def _products() -> pd.DataFrame:
    rows = [
        (pid, name, cat, price, round(price * 0.6, 2)) for pid, name, cat, price, *_ in PRODUCT_ROWS
    ]
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.PRODUCTS]))


def _product_daily_sales(end: date) -> pd.DataFrame:
    rows = []
    for pid, _, category, price, *_ in PRODUCT_ROWS:
        first = PRODUCT_HISTORY_DAYS - NEW_PRODUCT_DAYS if pid == "P003" else 0
        for i in range(first, PRODUCT_HISTORY_DAYS):
            day = end - timedelta(days=PRODUCT_HISTORY_DAYS - 1 - i)
            units = product_history_units(pid, i)
            rows.append((category, pid, day, units, units * price))
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.PRODUCT_DAILY_SALES]))


def _product_forecast(end: date) -> pd.DataFrame:
    """Constant daily units; 80% bounds units -/+ 50%, 95% bounds 0 .. twice the units."""
    rows = []
    for pid, _, category, price, units, _ in PRODUCT_ROWS:
        for h in range(1, HORIZON + 1):
            rows.append(
                (category, pid, end + timedelta(days=h), h, units, units * 0.5, units * 1.5,
                 0.0, units * 2, units * price, PRODUCT_METHODS[pid], PRODUCT_CLASSES[pid],
                 pid == "P003")
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.PRODUCT_FORECAST]))


def _replenishment() -> pd.DataFrame:
    rows = []
    for pid, _, category, _, units, dispersion in PRODUCT_ROWS:
        expected = units * LEAD_TIME_DAYS
        quantity = EXPECTED_ORDER_QUANTITY[pid][SERVICE_LEVEL]
        rows.append(
            (category, pid, LEAD_TIME_DAYS, SERVICE_LEVEL, expected, quantity,
             quantity - expected, dispersion, PRODUCT_METHODS[pid], PRODUCT_CLASSES[pid],
             pid == "P003")
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.REPLENISHMENT]))


def _product_backtest() -> pd.DataFrame:
    nan = float("nan")
    rows = []
    categories = {pid: cat for pid, _, cat, *_ in PRODUCT_ROWS}
    for pid, (mae, scaled) in PRODUCT_PUBLISHED_ERROR.items():
        chosen_mae, chosen_scaled = PRODUCT_CHOSEN_ERROR[pid]
        for method, m, sc, chosen in (
            ("published", mae, scaled, False),
            (PRODUCT_METHODS[pid], chosen_mae, chosen_scaled, True),
        ):
            rows.append(
                (categories[pid], pid, PRODUCT_CLASSES[pid], method, 5, m, m * 1.5, 0.0, sc,
                 sc, nan, nan, chosen, nan, nan)
            )  # fmt: skip
    for category, coverage in LEAD_TIME_COVERAGE.items():
        rows.append(
            (category, T.ALL_PRODUCTS, None, "published", 5, nan, nan, nan, nan, nan, 0.85,
             coverage, True, nan, nan)
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(T.COLUMNS[T.PRODUCT_BACKTEST]))


def build_dashboard_db(
    path: str | Path,
    *,
    end_date: date | None = None,
    created_at: datetime | None = None,
    method: str | Mapping[str, str] | None = None,
    gate_failed: bool = False,
    run_id: str = RUN_ID,
    skip_tables: Collection[str] = (),
    empty_tables: Collection[str] = (),
    drop_columns: Mapping[str, Sequence[str]] | None = None,
    forecast_only_series: Sequence[str] = (),
) -> Path:
    """Write the known database to ``path`` (overwriting it) and return the path.

    Args:
        end_date: last day of history (default: yesterday, UTC).
        created_at: the forecast's ``created_at`` (default: an hour ago, naive UTC).
        method: the forecast's ``method``: one for every series, or per series (default
            :data:`METHODS`, or :data:`FALLBACK_METHOD` everywhere when ``gate_failed``).
        gate_failed: the backtest's ``published`` row of the total does not beat
            ``seasonal_naive_7`` (:data:`GATE_FAILED_TOTAL`): the fallback case.
        run_id: the forecast's ``run_id``.
        skip_tables: tables not to create at all (a database from before that asset existed).
        empty_tables: tables created with the contract's columns but no rows (an empty
            ``backtest``: a history too short for one, also a fallback).
        drop_columns: per table, contract columns to leave out (a table from an older schema).
        forecast_only_series: extra series that have a forecast but no history.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    end = end_date or default_end_date()
    created = created_at or (datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1))
    if method is None:
        method = FALLBACK_METHOD if gate_failed else METHODS
    methods = (
        dict.fromkeys((T.TOTAL_SERIES, *CATEGORIES, *forecast_only_series), method)
        if isinstance(method, str)
        else method
    )
    frames = {
        T.DAILY_SALES: _daily_sales(end),
        T.SALES_FORECAST: _forecast(end, created, methods, forecast_only_series, run_id),
        T.BACKTEST: _backtest(gate_failed),
        T.BACKTEST_PREDICTIONS: _backtest_predictions(end),
        T.FORECAST_ACCURACY: _forecast_accuracy(),
        T.PRODUCTS: _products(),
        T.PRODUCT_DAILY_SALES: _product_daily_sales(end),
        T.PRODUCT_BACKTEST: _product_backtest(),
        T.PRODUCT_FORECAST: _product_forecast(end),
        T.REPLENISHMENT: _replenishment(),
    }
    drop_columns = drop_columns or {}
    with duckdb.connect(str(path)) as conn:
        for table, frame in frames.items():
            if table in skip_tables:
                continue
            columns = {
                c: t for c, t in T.COLUMNS[table].items() if c not in drop_columns.get(table, ())
            }
            ddl = ", ".join(f'"{c}" {t}' for c, t in columns.items())
            conn.execute(f'CREATE TABLE "{table}" ({ddl})')
            if table in empty_tables:
                continue
            conn.register("frame_view", frame[list(columns)])
            conn.execute(f'INSERT INTO "{table}" SELECT * FROM frame_view')
            conn.unregister("frame_view")
    return path


_LOCK_SCRIPT = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
conn.close()
"""


@contextmanager
def hold_write_lock(path: str | Path) -> Iterator[None]:
    """Hold a read-write connection to ``path`` in another process (as a pipeline run would), so
    that readers get DuckDB's lock error until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCK_SCRIPT, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "locked":
            raise RuntimeError(f"the lock holder did not start: {line!r}")
        yield
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
