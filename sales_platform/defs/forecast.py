"""The published forecast, the history of every published forecast, and how accurate they were."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from sales_platform import forecasting, tables
from sales_platform.asset_metadata import OWNERS, figure_markdown, table_metadata
from sales_platform.plots import forecast_figure
from sales_platform.resources import ForecastSettings
from sales_platform.storage import DEFAULT_SCHEMA, DUCKDB_POOL, table_columns

FORECAST = "forecast"


@dg.asset(
    group_name=FORECAST,
    owners=OWNERS,
    kinds={"scikitlearn", "duckdb"},
    pool=DUCKDB_POOL,
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=48), warn_window=timedelta(hours=26)
    ),
    description=(
        "Forecast per day and series with 80%/95% intervals calibrated on backtest residuals; "
        "each series publishes the candidate its backtest chose (`method`). Falls back to the "
        "best baseline when that choice fails the quality gate or the history is too short."
    ),
)
def sales_forecast(
    context: dg.AssetExecutionContext,
    sales_model: forecasting.FittedForecaster,
    daily_sales: pd.DataFrame,
    backtest: pd.DataFrame,
    backtest_predictions: pd.DataFrame,
    promotions: pd.DataFrame,
    forecast_settings: ForecastSettings,
) -> pd.DataFrame:
    df, passed, gate_reason = forecasting.forecast_to_publish(
        sales_model,
        daily_sales,
        backtest,
        backtest_predictions,
        forecast_settings.horizon,
        promotions,
    )
    if not passed:
        context.log.warning(gate_reason)
    df["date"] = pd.to_datetime(df["date"])
    df["model_version"] = sales_model.metadata()["model_version"]
    df["run_id"] = context.run.run_id
    # Timezone-naive UTC, as every timestamp in the database.
    df["created_at"] = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    df = df[list(tables.COLUMNS[tables.SALES_FORECAST])]
    total = df[df["series"] == tables.TOTAL_SERIES]
    context.add_output_metadata(
        {
            **table_metadata(df),
            "method": dg.MetadataValue.json(
                df.groupby("series")["method"].first().to_dict() if len(df) else {}
            ),
            "gate": gate_reason,
            "forecast_total_revenue": round(float(total["forecast"].sum()), 2),
            "first_day": str(total["date"].min().date()) if len(total) else "",
            "plot": figure_markdown(forecast_figure(daily_sales, df), "forecast"),
        }
    )
    return df


@dg.asset(
    group_name=FORECAST,
    owners=OWNERS,
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    description=(
        "Every published forecast, with its run id and creation time; a re-run for the same "
        "origin replaces that origin's forecast."
    ),
)
def forecast_history(
    context: dg.AssetExecutionContext, sales_forecast: pd.DataFrame, duckdb: DuckDBResource
) -> pd.DataFrame:
    with duckdb.get_connection() as conn:
        stored = table_columns(conn, DEFAULT_SCHEMA, tables.FORECAST_HISTORY) is not None
        earlier = (
            conn.execute(f"SELECT * FROM {DEFAULT_SCHEMA}.{tables.FORECAST_HISTORY}").df()
            if stored
            else None
        )
    df = sales_forecast
    if earlier is not None and len(earlier):
        earlier["date"] = pd.to_datetime(earlier["date"])
        if "origin" not in earlier:  # a history stored before each forecast kept its origin
            earlier["origin"] = earlier["date"] - pd.to_timedelta(earlier["horizon"], unit="D")
        origin = pd.Timestamp(sales_forecast["origin"].iloc[0])
        kept = earlier[pd.to_datetime(earlier["origin"]) != origin]
        df = pd.concat([kept, sales_forecast], ignore_index=True)
    df = df[list(tables.COLUMNS[tables.FORECAST_HISTORY])]
    context.add_output_metadata(
        {**table_metadata(df), "published_forecasts": int(df["run_id"].nunique())}
    )
    return df


@dg.asset(
    group_name=FORECAST,
    owners=OWNERS,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description=(
        "Published forecasts of past days scored against the actuals that arrived since, per "
        "series and horizon: how accurate were we?"
    ),
)
def forecast_accuracy(
    context: dg.AssetExecutionContext, forecast_history: pd.DataFrame, daily_sales: pd.DataFrame
) -> pd.DataFrame:
    df = forecasting.score_forecasts(forecast_history, daily_sales)
    context.add_output_metadata(
        {
            **table_metadata(df),
            "scored_forecast_days": int(df["forecasts"].sum()) if len(df) else 0,
            **first_score_note(df, forecast_history),
        }
    )
    return df


def first_score_note(accuracy: pd.DataFrame, forecast_history: pd.DataFrame) -> dict[str, str]:
    """While nothing is scored: when the first score appears (the first forecast day's actuals
    arrive with the daily run of the day after it)."""
    if len(accuracy):
        return {}
    if forecast_history.empty:
        return {"first_score": "after the first published forecast's first day has passed"}
    first_day = pd.to_datetime(forecast_history["date"]).min().date()
    return {
        "first_score": (
            f"{first_day + timedelta(days=1)}: the first forecast day ({first_day}) is scored "
            "once its orders are loaded, by the daily schedule's run the day after (or a run "
            "of the main job)"
        )
    }


defs = dg.Definitions(assets=[sales_forecast, forecast_history, forecast_accuracy])
