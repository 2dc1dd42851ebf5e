"""Matplotlib figures for asset metadata (rendered without pyplot, so no global state)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sales_platform import tables

HISTORY_DAYS_SHOWN = 120


def forecast_figure(daily_sales: pd.DataFrame, forecast: pd.DataFrame) -> Figure:
    """History of the total series with the forecast and its 80%/95% intervals."""
    history = daily_sales[daily_sales["series"] == tables.TOTAL_SERIES].tail(HISTORY_DAYS_SHOWN)
    ahead = forecast[forecast["series"] == tables.TOTAL_SERIES]
    figure = Figure(figsize=(9, 3.5))
    axes = figure.subplots()
    axes.plot(history["date"], history["revenue"], color="#1f77b4", label="actual revenue")
    axes.fill_between(ahead["date"], ahead["lower_95"], ahead["upper_95"], alpha=0.15, color="C1")
    axes.fill_between(ahead["date"], ahead["lower_80"], ahead["upper_80"], alpha=0.3, color="C1")
    axes.plot(ahead["date"], ahead["forecast"], color="C1", label="forecast (80%/95% bands)")
    axes.set_title("Total revenue per day: history and forecast")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def backtest_figure(predictions: pd.DataFrame) -> Figure:
    """Out-of-sample forecasts of each model against the actuals, total series, every fold."""
    total = predictions[predictions["series"] == tables.TOTAL_SERIES]
    figure = Figure(figsize=(9, 3.5))
    axes = figure.subplots()
    actual = total.drop_duplicates("date").sort_values("date")
    axes.plot(actual["date"], actual["actual"], color="black", linewidth=1.5, label="actual")
    for color, (model, rows) in enumerate(total.groupby("model")):
        for fold_number, (_, fold_rows) in enumerate(rows.groupby("fold")):
            label = model if fold_number == 0 else None
            axes.plot(fold_rows["date"], fold_rows["forecast"], color=f"C{color}", label=label)
    axes.set_title("Backtest: out-of-sample forecasts of the total series, every fold")
    axes.legend(loc="upper left", fontsize="small")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure
