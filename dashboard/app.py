"""The sales forecast dashboard: ``streamlit run dashboard/app.py`` (or ``make dashboard``).

Reads the DuckDB file named by ``SALES_DUCKDB_PATH`` (default ``data/sales.duckdb``, relative to the
current directory) through the storage layer's short-lived read-only helpers; all numbers come from
:mod:`dashboard.data`, all charts from :mod:`dashboard.charts`. The "Products" tab is
:mod:`dashboard.products`.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ (not the repository root) on sys.path; put the
# root there so that `dashboard` is importable as a package from any working directory.
_REPO_ROOT = Path(__file__).resolve().parents[1]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from dashboard import charts, data, products  # noqa: E402
from sales_platform import settings, storage  # noqa: E402
from sales_platform import tables as T  # noqa: E402

RETRY_EVERY_S = 5  # while the database is busy, the app retries on its own this often
NEW_FORECAST_POLL_S = 30  # a page left open checks this often whether a run published anew
PAGE_ICON = "📈"  # an emoji: drawn by the browser, nothing fetched from the internet
TABS = ["Forecast", "Model quality", "Forecast table", "Products"]


# Streamlit's own formats of these currencies (rounded, -$1,234); printf's %,d, for the others,
# cuts the decimals off (the frames shown round them) and writes £-1,234.
STREAMLIT_MONEY_FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}


def money_column(label: str):
    """A table column of amounts in the shop's currency, in whole units."""
    named = STREAMLIT_MONEY_FORMATS.get(settings.currency_code())
    if named:
        return st.column_config.NumberColumn(label, format=named, step=1)
    return st.column_config.NumberColumn(label, format=f"{settings.currency_sign()}%,d")


# What a series chooses among, named as the tables name it (for the explanations). A comment, not
# a docstring: Streamlit's magic shows a bare string of the app's script on the page.
CHOICE_NAMES = ", ".join(data.model_label(m) for m in data.CHOICES)


@st.cache_data(show_spinner="Reading the latest tables…", max_entries=8)
def load(path: str, version: str) -> data.DashboardData:
    """Cached per (path, data version): a new materialization changes the version, so it shows up
    on the next rerun and the old copy is never served again. Errors (busy, missing) are not
    cached: they raise through and the next rerun tries again."""
    return data.load_dashboard_data(path)


@st.fragment(run_every=RETRY_EVERY_S)
def _auto_retry() -> None:
    """Reruns the whole app every RETRY_EVERY_S seconds (the first call, inline, only arms it)."""
    ticks = st.session_state.get("_busy_ticks", 0)
    st.session_state["_busy_ticks"] = ticks + 1
    if ticks >= 1:
        st.rerun()


@st.fragment(run_every=NEW_FORECAST_POLL_S)
def new_forecast_notice(path: str, shown_version: str, shown_stamp: str | None) -> None:
    """Says "New forecast available — reload" once a run has published since the page was drawn.

    Reruns on its own every NEW_FORECAST_POLL_S seconds. Each time it compares the database's
    version (a ``stat()``, no connection) with the one the page shows; only when that changed does
    it read the latest forecast's run and time (one short read-only query, skipped while a run
    holds the file). Writes that are not a new forecast (e.g. a backfill of orders) say nothing.
    """
    poll = st.session_state.setdefault("_new_forecast_poll", {})
    version = data.data_version(path)
    if version is not None and version != shown_version and version != poll.get("checked"):
        try:
            stamp = data.read_forecast_stamp(path)
        except Exception:  # busy (a run is writing), or mid-rewrite: look again next time
            stamp = None
        else:
            poll["checked"] = version
            poll["new"] = stamp if stamp is not None and stamp != shown_stamp else None
    if poll.get("new"):
        run, _, created = poll["new"].partition("@")
        with st.container(border=True):
            st.info(
                f"**New forecast available — reload** to see it (run `{run}`, published "
                f"{created.replace('T', ' ')[:16]} UTC).",
                icon=":material/update:",
            )
            if st.button("Reload", key="reload_new_forecast", type="primary"):
                st.rerun(scope="app")


