"""Altair charts of the dashboard: plain functions from DataFrames to charts (no Streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sales_platform import settings

ACTUAL, FORECAST, BAND_80, BAND_95 = "Actual", "Forecast", "80% interval", "95% interval"
COLORS = {
    ACTUAL: "#1f3b57",
    FORECAST: "#e4572e",
    BAND_80: "#f6b49f",
    BAND_95: "#fbe3da",
}
MODEL_COLORS = ["#e4572e", "#1f77b4", "#7f7f7f", "#9467bd", "#2ca02c", "#8c564b"]
CURRENCY = "$,.0f"
"""d3's currency format: the sign is that of the chart's locale (:func:`in_currency`)."""
_HOVER_FIELDS = ["actual", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]


def in_currency(chart):
    """``chart`` with its amounts signed in the shop's currency ($SALES_CURRENCY)."""
    number = alt.NumberLocale(
        decimal=".", thousands=",", grouping=[3], currency=[settings.currency_sign(), ""]
    )
    return chart.configure(locale=alt.Locale(number=number))


def _color(label: str) -> alt.Color:
    """One legend entry per layer (a constant ``kind`` field), all sharing one explicit scale."""
    return alt.Color(
        "kind:N",
        scale=alt.Scale(domain=list(COLORS), range=list(COLORS.values())),
        legend=alt.Legend(title=None, orient="top", direction="horizontal"),
    )


def _kind(chart: alt.Chart, label: str) -> alt.Chart:
    return chart.transform_calculate(kind=alt.expr.toString(label)).encode(color=_color(label))


def forecast_frame(
    history: pd.DataFrame, forecast: pd.DataFrame, measure: str = "revenue"
) -> pd.DataFrame:
    """One row per date: ``actual`` (history's ``measure``), ``forecast`` and bounds."""
    hist = history[["date", measure]].rename(columns={measure: "actual"})
    cols = ["date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    fc = forecast[cols] if len(forecast) else pd.DataFrame(columns=cols)
    if hist.empty:
        frame = fc.assign(actual=float("nan"))
    elif fc.empty:
        frame = hist.assign(**{c: float("nan") for c in cols[1:]})
    else:
        frame = hist.merge(fc, on="date", how="outer")
    frame = frame[["date", *_HOVER_FIELDS]].sort_values("date").reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.astype({c: "float64" for c in _HOVER_FIELDS})


def forecast_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    measure: str = "revenue",
    y_title: str = "Revenue per day",
    number_format: str = CURRENCY,
    height: int = 420,
) -> alt.LayerChart:
    """History and forecast with shaded 80 %/95 % bands, hover tooltip, zoom/pan on the x axis.

    ``measure``: the history's column drawn as the actual (revenue, or a product's units).
    """
    frame = forecast_frame(history, forecast, measure)
    base = alt.Chart(frame).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %d, %Y", labelAngle=0))
    )
    band95 = _kind(
        base.mark_area(opacity=1.0).encode(
            y=alt.Y(
                "lower_95:Q",
                title=y_title,
                axis=alt.Axis(format=number_format),
                scale=alt.Scale(zero=False, nice=True),
            ),
            y2="upper_95:Q",
        ),
        BAND_95,
    )
    band80 = _kind(base.mark_area(opacity=1.0).encode(y="lower_80:Q", y2="upper_80:Q"), BAND_80)
    actual = _kind(base.mark_line(strokeWidth=1.8).encode(y="actual:Q"), ACTUAL)
    point_forecast = _kind(
        base.mark_line(strokeWidth=2.2, strokeDash=[6, 3]).encode(y="forecast:Q"), FORECAST
    )
    hover = alt.selection_point(
        name="hover",
        fields=["date"],
        nearest=True,
        on="pointerover",
        empty=False,
        clear="pointerout",
    )
    zoom = alt.selection_interval(name="zoom", bind="scales", encodings=["x"])
    tooltip = [
        alt.Tooltip("date:T", title="Date", format="%a %b %d, %Y"),
        alt.Tooltip("actual:Q", title="Actual", format=number_format),
        alt.Tooltip("forecast:Q", title="Forecast", format=number_format),
        alt.Tooltip("lower_80:Q", title="80% low", format=number_format),
        alt.Tooltip("upper_80:Q", title="80% high", format=number_format),
        alt.Tooltip("lower_95:Q", title="95% low", format=number_format),
        alt.Tooltip("upper_95:Q", title="95% high", format=number_format),
    ]
    rule = (
        base.mark_rule(color="#888888", strokeWidth=1)
        .encode(
            opacity=alt.condition(hover, alt.value(0.8), alt.value(0.0)),
            tooltip=tooltip,
        )
        .add_params(hover, zoom)
    )
    layers = [band95, band80, actual, point_forecast]
    if len(history) and len(forecast):
        start = pd.DataFrame(
            {"date": [pd.to_datetime(forecast["date"]).min()], "label": ["forecast"]}
        )
        layers.append(
            alt.Chart(start).mark_rule(color="#999999", strokeDash=[2, 2]).encode(x="date:T")
        )
    layers.append(rule)
    return in_currency(alt.layer(*layers).properties(height=height)).configure_view(strokeWidth=0)


def mase_chart(backtest: pd.DataFrame, *, height: int | None = None) -> alt.Chart:
    """MASE per series and model (grouped bars; < 1 beats the in-sample seasonal naive)."""
    df = backtest.dropna(subset=["mase"])
    series_order = list(dict.fromkeys(df["series"]))
    models = list(dict.fromkeys(df["model"]))
    bars = (
        alt.Chart(df)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("series:N", title=None, sort=series_order, axis=alt.Axis(labelLimit=220)),
            yOffset=alt.YOffset("model:N", sort=models),
            x=alt.X("mase:Q", title="MASE (lower is better)"),
            color=alt.Color(
                "model:N",
                title=None,
                sort=models,
                scale=alt.Scale(domain=models, range=MODEL_COLORS[: len(models)]),
                legend=alt.Legend(orient="top", direction="horizontal", labelLimit=260),
            ),
            tooltip=[
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("mase:Q", title="MASE", format=".3f"),
                alt.Tooltip("mae:Q", title="MAE", format=CURRENCY),
                alt.Tooltip("relative_mae:Q", title="MAE vs baseline", format=".2f"),
            ],
        )
    )
    one = (
        alt.Chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(color="#555555", strokeDash=[4, 3])
        .encode(x="x:Q")
    )
    rows = max(1, len(series_order))
    return in_currency(
        alt.layer(bars, one).properties(height=height or min(640, 28 * rows * len(models) + 40))
    )


def accuracy_by_horizon_charts(
    acc: pd.DataFrame, *, height: int = 260
) -> tuple[alt.Chart, alt.LayerChart]:
    """MAE by horizon; and the intervals' coverage next to their nominal 80 %/95 %."""
    mae = (
        alt.Chart(acc)
        .mark_line(point=alt.OverlayMarkDef(color=COLORS[FORECAST]), color=COLORS[FORECAST])
        .encode(
            x=alt.X("horizon:Q", title="Days ahead"),
            y=alt.Y("mae:Q", title="MAE", axis=alt.Axis(format=CURRENCY)),
            tooltip=[
                alt.Tooltip("horizon:Q", title="Days ahead"),
                alt.Tooltip("mae:Q", title="MAE", format=CURRENCY),
                alt.Tooltip("forecasts:Q", title="Forecasts scored"),
            ],
        )
        .properties(height=height)
    )
    cov = acc.melt(
        id_vars=["horizon"], value_vars=["coverage_80", "coverage_95"], var_name="interval"
    )
    cov["interval"] = cov["interval"].map(
        {"coverage_80": "80% interval", "coverage_95": "95% interval"}
    )
    domain = ["80% interval", "95% interval"]
    colors = ["#e4572e", "#f3a683"]
    lines = (
        alt.Chart(cov)
        .mark_line(point=True)
        .encode(
            x=alt.X("horizon:Q", title="Days ahead"),
            y=alt.Y("value:Q", title="Share of actuals inside", axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("interval:N", title=None, scale=alt.Scale(domain=domain, range=colors),
                            legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("horizon:Q", title="Days ahead"),
                alt.Tooltip("interval:N", title="Interval"),
                alt.Tooltip("value:Q", title="Coverage", format=".0%"),
            ],
        )
    )  # fmt: skip
    nominal = (
        alt.Chart(pd.DataFrame({"interval": domain, "value": [0.8, 0.95]}))
        .mark_rule(strokeDash=[4, 3])
        .encode(
            y="value:Q", color=alt.Color("interval:N", scale=alt.Scale(domain=domain, range=colors))
        )
    )
    return in_currency(mae), alt.layer(lines, nominal).properties(height=height)


def backtest_predictions_chart(
    predictions: pd.DataFrame, *, models: list[str] | None = None, height: int = 300
) -> alt.LayerChart:
    """Out-of-sample backtest forecasts of each fold against what actually happened."""
    df = predictions if models is None else predictions[predictions["model"].isin(models)]
    actual = (
        df.drop_duplicates("date")[["date", "actual"]]
        .sort_values("date")
        .rename(columns={"actual": "value"})
    )
    fc = df[["date", "model", "fold", "forecast"]].rename(columns={"forecast": "value"})
    model_names = list(dict.fromkeys(fc["model"]))
    domain = ["actual", *model_names]
    colors = [COLORS[ACTUAL], *MODEL_COLORS[: len(model_names)]]
    scale = alt.Scale(domain=domain, range=colors)
    x = alt.X("date:T", title=None)
    y = alt.Y("value:Q", title="Revenue per day", axis=alt.Axis(format=CURRENCY))
    actual_line = (
        alt.Chart(actual.assign(model="actual"))
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "model:N",
                scale=scale,
                title=None,
                legend=alt.Legend(orient="top", labelLimit=260),
            ),
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("value:Q", title="Actual", format=CURRENCY),
            ],
        )
    )
    fc_lines = (
        alt.Chart(fc)
        .mark_line(strokeWidth=1.5, strokeDash=[5, 3])
        .encode(
            x=x, y=y,
            color=alt.Color("model:N", scale=scale),
            detail="fold:N",
            tooltip=[alt.Tooltip("date:T"), alt.Tooltip("model:N"), alt.Tooltip("fold:N"),
                     alt.Tooltip("value:Q", title="Forecast", format=CURRENCY)],
        )
    )  # fmt: skip
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    return in_currency(alt.layer(actual_line, fc_lines.add_params(zoom)).properties(height=height))
