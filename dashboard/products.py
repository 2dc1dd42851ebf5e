"""The dashboard's product view: a buyer picks a product, sees its demand and what to order.

Streamlit only; the numbers come from :mod:`dashboard.data`, the chart from :mod:`dashboard.charts`.
The product tables are read when this view opens (not with the rest of the page), cached by the
database's version like the other tables.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data

UNITS_FORMAT = ",.1f"


@st.cache_data(show_spinner="Reading the product tables…", max_entries=4)
def load(path: str, version: str) -> data.ProductData:
    """Cached per (path, data version), as the app's ``load``."""
    return data.load_product_data(path)


@st.cache_data(max_entries=64)
def product_history(path: str, version: str, product_id: str) -> pd.DataFrame:
    """Cached per (path, data version, product)."""
    return data.read_product_history(path, product_id)


def show_missing_tables(issues: list[data.TableIssue]) -> None:
    lines = "\n".join(f"- {issue.message()}" for issue in issues)
    st.info(
        f"**No product forecasts in this database yet.**\n\n{lines}\n\n"
        "`make run` builds them (its second job, `product_forecast_job`, runs after the sales "
        "forecast); on an existing database, run just that job: `dagster job execute -m "
        "sales_platform.definitions -j product_forecast_job`.",
        icon=":material/inventory_2:",
    )


def product_view(path: str, version: str) -> None:
    products = load(path, version)
    if products.blocking_issues:
        show_missing_tables(products.blocking_issues)
        return
    stored = data.replenishment_settings(products.replenishment)
    if stored is None:
        st.info(
            "No product is forecast: `replenishment` has no rows (no product sold in the last "
            "90 days).",
            icon=":material/inbox:",
        )
        return

    st.subheader("Product demand and what to order")
    pick, level = st.columns([3, 2])
    with level:
        service_level = st.select_slider(
            "Service level",
            options=data.service_level_options(stored.service_level),
            value=stored.service_level,
            format_func=data.format_service_level,
            key="product_service_level",
            help="The probability that the order quantity covers the demand of the lead time. "
            f"The stored `replenishment` table is for "
            f"{data.format_service_level(stored.service_level)} (`SALES_SERVICE_LEVEL`).",
        )
        st.caption(
            f"Lead time **{stored.lead_time_days} days** (`SALES_LEAD_TIME_DAYS`). The spread "
            f"of demand was fitted on {stored.lead_time_days}-day windows of the backtest, so "
            "another lead time needs a new run of `product_forecast_job` with that setting."
        )
    table = data.product_table(products, service_level)
    labels = data.product_labels(table)
    with pick:
        product_id = st.selectbox(
            "Product",
            list(labels),
            format_func=labels.__getitem__,
            key="product",
            help="Type to search by id, name or category. Listed by forecast units, biggest first.",
        )
    row = table.set_index("product_id").loc[product_id]
    horizon = int(products.product_forecast["horizon"].max())
    product_cards(row, stored, horizon, products)
    history = product_history(path, version, product_id).tail(data.DEFAULT_HISTORY_DAYS)
    forecast = data.product_forecast_for(products.product_forecast, product_id)
    st.altair_chart(
        charts.forecast_chart(
            history,
            forecast,
            measure="units",
            y_title="Units per day",
            number_format=UNITS_FORMAT,
        ),
        width="stretch",
        key="product_chart",
    )
    st.caption(
        f"Solid: units sold (the last {data.DEFAULT_HISTORY_DAYS} days) · dashed: the forecast of "
        f"the next {horizon} days · shaded: 80% and 95% intervals of each day's units."
    )
    products_table(table, stored, horizon, service_level)


def product_cards(
    row: pd.Series, stored: data.ReplenishmentSettings, horizon: int, products: data.ProductData
) -> None:
    """The picked product's forecast, lead-time demand, order quantity and backtest error."""
    lead = stored.lead_time_days
    level = data.format_service_level(row["service_level"])
    c1, c2, c3, c4 = st.columns(4, border=True)
    c1.metric(
        f"Forecast units, next {horizon} days",
        data.format_number(row["forecast_units"], 1),
        help="Sum of the daily point forecasts of units.",
    )
    c2.metric(
        f"Expected demand over {lead} days",
        data.format_number(row["expected_demand"], 1),
        help=f"Sum of the forecast's first {lead} days (the lead time).",
    )
    c3.metric(
        f"Order quantity at {level}",
        f"{row['quantity']:,}",
        delta=f"safety stock {row['safety_stock']:,.1f}",
        delta_color="off",
        delta_arrow="off",
        help=f"The smallest number of units that covers the {lead}-day demand with probability "
        f"{level}: a quantile of the negative binomial of the lead-time sum, with the dispersion "
        "the backtest fitted for the product's demand class (not a sum of daily bounds). Stock "
        "on hand and open orders are yours to subtract.",
    )
    c4.metric(
        "Backtest MAE, units per day",
        data.format_number(row["backtest_mae"]),
        help="Mean absolute error in units per day of what the platform publishes for this "
        "product (its demand class's choice, made on earlier folds) over the backtest folds.",
    )
    method = f"Method `{row['method']}` (demand class {row['demand_class']})"
    if row["is_new"]:
        method += ": a new product, forecast as its share of the category, no backtest of its own"
    elif pd.notna(row["backtest_scaled_mae"]):
        method += (
            f" · scaled MAE {row['backtest_scaled_mae']:.2f} (below 1 beats the in-sample "
            "naive forecast)"
        )
    coverage = data.lead_time_coverage(products.product_backtest, row["category"])
    if coverage is not None:
        method += (
            f" · on the backtest, the {data.format_service_level(stored.service_level)} "
            f"quantity covered {coverage:.1%} of {row['category']}'s {lead}-day windows"
        )
    st.caption(method + ".")


def products_table(
    table: pd.DataFrame, stored: data.ReplenishmentSettings, horizon: int, service_level: float
) -> None:
    level = data.format_service_level(service_level)
    lead = stored.lead_time_days
    st.subheader("All products")
    st.dataframe(
        table,
        hide_index=True,
        column_order=[c for c in table.columns if c not in ("lead_time_days", "service_level")],
        column_config={
            "product_id": st.column_config.TextColumn("Product"),
            "name": st.column_config.TextColumn("Name"),
            "category": st.column_config.TextColumn("Category"),
            "forecast_units": st.column_config.NumberColumn(
                f"Forecast units, {horizon} days", format="%.1f"
            ),
            "expected_demand": st.column_config.NumberColumn(
                f"Demand over {lead} days", format="%.1f"
            ),
            "quantity": st.column_config.NumberColumn(f"Order quantity at {level}", format="%d"),
            "safety_stock": st.column_config.NumberColumn("Safety stock", format="%.1f"),
            "method": st.column_config.TextColumn("Method"),
            "demand_class": st.column_config.TextColumn("Demand class"),
            "is_new": st.column_config.CheckboxColumn("New"),
            "backtest_mae": st.column_config.NumberColumn("Backtest MAE / day", format="%.2f"),
            "backtest_scaled_mae": st.column_config.NumberColumn(
                "Backtest scaled MAE", format="%.2f", help="Below 1 beats the naive forecast."
            ),
        },
        key="product_table",
    )
    st.caption("Click a column header to sort; the table's toolbar searches.")
    st.download_button(
        "Download the product table as CSV",
        data=data.product_csv(table),
        file_name=f"replenishment_{lead}d_{service_level:g}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