# --------------------------------------------------------------------------------------------------
# Friendly states
# --------------------------------------------------------------------------------------------------
def show_no_database(path: Path) -> None:
    st.info(
        f"**No database yet.** There is no DuckDB file at `{path}`.\n\n"
        "Run `make run` first: it materializes the whole pipeline (orders → daily sales → model → "
        "forecast) into that file. To look at another database, set `SALES_DUCKDB_PATH`.",
        icon=":material/database:",
    )


def show_busy(path: Path, exc: Exception) -> None:
    st.warning(
        f"**The database is busy.** A pipeline run is writing to `{path}` right now, and readers "
        f"have to wait until it commits. Retrying automatically every {RETRY_EVERY_S} s…",
        icon=":material/hourglass_top:",
    )
    st.button("Retry now", key="retry", type="primary")
    with st.expander("Details"):
        st.code(str(exc), language=None)
    st.session_state["_busy_ticks"] = 0
    _auto_retry()


def show_read_error(path: Path, exc: Exception) -> None:
    st.error(
        f"**Could not read the database** `{path}`: {type(exc).__name__}: {exc}\n\n"
        "Is it a DuckDB file written by this pipeline? Re-running `make run` rebuilds it.",
        icon=":material/error:",
    )


def show_table_issues(issues: list[data.TableIssue]) -> None:
    lines = "\n".join(f"- {issue.message()}" for issue in issues)
    st.error(
        f"**The dashboard cannot show this database yet.**\n\n{lines}\n\n"
        "Run `make run` to materialize the pipeline with the current schema.",
        icon=":material/table_view:",
    )


def note_issue(issue: data.TableIssue, what: str) -> None:
    """An inline note where an optional table would be shown."""
    st.info(f"{issue.message()} {what} Run `make run` to build it.", icon=":material/info:")


# --------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------
def status_banners(d: data.DashboardData, fresh: data.Freshness) -> None:
    if fresh.data_stale:
        st.warning(
            f"**Sales data is stale:** the last day of data is {fresh.data_through:%b %d, %Y}, "
            f"{fresh.data_age_days} days ago (more than {data.DATA_STALE_AFTER_DAYS} days). "
            "Is the daily schedule running?",
            icon=":material/warning:",
        )
    if fresh.forecast_stale and fresh.forecast_created_at is not None:
        st.warning(
            f"**The forecast is stale:** it was made {data.format_age(fresh.forecast_age)} "
            f"({fresh.forecast_created_at:%b %d, %Y %H:%M} UTC), more than "
            f"{data.FORECAST_STALE_AFTER.days} days ago.",
            icon=":material/warning:",
        )
    issue = d.issues.get(T.SALES_FORECAST)
    if issue is not None:
        st.warning(
            f"{issue.message()} Showing history only; run `make run` to publish a forecast.",
            icon=":material/warning:",
        )
    elif d.sales_forecast is not None and d.sales_forecast.empty:
        st.warning(
            "No forecast has been published yet (`sales_forecast` is empty).",
            icon=":material/warning:",
        )
    gate = data.gate_status(d.backtest)
    if gate is not None and gate.fallback:
        methods = data.forecast_methods(d.sales_forecast)
        published = ", ".join(data.model_label(m) for m in methods) or "a baseline"
        st.warning(
            f"**Fallback forecast:** every series publishes **{published}**, the best baseline, "
            f"because {gate.reason()}. The per-series choice among the candidates "
            f"({CHOICE_NAMES}) is published only when it beats the seasonal-naive baseline on "
            "the backtest.",
            icon=":material/emergency:",
        )


def method_caption(d: data.DashboardData, series: str) -> str | None:
    """What one series publishes, e.g. "AutoETS (this series' choice on the backtest)"."""
    methods = data.forecast_methods(d.sales_forecast, series)
    if not methods:
        return None
    names = ", ".join(data.model_label(m) for m in methods)
    gate = data.gate_status(d.backtest)
    if gate is not None and gate.fallback:
        return f"{names} (fallback: the per-series choice did not pass the quality gate)"
    return f"{names} (this series' choice on the backtest)"


