"""Read-only data access and KPI computation for the dashboard (no Streamlit in here).

Everything the app shows is computed by the plain functions of this module, so tests can call them
directly. The only ways in are the storage layer's read helpers (``sales_platform.storage.query``
and ``sales_platform.storage.read_table``): every read opens a short-lived read-only connection
and closes it again, so the dashboard never holds a DuckDB lock that would block a pipeline run.

Data version and caching
    :func:`data_version` is built from ``stat()`` of the DuckDB file and its write-ahead log (no
    connection needed). Every committed write of the pipeline changes the file or its WAL, so the
    version changes with every materialization. The app caches :func:`load_dashboard_data` keyed by
    (path, version) and computes the version *before* loading: the loaded data is therefore never
    older than its key, and a stale copy cannot be served after a new materialization.

The 80 % range of the 30-day forecast total
    ``sales_forecast`` stores *daily* 80 % intervals. Summing the daily bounds gives the interval of
    the 30-day total only if all daily errors move together (perfectly correlated); that is the
    widest plausible range and what the KPI shows, labelled "daily 80 % bounds summed". If the
    daily errors were independent, the half-widths add in quadrature (``sqrt(sum(halfwidth**2))``),
    which is the narrowest plausible range; it is shown next to it. For forecast errors that are
    positively correlated across days (the usual case: a level error persists), the true 80 %
    interval of the total lies between the two. See :func:`headline_kpis`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sales_platform import settings, storage
from sales_platform import tables as T

PUBLISHED = "published"
"""``backtest.model`` of what the platform publishes: per series the candidate chosen on earlier
backtest folds, reconciled. The headline accuracy and the quality gate are about this row.
``product_backtest.method`` names a product's published forecast the same way."""
BASELINE = "seasonal_naive_7"
"""The baseline the headline accuracy and the quality gate compare with."""
ALL_SERIES = "__all__"
"""``backtest.series`` of the metrics pooled over every series."""
MODEL_LABELS = {
    PUBLISHED: "published (per-series choice)",
    "random_forest": "forest",
    "ets": "AutoETS",
    "weekday_level": "level x weekday profile",
    "yearly_level": "level x weekday x yearly index",
    BASELINE: "seasonal naive",
    "moving_average_28": "28-day mean",
    "oracle": "oracle (expected demand)",
}
"""Readable names of the ``backtest.model`` / ``sales_forecast.method`` values, in display order:
the published forecast, the candidates each series chooses from, then the synthetic shop's oracle.
Unknown names are shown as they are."""
CHOICES = ("random_forest", "ets", "weekday_level", "yearly_level")
"""What each series chooses among on its backtest (its ``sales_forecast.method`` when the gate
passes)."""
CANDIDATES = (*CHOICES, BASELINE, "moving_average_28")
"""Every method the backtest scores: the choices, then the baselines (the gate's reference and its
fallback, which every series publishes when the choice fails the gate)."""
BASELINE_LABEL = MODEL_LABELS[BASELINE]

KPI_WINDOW_DAYS = 30
DEFAULT_HISTORY_DAYS = 180
DATA_STALE_AFTER_DAYS = 2
"""Warn when the last day of sales data is more than this many days before today (UTC)."""
FORECAST_STALE_AFTER = timedelta(days=2)
"""Warn when the published forecast was created longer ago than this."""
READ_TIMEOUT_S = 5.0
"""How long one load waits for a writing pipeline run before the app reports "busy"."""

REQUIRED_TABLES = (T.DAILY_SALES,)
"""Without these the dashboard shows nothing but a message."""
OPTIONAL_TABLES = (T.SALES_FORECAST, T.BACKTEST, T.BACKTEST_PREDICTIONS, T.FORECAST_ACCURACY)
"""Without these the dashboard still shows what it can, and says what is missing where it is."""


# --------------------------------------------------------------------------------------------------
# Where the data is and which version of it
# --------------------------------------------------------------------------------------------------
def database_path(environ: Mapping[str, str] | None = None) -> Path:
    """The DuckDB file: ``$SALES_DUCKDB_PATH`` or ``data/sales.duckdb`` (relative to the cwd)."""
    return Path(settings.database_path(environ))


def data_version(path: str | os.PathLike[str]) -> str | None:
    """A string that changes with every committed write to the database; ``None`` if no file.

    Built from the modification time (ns) and size of the file and of its ``.wal``; cheap enough to
    compute on every rerun and needs no connection (so it works while a writer holds the lock).
    """
    path = Path(path)
    parts = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            if p == path:
                return None
            continue
        parts.append(f"{p.suffix or p.name}:{st.st_mtime_ns}:{st.st_size}")
    return "|".join(parts)


def forecast_stamp(forecast: pd.DataFrame | None) -> str | None:
    """``"<run_id>@<created_at>"`` of the latest published forecast; ``None`` without one.

    Every pipeline run that publishes a forecast rewrites ``sales_forecast`` with its own
    ``run_id`` and ``created_at``, so a different stamp means a new forecast.
    """
    if forecast is None or forecast.empty:
        return None
    latest = forecast.loc[forecast["created_at"].idxmax()]
    return f"{latest['run_id']}@{pd.Timestamp(latest['created_at']).isoformat()}"


def read_forecast_stamp(path: str | os.PathLike[str], *, timeout_s: float = 1.0) -> str | None:
    """:func:`forecast_stamp` of the forecast in the database now, in one short read.

    For a page left open to notice a new run. Raises the storage layer's errors (busy, missing
    file or table) so that the caller can simply try again later.
    """
    df = storage.query(
        path,
        f"SELECT run_id, created_at FROM {T.SALES_FORECAST} ORDER BY created_at DESC LIMIT 1",
        timeout_s=timeout_s,
    )
    return forecast_stamp(df)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableIssue:
    """A table the dashboard needs that is missing or was written by an older schema."""

    table: str
    missing_columns: tuple[str, ...] = ()

    @property
    def missing_table(self) -> bool:
        return not self.missing_columns

    def message(self) -> str:
        if self.missing_table:
            return f"Table `{self.table}` is not in the database yet."
        cols = ", ".join(f"`{c}`" for c in self.missing_columns)
        return (
            f"Table `{self.table}` comes from an older schema: it lacks the column"
            f"{'s' if len(self.missing_columns) > 1 else ''} {cols}."
        )


@dataclass
class DashboardData:
    """Everything the dashboard shows, as read from one version of the database."""

    daily_sales: pd.DataFrame | None = None
    sales_forecast: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    backtest_predictions: pd.DataFrame | None = None
    forecast_accuracy: pd.DataFrame | None = None
    issues: dict[str, TableIssue] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)

    @property
    def blocking_issues(self) -> list[TableIssue]:
        """Issues with tables the dashboard cannot do without."""
        return [self.issues[t] for t in REQUIRED_TABLES if t in self.issues]


PRODUCT_TABLES = (T.PRODUCT_FORECAST, T.REPLENISHMENT, T.PRODUCT_BACKTEST)
"""The product view reads these whole; without any of them (or without ``product_daily_sales``,
read one product at a time) it shows only a message."""


@dataclass
class ProductData:
    """The product tables, read when the product view opens (``products`` only adds names)."""

    product_forecast: pd.DataFrame | None = None
    replenishment: pd.DataFrame | None = None
    product_backtest: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    issues: dict[str, TableIssue] = field(default_factory=dict)

    @property
    def blocking_issues(self) -> list[TableIssue]:
        needed = (*PRODUCT_TABLES, T.PRODUCT_DAILY_SALES)
        return [self.issues[t] for t in needed if t in self.issues]


def _schema(path: Path, timeout_s: float) -> dict[str, set[str]]:
    """Columns of every table in the main schema, in one short read."""
    df = storage.query(
        path,
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ?",
        [storage.DEFAULT_SCHEMA],
        timeout_s=timeout_s,
    )
    schema: dict[str, set[str]] = {}
    for table, column in zip(df["table_name"], df["column_name"], strict=True):
        schema.setdefault(table, set()).add(column)
    return schema


def load_dashboard_data(
    path: str | os.PathLike[str], *, timeout_s: float | None = None
) -> DashboardData:
    """Read the contract columns of every table the dashboard shows.

    Missing tables and tables that lack contract columns are reported in ``issues`` (and left as
    ``None``) instead of raising, so the app can say which table is the problem.

    Raises:
        storage.DatabaseNotFoundError: no database file.
        storage.DatabaseBusyError: a writer held the file for longer than ``timeout_s``
            (default :data:`READ_TIMEOUT_S`).
    """
    data = DashboardData()
    _read_contract_tables(path, (*REQUIRED_TABLES, *OPTIONAL_TABLES), data, timeout_s)
    return data


def _read_contract_tables(
    path: str | os.PathLike[str],
    tables: Sequence[str],
    into: DashboardData | ProductData,
    timeout_s: float | None,
    *,
    checked_only: Sequence[str] = (),
) -> None:
    """Set each table's contract columns as an attribute of ``into``, or record an issue.

    ``checked_only`` tables are only checked for their contract columns, not read (too big to
    read whole; the caller reads slices of them).
    """
    path = Path(path)
    timeout = READ_TIMEOUT_S if timeout_s is None else timeout_s
    schema = _schema(path, timeout)
    for table in (*tables, *checked_only):
        wanted = list(T.COLUMNS[table])
        if table not in schema:
            into.issues[table] = TableIssue(table)
            continue
        missing = tuple(c for c in wanted if c not in schema[table])
        if missing:
            into.issues[table] = TableIssue(table, missing)
            continue
        if table in checked_only:
            continue
        try:
            df = storage.read_table(path, table, columns=wanted, timeout_s=timeout)
        except storage.TableNotFoundError:  # dropped between the two reads
            into.issues[table] = TableIssue(table)
            continue
        setattr(into, table, _normalize(table, df))


def load_product_data(
    path: str | os.PathLike[str], *, timeout_s: float | None = None
) -> ProductData:
    """Read the product tables like :func:`load_dashboard_data`; ``product_daily_sales`` is only
    checked (one product's history: :func:`read_product_history`). Raises as that does."""
    data = ProductData()
    _read_contract_tables(
        path,
        (*PRODUCT_TABLES, T.PRODUCTS),
        data,
        timeout_s,
        checked_only=(T.PRODUCT_DAILY_SALES,),
    )
    return data


def read_product_history(
    path: str | os.PathLike[str], product_id: str, *, timeout_s: float | None = None
) -> pd.DataFrame:
    """``date, units, revenue`` of one product, by date (from its first sale)."""
    df = storage.read_table(
        path,
        T.PRODUCT_DAILY_SALES,
        columns=["date", "units", "revenue"],
        where="product_id = ?",
        params=[product_id],
        timeout_s=READ_TIMEOUT_S if timeout_s is None else timeout_s,
    )
    return _normalize(T.PRODUCT_DAILY_SALES, df)


def _normalize(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Dates as datetime64 at midnight, series as str, sorted: what charts and KPIs expect."""
    for col, sql_type in T.COLUMNS[table].items():
        if sql_type in ("DATE", "TIMESTAMP") and col in df:
            df[col] = pd.to_datetime(df[col])
            if sql_type == "DATE":
                df[col] = df[col].dt.normalize()
    if "series" in df:
        df["series"] = df["series"].astype(str)
    keys = ("series", "category", "product_id", "model", "fold", "date", "horizon")
    order = [c for c in keys if c in df]
    return df.sort_values(order, kind="stable").reset_index(drop=True) if order else df


# --------------------------------------------------------------------------------------------------
# Series and slices
# --------------------------------------------------------------------------------------------------
def series_options(daily_sales: pd.DataFrame | None, forecast: pd.DataFrame | None) -> list[str]:
    """Every series with history or a forecast: the total first, then categories A-Z (and the
    backtest's pooled ``__all__`` last, when a backtest table is passed)."""
    names: set[str] = set()
    for df in (daily_sales, forecast):
        if df is not None and len(df):
            names.update(df["series"].unique())
    return sorted(names, key=lambda s: (s != T.TOTAL_SERIES, s == ALL_SERIES, s.lower()))


def series_label(series: str) -> str:
    if series == T.TOTAL_SERIES:
        return "Total (all categories)"
    if series == ALL_SERIES:
        return "all series (pooled)"
    return series


def model_label(model: str) -> str:
    """``"ets"`` -> ``"AutoETS"``: the readable name of a model or method (see MODEL_LABELS)."""
    return MODEL_LABELS.get(model, model)


def model_sort_key(model: str) -> tuple[int, str]:
    order = list(MODEL_LABELS)
    return (order.index(model) if model in order else len(order), model)


def history(
    daily_sales: pd.DataFrame | None,
    series: str,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """``date, revenue, units, orders`` of one series, optionally limited to ``[start, end]``."""
    if daily_sales is None or daily_sales.empty:
        return pd.DataFrame(columns=["date", "revenue", "units", "orders"])
    df = daily_sales[daily_sales["series"] == series]
    if start is not None:
        df = df[df["date"] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df["date"] <= pd.Timestamp(end)]
    return df[["date", "revenue", "units", "orders"]].reset_index(drop=True)


def forecast_for(forecast: pd.DataFrame | None, series: str) -> pd.DataFrame:
    """The published forecast of one series, by date."""
    if forecast is None or forecast.empty:
        return pd.DataFrame(columns=list(T.FORECAST_COLUMNS))
    return forecast[forecast["series"] == series].sort_values("date").reset_index(drop=True)


def history_bounds(daily_sales: pd.DataFrame | None) -> tuple[date, date] | None:
    """First and last day of sales history (all series share the zero-filled calendar)."""
    if daily_sales is None or daily_sales.empty:
        return None
    return daily_sales["date"].min().date(), daily_sales["date"].max().date()


def default_history_range(
    bounds: tuple[date, date], days: int = DEFAULT_HISTORY_DAYS
) -> tuple[date, date]:
    """The last ``days`` days of history (or all of it when shorter)."""
    first, last = bounds
    return max(first, last - timedelta(days=days - 1)), last


# --------------------------------------------------------------------------------------------------
# Headline KPIs
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    """Recent revenue and the forecast of the next ``window_days`` days for one series."""

    series: str
    window_days: int
    last_date: date | None
    actual: float | None
    """Revenue of the last ``window_days`` days of history."""
    forecast: float | None
    """Sum of the point forecast over the first ``window_days`` forecast days."""
    change_pct: float | None
    range80_summed: tuple[float, float] | None
    """Daily 80 % bounds summed: the range if all days' errors moved together (widest)."""
    range80_independent: tuple[float, float] | None
    """Half-widths added in quadrature: the range if the days' errors were independent."""
    forecast_start: date | None = None
    forecast_end: date | None = None


def headline_kpis(
    daily_sales: pd.DataFrame | None,
    forecast: pd.DataFrame | None,
    series: str = T.TOTAL_SERIES,
    window_days: int = KPI_WINDOW_DAYS,
) -> Headline:
    """Revenue of the last ``window_days`` days vs the forecast of the next ones.

    When the forecast covers fewer than ``window_days`` days, both sides use that shorter window so
    that the change compares like with like.
    """
    fc = forecast_for(forecast, series).head(window_days)
    window = len(fc) if len(fc) else window_days
    hist = history(daily_sales, series)
    actual = last_date = None
    if len(hist):
        last_date = hist["date"].max().date()
        recent = hist[hist["date"] > pd.Timestamp(last_date - timedelta(days=window))]
        actual = float(recent["revenue"].sum())
    fc_sum = change = summed = independent = None
    fc_start = fc_end = None
    if len(fc):
        fc_sum = float(fc["forecast"].sum())
        fc_start, fc_end = fc["date"].iloc[0].date(), fc["date"].iloc[-1].date()
        summed = (float(fc["lower_80"].sum()), float(fc["upper_80"].sum()))
        below = math.sqrt(float(((fc["forecast"] - fc["lower_80"]) ** 2).sum()))
        above = math.sqrt(float(((fc["upper_80"] - fc["forecast"]) ** 2).sum()))
        independent = (fc_sum - below, fc_sum + above)
        if actual:
            change = (fc_sum - actual) / actual * 100.0
    return Headline(
        series=series,
        window_days=window,
        last_date=last_date,
        actual=actual,
        forecast=fc_sum,
        change_pct=change,
        range80_summed=summed,
        range80_independent=independent,
        forecast_start=fc_start,
        forecast_end=fc_end,
    )


@dataclass(frozen=True)
class Accuracy:
    """Backtest accuracy of the published forecast next to the baseline for one series."""

    series: str
    model_mae: float | None
    model_mase: float | None
    baseline_mae: float | None
    baseline_mase: float | None
    folds: int | None

    @property
    def mae_change_pct(self) -> float | None:
        """Relative MAE of the model vs the baseline in percent (negative = model better)."""
        if self.model_mae is None or not self.baseline_mae:
            return None
        return (self.model_mae - self.baseline_mae) / self.baseline_mae * 100.0


def _metric(backtest: pd.DataFrame, series: str, model: str, column: str) -> float | None:
    rows = backtest[(backtest["series"] == series) & (backtest["model"] == model)]
    if rows.empty or pd.isna(rows[column].iloc[0]):
        return None
    return float(rows[column].iloc[0])


def backtest_accuracy(
    backtest: pd.DataFrame | None,
    series: str = T.TOTAL_SERIES,
    model: str = PUBLISHED,
    baseline: str = BASELINE,
) -> Accuracy | None:
    """MAE/MASE of ``model`` (the published forecast) and ``baseline`` on ``series``; ``None`` when
    the model has no row for it."""
    if backtest is None or backtest.empty:
        return None
    if backtest[(backtest["series"] == series) & (backtest["model"] == model)].empty:
        return None
    folds = _metric(backtest, series, model, "folds")
    return Accuracy(
        series=series,
        model_mae=_metric(backtest, series, model, "mae"),
        model_mase=_metric(backtest, series, model, "mase"),
        baseline_mae=_metric(backtest, series, baseline, "mae"),
        baseline_mase=_metric(backtest, series, baseline, "mase"),
        folds=int(folds) if folds is not None else None,
    )


@dataclass(frozen=True)
class Gate:
    """The quality gate, read back from the ``backtest`` table.

    The platform publishes its per-series choice only when the ``published`` row's backtest MASE
    on ``total`` (on the pooled ``__all__`` when there is no total) is below ``seasonal_naive_7``'s;
    otherwise, and when the history was too short for a backtest (an empty table), every series
    publishes the best baseline: the *fallback*.
    """

    passed: bool
    series: str | None
    published_mase: float | None
    baseline_mase: float | None

    @property
    def fallback(self) -> bool:
        return not self.passed

    @property
    def no_backtest(self) -> bool:
        return self.series is None

    def reason(self) -> str:
        if self.no_backtest:
            return "the history is too short for a backtest, so nothing could be compared"
        where = "the total" if self.series == T.TOTAL_SERIES else "all series pooled"
        if self.published_mase is None or self.baseline_mase is None:
            return (
                f"the backtest has no MASE of the per-series choice or of {BASELINE_LABEL} on "
                f"{where} to compare"
            )
        verb = "is below" if self.passed else "is not below"
        return (
            f"the per-series choice's backtest MASE on {where}, "
            f"{self.published_mase:.3f}, {verb} {BASELINE_LABEL}'s {self.baseline_mase:.3f}"
        )


def gate_status(backtest: pd.DataFrame | None) -> Gate | None:
    """Whether the published forecast is the per-series choice or the baseline fallback.

    Derived from the backtest table only (the ``method`` of a series says which candidate it
    publishes, which may well be a baseline without any fallback). ``None`` when the table is not
    there at all (unknown; an empty table means a history too short for a backtest).
    """
    if backtest is None:
        return None
    if backtest.empty:
        return Gate(passed=False, series=None, published_mase=None, baseline_mase=None)
    has_total = (backtest["series"] == T.TOTAL_SERIES).any()
    series = T.TOTAL_SERIES if has_total else ALL_SERIES
    published = _metric(backtest, series, PUBLISHED, "mase")
    baseline = _metric(backtest, series, BASELINE, "mase")
    ok = (
        published is not None
        and baseline is not None
        and math.isfinite(published)
        and math.isfinite(baseline)
        and published < baseline
    )
    return Gate(passed=ok, series=series, published_mase=published, baseline_mase=baseline)


def forecast_methods(forecast: pd.DataFrame | None, series: str | None = None) -> list[str]:
    """Distinct methods that produced the published forecast (of one series, or of all)."""
    if forecast is None or forecast.empty:
        return []
    df = forecast if series is None else forecast[forecast["series"] == series]
    return sorted((str(m) for m in df["method"].dropna().unique()), key=model_sort_key)


def series_methods(forecast: pd.DataFrame | None) -> dict[str, str]:
    """Per series (total first), the method its published forecast comes from (several joined by
    ``", "`` if a series ever had more than one)."""
    if forecast is None or forecast.empty:
        return {}
    return {s: ", ".join(forecast_methods(forecast, s)) for s in series_options(None, forecast)}


def candidate_mae(
    predictions: pd.DataFrame | None, forecast: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The candidates' backtest MAE per series, with what each series publishes.

    One row per series (total first): ``series``, ``publishes`` (``sales_forecast.method``) and
    one MAE column per candidate (:data:`CANDIDATES` present in the predictions, by their raw
    names). The MAE is over every fold of ``backtest_predictions``, the warm-up fold 0 included:
    the folds a series' choice is made on (the ``backtest`` table scores folds >= 1 only, so its
    MAE can differ a little).
    """
    cols = ["series", "publishes"]
    if predictions is None or predictions.empty:
        return pd.DataFrame(columns=cols)
    rows = predictions[predictions["model"].isin(CANDIDATES)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    err = (rows["actual"] - rows["forecast"]).abs()
    table = err.groupby([rows["series"], rows["model"]]).mean().unstack("model")
    table = table[[c for c in CANDIDATES if c in table.columns]]
    order = series_options(rows, forecast)
    table = table.reindex(order)
    methods = series_methods(forecast)
    table.insert(0, "publishes", [methods.get(s) for s in table.index])
    table.columns.name = None
    return table.rename_axis("series").reset_index()


@dataclass(frozen=True)
class Freshness:
    data_through: date | None
    data_age_days: int | None
    forecast_created_at: datetime | None
    forecast_age: timedelta | None
    run_id: str | None
    model_version: str | None

    @property
    def data_stale(self) -> bool:
        return self.data_age_days is not None and self.data_age_days > DATA_STALE_AFTER_DAYS

    @property
    def forecast_stale(self) -> bool:
        return self.forecast_age is not None and self.forecast_age > FORECAST_STALE_AFTER


def utc_now() -> datetime:
    """Now as a naive UTC timestamp (the contract's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def freshness(
    daily_sales: pd.DataFrame | None,
    forecast: pd.DataFrame | None,
    now: datetime | None = None,
) -> Freshness:
    """When the data and the forecast were last refreshed, relative to ``now`` (naive UTC)."""
    now = now or utc_now()
    data_through = age_days = None
    if daily_sales is not None and len(daily_sales):
        data_through = daily_sales["date"].max().date()
        age_days = (now.date() - data_through).days
    created = age = run_id = version = None
    if forecast is not None and len(forecast):
        latest = forecast.loc[forecast["created_at"].idxmax()]
        created = latest["created_at"].to_pydatetime()
        age = now - created
        run_id, version = str(latest["run_id"]), str(latest["model_version"])
    return Freshness(data_through, age_days, created, age, run_id, version)


# --------------------------------------------------------------------------------------------------
# Model quality
# --------------------------------------------------------------------------------------------------
def backtest_table(backtest: pd.DataFrame | None, baseline: str = BASELINE) -> pd.DataFrame:
    """Backtest metrics per series and model, with MAE relative to ``baseline`` (1 = as good).

    Series: the total, the categories A-Z, then the pooled ``__all__``; models: the published
    forecast, then the candidates and the oracle in :data:`MODEL_LABELS` order. Adds readable
    ``series_label`` and ``model_label`` columns.
    """
    if backtest is None or backtest.empty:
        return pd.DataFrame(
            columns=[*T.COLUMNS[T.BACKTEST], "relative_mae", "series_label", "model_label"]
        )
    base = backtest[backtest["model"] == baseline].set_index("series")["mae"]
    df = backtest.copy()
    df["relative_mae"] = df["mae"] / df["series"].map(base)
    order = {s: i for i, s in enumerate(series_options(df, None))}
    df["_order"] = df["series"].map(order)
    df["_model_order"] = df["model"].map(lambda m: model_sort_key(m)[0])
    df = df.sort_values(["_order", "_model_order", "model"]).drop(
        columns=["_order", "_model_order"]
    )
    df["series_label"] = df["series"].map(series_label)
    df["model_label"] = df["model"].map(model_label)
    return df.reset_index(drop=True)


def accuracy_for(forecast_accuracy: pd.DataFrame | None, series: str) -> pd.DataFrame:
    """How published forecasts of ``series`` did, by horizon (empty when none scored yet)."""
    if forecast_accuracy is None or forecast_accuracy.empty:
        return pd.DataFrame(columns=list(T.COLUMNS[T.FORECAST_ACCURACY]))
    df = forecast_accuracy[forecast_accuracy["series"] == series]
    return df.sort_values("horizon").reset_index(drop=True)


def accuracy_summary(acc: pd.DataFrame) -> dict[str, float] | None:
    """Forecast-weighted MAE and interval coverage over all horizons of one series."""
    if acc.empty or acc["forecasts"].sum() == 0:
        return None
    w = acc["forecasts"].astype(float)
    return {
        "forecasts": float(w.max()),
        "mae": float((acc["mae"] * w).sum() / w.sum()),
        "coverage_80": float((acc["coverage_80"] * w).sum() / w.sum()),
        "coverage_95": float((acc["coverage_95"] * w).sum() / w.sum()),
    }


def predictions_for(
    predictions: pd.DataFrame | None, series: str, *, scored_only: bool = False
) -> pd.DataFrame:
    """Backtest predictions of ``series`` (every model; every fold, or the scored folds >= 1)."""
    if predictions is None or predictions.empty:
        return pd.DataFrame(columns=list(T.COLUMNS[T.BACKTEST_PREDICTIONS]))
    df = predictions[predictions["series"] == series]
    if scored_only:
        df = df[df["fold"] >= 1]
    return df.reset_index(drop=True)


def backtest_window_error(
    predictions: pd.DataFrame | None, series: str = T.TOTAL_SERIES, model: str = PUBLISHED
) -> tuple[float, int] | None:
    """Mean absolute percentage error of each scored backtest fold's *total* (sum over its days).

    An empirical check of how far off a whole-window total has been, which the summed daily
    intervals cannot tell. Returns ``(percent, folds)``; the warm-up fold 0 is not scored.
    """
    df = predictions_for(predictions, series, scored_only=True)
    df = df[df["model"] == model]
    if df.empty:
        return None
    sums = df.groupby("fold")[["actual", "forecast"]].sum()
    sums = sums[sums["actual"] != 0]
    if sums.empty:
        return None
    err = ((sums["forecast"] - sums["actual"]).abs() / sums["actual"]).mean() * 100.0
    return float(err), len(sums)


def forecast_export(forecast: pd.DataFrame | None) -> pd.DataFrame:
    """The forecast table for display and CSV download: date, series, point, intervals, origin."""
    cols = ["date", "series", "horizon", "forecast", "lower_80", "upper_80", "lower_95", "upper_95",
            "method", "model_version", "run_id", "created_at"]  # fmt: skip
    if forecast is None or forecast.empty:
        return pd.DataFrame(columns=cols)
    order = {s: i for i, s in enumerate(series_options(None, forecast))}
    df = forecast[cols].copy()
    df["_order"] = df["series"].map(order)
    df = df.sort_values(["_order", "date"]).drop(columns="_order").reset_index(drop=True)
    df["date"] = df["date"].dt.date
    return df


def forecast_csv(forecast: pd.DataFrame | None) -> bytes:
    return forecast_export(forecast).to_csv(index=False).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------------
SERVICE_LEVELS = (0.8, 0.9, 0.95, 0.98, 0.99)
"""Service levels the product view offers, besides the one ``replenishment`` was computed for."""
PRODUCT_TABLE_COLUMNS = [
    "product_id", "name", "category", "forecast_units", "lead_time_days", "service_level",
    "expected_demand", "quantity", "safety_stock", "method", "demand_class", "is_new",
    "backtest_mae", "backtest_scaled_mae",
]  # fmt: skip


@dataclass(frozen=True)
class ReplenishmentSettings:
    """The lead time and service level the stored ``replenishment`` table was computed for."""

    lead_time_days: int
    service_level: float


def replenishment_settings(replenishment: pd.DataFrame | None) -> ReplenishmentSettings | None:
    """``None`` without rows. One run computes every row for the same settings."""
    if replenishment is None or replenishment.empty:
        return None
    first = replenishment.iloc[0]
    return ReplenishmentSettings(int(first["lead_time_days"]), float(first["service_level"]))


def service_level_options(stored: float) -> list[float]:
    return sorted({*SERVICE_LEVELS, stored})


def order_quantity(
    expected_demand: pd.Series, dispersion: pd.Series, service_level: float
) -> np.ndarray:
    """Units that cover the lead-time demand with probability ``service_level``: the pipeline's
    own negative-binomial quantile, from the stored lead-time mean and dispersion, so at the
    stored service level it is the stored ``quantity``."""
    # Imported here: the forecasting package loads scikit-learn and statsforecast (over a second),
    # which only the product view needs.
    from sales_platform.forecasting.products.distribution import demand_quantile

    return demand_quantile(expected_demand.to_numpy(), dispersion.to_numpy(), service_level)


def product_table(products: ProductData, service_level: float) -> pd.DataFrame:
    """One row per forecast product, the biggest forecast first (:data:`PRODUCT_TABLE_COLUMNS`).

    ``forecast_units``: the forecast's sum over its whole horizon; ``expected_demand``,
    ``quantity`` and ``safety_stock``: over the stored lead time, the quantity at
    ``service_level``; ``backtest_*``: the product's ``published`` backtest row (what the platform
    publishes, its class's choice made on earlier folds), per day; none for a new product.
    """
    rep = products.replenishment
    if rep is None or rep.empty or products.product_forecast is None:
        return pd.DataFrame(columns=PRODUCT_TABLE_COLUMNS)
    units = products.product_forecast.groupby("product_id")["units"].sum()
    table = rep.assign(
        forecast_units=rep["product_id"].map(units),
        service_level=service_level,
        quantity=order_quantity(rep["expected_demand"], rep["dispersion"], service_level),
    )
    table["safety_stock"] = table["quantity"] - table["expected_demand"]
    table["quantity"] = table["quantity"].astype("int64")
    backtest = products.product_backtest
    if backtest is not None:
        published = backtest[
            (backtest["method"] == PUBLISHED) & (backtest["product_id"] != T.ALL_PRODUCTS)
        ]
        errors = published.set_index("product_id")
        table["backtest_mae"] = table["product_id"].map(errors["mae"])
        table["backtest_scaled_mae"] = table["product_id"].map(errors["scaled_mae"])
    names = products.products
    table["name"] = table["product_id"].map(
        names.set_index("product_id")["name"] if names is not None else {}
    )
    table = table.reindex(columns=PRODUCT_TABLE_COLUMNS)
    return table.sort_values(
        ["forecast_units", "product_id"], ascending=[False, True], ignore_index=True
    )


def product_labels(table: pd.DataFrame) -> dict[str, str]:
    """``{"P0047": "P0047 · Lamp (Home)"}`` in the table's order: what the product picker shows
    and searches (without a name when ``products`` had none)."""
    names = (" · " + table["name"].astype("string")).fillna("")
    labels = table["product_id"] + names + " (" + table["category"] + ")"
    return dict(zip(table["product_id"], labels, strict=True))


def product_forecast_for(product_forecast: pd.DataFrame | None, product_id: str) -> pd.DataFrame:
    """One product's forecast by date, its units as ``forecast`` (the chart's column)."""
    cols = ["date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    if product_forecast is None:
        return pd.DataFrame(columns=cols)
    df = product_forecast[product_forecast["product_id"] == product_id]
    return df.rename(columns={"units": "forecast"})[cols].reset_index(drop=True)


def lead_time_coverage(product_backtest: pd.DataFrame | None, category: str) -> float | None:
    """Share of the category's backtest lead-time windows that the stored service level's
    quantity covered (its pooled ``published`` row); ``None`` when not scored."""
    if product_backtest is None:
        return None
    rows = product_backtest[
        (product_backtest["category"] == category)
        & (product_backtest["product_id"] == T.ALL_PRODUCTS)
        & (product_backtest["method"] == PUBLISHED)
    ]
    if rows.empty or pd.isna(rows["coverage"].iloc[0]):
        return None
    return float(rows["coverage"].iloc[0])


def product_csv(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------
def format_currency(value: float | None, decimals: int = 0) -> str:
    """``1234567.8`` -> ``$1,234,568`` (the sign of $SALES_CURRENCY); negatives as ``-$1,234``;
    ``None`` -> ``—``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return settings.money_text(value, decimals)


def format_pct(value: float | None, decimals: int = 1, signed: bool = True) -> str:
    """``6.875`` -> ``+6.9%``; ``None`` -> ``—``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+,.{decimals}f}%" if signed else f"{value:,.{decimals}f}%"


def format_number(value: float | None, decimals: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{decimals}f}"


def format_service_level(level: float) -> str:
    """``0.95`` -> ``95%``, ``0.975`` -> ``97.5%``."""
    return f"{level * 100:.4g}%"


def format_days_ago(days: int | None) -> str | None:
    if days is None:
        return None
    if days <= 0:
        return "today"
    return f"{days} day{'s' if days != 1 else ''} ago"


def format_age(age: timedelta | None) -> str:
    """A short human age: ``"3 h ago"``, ``"2 days ago"``."""
    if age is None:
        return "—"
    seconds = age.total_seconds()
    if seconds < 0:
        return "just now"
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"