def kpi_row(d: data.DashboardData, fresh: data.Freshness, series: str = T.TOTAL_SERIES) -> None:
    """The headline cards of the selected series (the total by default)."""
    label = data.series_label(series)
    head = data.headline_kpis(d.daily_sales, d.sales_forecast, series)
    acc = data.backtest_accuracy(d.backtest, series)
    gate = data.gate_status(d.backtest)
    n = head.window_days
    recent = data.history(d.daily_sales, series).tail(n)
    fc = data.forecast_for(d.sales_forecast, series).head(n)
    summed, independent = head.range80_summed, head.range80_independent
    what = "all categories" if series == T.TOTAL_SERIES else f"**{label}**"
    our = data.model_label(data.PUBLISHED)

    st.markdown(
        f"#### {label}",
        help="The cards follow the series picked in the sidebar.",
    )
    c1, c2, c3, c4 = st.columns(4, border=True)
    with c1:
        st.metric(
            f"Revenue, last {n} days",
            data.format_currency(head.actual),
            help=f"Sum of the daily revenue of {what}.",
            chart_data=recent["revenue"].tolist() or None,
            chart_type="area",
        )
        if head.last_date is not None:
            first = head.last_date - timedelta(days=n - 1)
            st.caption(f"{first:%b %d} – {head.last_date:%b %d, %Y}")
    with c2:
        st.metric(
            f"Forecast, next {n} days",
            data.format_currency(head.forecast),
            delta=data.format_pct(head.change_pct) if head.change_pct is not None else None,
            delta_description=f"vs last {n} days" if head.change_pct is not None else None,
            help=(
                f"Sum of the daily point forecasts of {what}, "
                f"{head.forecast_start:%b %d} – {head.forecast_end:%b %d, %Y}.\n\n"
                "**80% range:** the daily 80% bounds summed. That is the range if every day's "
                "error went the same way, the widest plausible range for the total. If the "
                "days' errors were independent it would be "
                f"{data.format_currency(independent[0])} – {data.format_currency(independent[1])}; "
                "the true 80% interval of the total lies in between."
                if summed and independent
                else "No forecast published yet."
            ),
            chart_data=fc["forecast"].tolist() or None,
            chart_type="area",
        )
        if summed:
            st.caption(
                f"80% range {data.format_currency(summed[0])} – {data.format_currency(summed[1])} "
                "(daily bounds summed)"
            )
    with c3:
        delta = acc.mae_change_pct if acc is not None else None
        st.metric(
            "Backtest error per day (MAE)",
            data.format_currency(acc.model_mae) if acc is not None else "—",
            delta=data.format_pct(delta) if delta is not None else None,
            delta_color="inverse",
            delta_description=f"vs {data.BASELINE_LABEL}" if delta is not None else None,
            help=(
                f"Mean absolute error of our forecast ({our}: each series' candidate chosen on "
                f"earlier backtest folds) on {what} over the scored rolling 30-day backtest "
                f"folds, next to the {data.BASELINE_LABEL} baseline (the same weekday of the "
                f"week before), whose MAE is {data.format_currency(acc.baseline_mae)}."
                if acc is not None
                else "No backtest yet."
            ),
        )
        if acc is not None:
            st.caption(
                f"Our forecast ({data.PUBLISHED}) over {acc.folds or '?'} folds · "
                f"{data.BASELINE_LABEL} {data.format_currency(acc.baseline_mae)}"
            )
    with c4:
        mase, base = (acc.model_mase, acc.baseline_mase) if acc is not None else (None, None)
        st.metric(
            "Backtest MASE",
            data.format_number(mase),
            delta=f"{mase - base:+.2f}" if mase is not None and base is not None else None,
            delta_color="inverse",
            delta_description=f"vs {data.BASELINE_LABEL}" if base is not None else None,
            help="Mean absolute scaled error of our forecast: the MAE divided by the in-sample "
            "MAE of a seasonal-naive forecast. Below 1 beats that naive forecast. The quality "
            f"gate publishes the per-series choice only when its MASE on the total is below "
            f"{data.BASELINE_LABEL}'s.",
        )
        if mase is not None:
            st.caption(f"Below 1 beats naive · {data.BASELINE_LABEL} {data.format_number(base)}")

    s1, s2, s3, s4 = st.columns(4)
    methods = data.forecast_methods(d.sales_forecast, series)
    fallback = gate is not None and gate.fallback
    s1.metric(
        "Forecast method",
        ", ".join(data.model_label(m) for m in methods) if methods else "—",
        delta=("fallback" if fallback else "per-series choice") if methods else None,
        delta_color="inverse" if fallback else "off",
        delta_arrow="off",
        help=(
            f"What {label}'s published forecast comes from (`sales_forecast.method`: "
            f"{', '.join(f'`{m}`' for m in methods) or '—'}). Each series publishes the "
            f"candidate ({CHOICE_NAMES}) with the lowest error on its backtest (each fold's "
            "error relative to that fold's best); when that choice fails the quality gate, every "
            "series falls back to the best baseline."
        ),
    )
    s2.metric(
        "Data through",
        f"{fresh.data_through:%b %d, %Y}" if fresh.data_through else "—",
        delta=data.format_days_ago(fresh.data_age_days),
        delta_color="inverse" if fresh.data_stale else "off",
        delta_arrow="off",
        help=f"Last day in `daily_sales`; stale after {data.DATA_STALE_AFTER_DAYS} days.",
    )
    s3.metric(
        "Forecast made",
        f"{fresh.forecast_created_at:%b %d, %Y}" if fresh.forecast_created_at else "—",
        delta=data.format_age(fresh.forecast_age) if fresh.forecast_age is not None else None,
        delta_color="inverse" if fresh.forecast_stale else "off",
        delta_arrow="off",
        delta_description=f"{fresh.forecast_created_at:%H:%M} UTC"
        if fresh.forecast_created_at
        else None,
        help=f"`sales_forecast.created_at` of run `{fresh.run_id}`, model "
        f"`{fresh.model_version}`; stale after {data.FORECAST_STALE_AFTER.days} days.",
    )
    window = data.backtest_window_error(d.backtest_predictions, series)
    s4.metric(
        f"Backtest error of a {n}-day total",
        data.format_pct(window[0], signed=False) if window else "—",
        help=(
            f"How far our forecast's total over a whole backtest fold was from the actual total "
            f"of {what}, averaged over {window[1]} scored folds: an empirical check of the 80% "
            "range."
            if window
            else "No backtest predictions yet."
        ),
    )


def forecast_tab(d: data.DashboardData, series: str, history_range) -> None:
    label = data.series_label(series)
    start, end = history_range if history_range else (None, None)
    hist = data.history(d.daily_sales, series, start, end)
    fc = data.forecast_for(d.sales_forecast, series)
    head = data.headline_kpis(d.daily_sales, d.sales_forecast, series)
    st.subheader(f"{label}: daily revenue and forecast")
    if head.forecast is not None and head.actual is not None:
        st.markdown(
            f"Last {head.window_days} days **{data.format_currency(head.actual)}** · "
            f"next {head.window_days} days **{data.format_currency(head.forecast)}** "
            f"({data.format_pct(head.change_pct)}) · 80% range (daily bounds summed) "
            f"{data.format_currency(head.range80_summed[0])} – "
            f"{data.format_currency(head.range80_summed[1])}"
        )
    method = method_caption(d, series)
    if method:
        st.caption(f"Published forecast of {label}: {method}.")
    if hist.empty and fc.empty:
        st.info(f"No history and no forecast for **{label}** yet.", icon=":material/inbox:")
        return
    if hist.empty:
        st.info(
            f"No sales history for **{label}** in the selected range; showing the forecast only.",
            icon=":material/inbox:",
        )
    if fc.empty and d.sales_forecast is not None:
        st.info(
            f"No forecast was published for **{label}**; showing history only.",
            icon=":material/inbox:",
        )
    st.altair_chart(charts.forecast_chart(hist, fc), width="stretch", key="forecast_chart")
    st.caption(
        "Solid: actual revenue · dashed: point forecast · shaded: 80% and 95% prediction "
        "intervals. Scroll to zoom, drag to pan, double-click to reset; hover for values."
    )


def choice_table(d: data.DashboardData) -> None:
    """Which candidate each series publishes, next to every candidate's backtest MAE."""
    st.subheader("Per-series choice")
    gate = data.gate_status(d.backtest)
    if T.BACKTEST_PREDICTIONS in d.issues:
        note_issue(d.issues[T.BACKTEST_PREDICTIONS], "The candidates' scores appear here.")
        return
    table = data.candidate_mae(d.backtest_predictions, d.sales_forecast)
    if table.empty:
        st.info(
            "No candidate has been backtested yet (the history is too short for a backtest).",
            icon=":material/inbox:",
        )
        return
    candidates = [c for c in table.columns if c not in ("series", "publishes")]
    shown = table.assign(
        series=table["series"].map(data.series_label),
        publishes=table["publishes"].map(
            lambda m: ", ".join(data.model_label(x) for x in m.split(", ")) if m else "—"
        ),
    ).rename(columns={c: data.model_label(c) for c in candidates})
    chosen = dict(zip(table.index, table["publishes"], strict=True))

    def mark(row: pd.Series) -> list[str]:
        picked = set((chosen.get(row.name) or "").split(", "))
        return [
            "background-color: #fde2d8; font-weight: 700" if raw in picked else ""
            for raw in ("series", "publishes", *candidates)
        ]

    st.dataframe(
        shown.style.apply(mark, axis=1).format(
            {data.model_label(c): data.format_currency for c in candidates}, na_rep="—"
        ),
        hide_index=True,
        column_config={
            "series": st.column_config.TextColumn("Series"),
            "publishes": st.column_config.TextColumn(
                "Publishes", help="`sales_forecast.method` of the series."
            ),
        },
    )
    fallback = gate is not None and gate.fallback
    st.caption(
        "Backtest MAE per day of each candidate over every backtest fold, the warm-up fold "
        "included: the folds the choice is made on (the metrics below score folds 1 and later "
        "only). Highlighted: what the series publishes — of the choices (not the baselines, "
        "which are the gate's reference), the one with the lowest MAE, each fold's taken "
        "relative to that fold's best choice"
        + (", except now: the choice failed the quality gate and every series publishes the "
           "best baseline." if fallback else ".")
    )  # fmt: skip


def quality_tab(d: data.DashboardData, series: str) -> None:
    label = data.series_label(series)
    choice_table(d)

    st.subheader("Backtest: our forecast against the candidates and baselines")
    if T.BACKTEST in d.issues:
        note_issue(d.issues[T.BACKTEST], "Backtest metrics appear here once it exists.")
    elif d.backtest is None or d.backtest.empty:
        st.info(
            "The backtest table is empty: the history is too short for a backtest.",
            icon=":material/inbox:",
        )
    else:
        table = data.backtest_table(d.backtest)
        st.altair_chart(
            charts.mase_chart(
                table.assign(series=table["series_label"], model=table["model_label"])
            ),
            width="stretch",
        )
        st.caption(
            "MASE per series and model (lower is better); the dashed line at 1 is the error of a "
            'seasonal-naive forecast in sample. "published" is what the platform publishes: '
            "each series' candidate chosen on the folds before, scored honestly fold by fold. "
            "The table has every metric."
        )
        st.dataframe(
            table[["series_label", "model_label", "mae", "relative_mae", "mase", "rmse", "smape",
                   "bias", "coverage_80", "coverage_95", "folds"]].round(
                {"mae": 0, "rmse": 0, "bias": 0}),
            hide_index=True,
            column_config={
                "series_label": st.column_config.TextColumn("Series"),
                "model_label": st.column_config.TextColumn("Model"),
                "mae": money_column("MAE"),
                "relative_mae": st.column_config.NumberColumn(
                    f"MAE / {data.BASELINE_LABEL}", format="%.2f",
                    help="Below 1: better than the seasonal-naive baseline."),
                "mase": st.column_config.NumberColumn("MASE", format="%.3f"),
                "rmse": money_column("RMSE"),
                "smape": st.column_config.NumberColumn("sMAPE", format="%.2f"),
                "bias": money_column("Bias"),
                "coverage_80": st.column_config.NumberColumn("Inside 80%", format="percent"),
                "coverage_95": st.column_config.NumberColumn("Inside 95%", format="percent"),
                "folds": st.column_config.NumberColumn("Folds", format="%d"),
            },
        )  # fmt: skip

    st.subheader(f"Published forecasts vs what happened: {label}")
    if T.FORECAST_ACCURACY in d.issues:
        note_issue(d.issues[T.FORECAST_ACCURACY], "Scores of past forecasts appear here.")
    else:
        acc = data.accuracy_for(d.forecast_accuracy, series)
        summary = data.accuracy_summary(acc)
        if summary is None:
            st.info(
                "No published forecast of past days has been scored yet: scores appear once "
                "actuals have arrived for days that a published forecast covered.",
                icon=":material/inbox:",
            )
        else:
            m1, m2, m3 = st.columns(3)
            m1.metric("MAE of published forecasts", data.format_currency(summary["mae"]))
            m2.metric(
                "Inside 80% interval", data.format_pct(summary["coverage_80"] * 100, 0, False)
            )
            m3.metric(
                "Inside 95% interval", data.format_pct(summary["coverage_95"] * 100, 0, False)
            )
            mae_chart, coverage_chart = charts.accuracy_by_horizon_charts(acc)
            left, right = st.columns(2)
            with left:
                st.markdown("**Error by days ahead**")
                st.altair_chart(mae_chart, width="stretch")
            with right:
                st.markdown("**Share of actuals inside the intervals** (dashed: nominal)")
                st.altair_chart(coverage_chart, width="stretch")

    st.subheader(f"Backtest predictions vs actuals: {label}")
    if T.BACKTEST_PREDICTIONS in d.issues:
        note_issue(d.issues[T.BACKTEST_PREDICTIONS], "Backtest predictions appear here.")
        return
    preds = data.predictions_for(d.backtest_predictions, series, scored_only=True)
    if preds.empty:
        st.info(f"No backtest predictions for **{label}**.", icon=":material/inbox:")
        return
    available = sorted(preds["model"].unique(), key=data.model_sort_key)
    default = [m for m in (data.PUBLISHED, data.BASELINE) if m in available] or available[:1]
    models = st.multiselect(
        "Models", available, default=default, format_func=data.model_label, key="pred_models"
    )
    shown = preds[preds["model"].isin(models)].assign(
        model=lambda df: df["model"].map(data.model_label)
    )
    if shown.empty:
        st.info("Pick a model to draw its backtest predictions.", icon=":material/inbox:")
        return
    st.altair_chart(charts.backtest_predictions_chart(shown), width="stretch")
    st.caption("Each dashed segment is one scored backtest fold: forecasts made at the fold's "
               "origin without seeing the days they predict.")  # fmt: skip


def table_tab(d: data.DashboardData, series: str) -> None:
    if d.sales_forecast is None or d.sales_forecast.empty:
        st.info("No forecast published yet.", icon=":material/inbox:")
        return
    all_series = st.toggle("All series", value=False, key="table_all_series")
    export = data.forecast_export(d.sales_forecast)
    shown = export if all_series else export[export["series"] == series]
    shown = shown.drop(columns=["model_version", "run_id", "created_at"]).assign(
        method=lambda df: df["method"].map(data.model_label)
    )
    amounts = ("forecast", "lower_80", "upper_80", "lower_95", "upper_95")
    money = {c: money_column(c.replace("_", " ").capitalize()) for c in amounts}
    st.dataframe(
        shown.round(dict.fromkeys(amounts, 0)),
        hide_index=True,
        column_config={
            "date": st.column_config.DateColumn("Date", format="ddd MMM D, YYYY"),
            "series": st.column_config.TextColumn("Series"),
            "horizon": st.column_config.NumberColumn("Days ahead", format="%d"),
            **money,
            "method": st.column_config.TextColumn("Method"),
        },
    )
    run = data.freshness(None, d.sales_forecast).run_id or "forecast"
    st.download_button(
        "Download the forecast (all series) as CSV",
        data=data.forecast_csv(d.sales_forecast),
        file_name=f"sales_forecast_{run}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


# --------------------------------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="Sales forecast", page_icon=PAGE_ICON, layout="wide")
    st.title("Sales forecast", anchor=False)
    path = data.database_path()
    st.sidebar.caption(f"Database: `{path}`")
    try:
        currency = settings.currency_code()
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return

    version = data.data_version(path)
    if version is None:
        show_no_database(path)
        return
    try:
        d = load(str(path.resolve()), version)
    except storage.DatabaseNotFoundError:
        show_no_database(path)
        return
    except storage.DatabaseBusyError as exc:
        show_busy(path, exc)
        return
    except Exception as exc:  # a corrupt or foreign file: say so instead of a traceback
        show_read_error(path, exc)
        return

    if d.blocking_issues:
        show_table_issues(d.blocking_issues)
        return
    options = data.series_options(d.daily_sales, d.sales_forecast)
    bounds = data.history_bounds(d.daily_sales)
    if not options or bounds is None:
        st.info(
            "**No sales data yet.** The tables exist but `daily_sales` is empty. Run `make run` "
            "(or wait for the daily schedule) to load orders.",
            icon=":material/inbox:",
        )
        return

    fresh = data.freshness(d.daily_sales, d.sales_forecast)
    st.caption(
        "Daily revenue of the shop, the forecast of the coming weeks with its uncertainty, and "
        f"how accurate the model has been. All amounts in {currency}."
    )
    st.session_state["_new_forecast_poll"] = {}  # this run shows the latest data
    new_forecast_notice(str(path), version, data.forecast_stamp(d.sales_forecast))
    status_banners(d, fresh)

    # The sidebar comes first: the headline cards follow the series picked there.
    with st.sidebar:
        st.header("Explore")
        series = st.selectbox("Series", options, format_func=data.series_label, key="series")
        history_range = None
        if bounds[0] < bounds[1]:
            history_range = st.slider(
                "History shown",
                min_value=bounds[0],
                max_value=bounds[1],
                value=data.default_history_range(bounds),
                format="MMM D, YYYY",
                help=f"Defaults to the last {data.DEFAULT_HISTORY_DAYS} days.",
            )
        st.divider()
        st.caption(
            f"Forecast run `{fresh.run_id}` · model `{fresh.model_version}`"
            if fresh.run_id
            else "No forecast run yet."
        )
        st.caption(
            f"The page checks every {NEW_FORECAST_POLL_S} s whether a run published a new "
            "forecast and then offers to reload."
        )

    kpi_row(d, fresh, series)

    # Lazy tabs: only the open tab runs and renders (switching tabs reruns on the cached data), so
    # the first page shows the KPIs and the main chart without building the other tabs' charts.
    forecast, quality, table, product = st.tabs(TABS, key="view", on_change="rerun")
    if forecast.open:
        with forecast:
            forecast_tab(d, series, history_range)
    if quality.open:
        with quality:
            quality_tab(d, series)
    if table.open:
        with table:
            table_tab(d, series)
    if product.open:
        with product:
            try:
                products.product_view(str(path.resolve()), version)
            except storage.DatabaseBusyError as exc:  # a run began writing after the page loaded
                show_busy(path, exc)


if __name__ == "__main__":  # `streamlit run` (and AppTest) run this file as __main__
    main()
