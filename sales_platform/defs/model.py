"""The trained model and its rolling-origin backtest against baselines and the oracle."""

import dagster as dg
import pandas as pd

from sales_platform import forecasting, tables
from sales_platform.asset_metadata import OWNERS, figure_markdown, markdown_table, table_metadata
from sales_platform.plots import backtest_figure
from sales_platform.resources import ForecastSettings, ShopSettings
from sales_platform.storage import DUCKDB_POOL

MODEL = "model"
# What fits the UI's metadata panel: the total's accuracy and interval coverage per model, best
# first (every column and series is in metrics_all and the table).
OVERVIEW_COLUMNS = ["model", "mae", "mase", "smape", "coverage_80", "coverage_95"]


def backtest_overview(metrics: pd.DataFrame) -> pd.DataFrame:
    total = metrics[metrics["series"] == tables.TOTAL_SERIES]
    return total[OVERVIEW_COLUMNS].sort_values("mase", na_position="last")


@dg.asset(
    group_name=MODEL,
    owners=OWNERS,
    kinds={"scikitlearn", "duckdb"},
    pool=DUCKDB_POOL,
    code_version=forecasting.MODEL_VERSION,
    description=(
        "One global RandomForest over the total and every category (the shop's promotions and "
        "its country's calendar as features), with what it needs to forecast (feature list, "
        "training window, code version); stored in DuckDB via skops."
    ),
)
def sales_model(
    context: dg.AssetExecutionContext,
    sales_features: pd.DataFrame,
    promotions: pd.DataFrame,
    shop: ShopSettings,
) -> forecasting.FittedForecaster:
    model = forecasting.fit_forecaster(sales_features, shop.forecast_config(), promotions)
    info = model.metadata()
    importances = pd.DataFrame(
        list(info["feature_importances"].items()), columns=["feature", "importance"]
    )
    context.add_output_metadata(
        {
            "model_version": info["model_version"],
            "params": dg.MetadataValue.json(info["params"]),
            "features": dg.MetadataValue.json(info["features"]),
            "feature_importances": dg.MetadataValue.md(markdown_table(importances, ",.4f")),
            "training_rows": info["training_rows"],
            "training_window": f"{info['training_window_start']} .. {info['training_window_end']}",
            "fit_seconds": info["fit_seconds"],
        }
    )
    return model


@dg.multi_asset(
    group_name=MODEL,
    pool=DUCKDB_POOL,
    outs={
        tables.BACKTEST: dg.AssetOut(
            kinds={"scikitlearn", "duckdb"},
            owners=OWNERS,
            description=(
                "Rolling-origin backtest, refit per fold: MAE, RMSE, sMAPE, MASE, bias, interval "
                "coverage and width per series of every candidate (forest, AutoETS, level x "
                "weekday profile, the same x a yearly index, SeasonalNaive(7), a moving average), "
                "of the published per-series choice (made on earlier folds only) and (synthetic "
                "data) the oracle."
            ),
        ),
        tables.BACKTEST_PREDICTIONS: dg.AssetOut(
            kinds={"duckdb"},
            owners=OWNERS,
            description="Every fold's out-of-sample forecasts; intervals are calibrated on them.",
        ),
    },
    code_version=forecasting.MODEL_VERSION,
)
def backtest(
    context: dg.AssetExecutionContext,
    daily_sales: pd.DataFrame,
    expected_demand: pd.DataFrame,
    promotions: pd.DataFrame,
    forecast_settings: ForecastSettings,
    shop: ShopSettings,
):
    try:
        result = forecasting.run_backtest(
            daily_sales,
            shop.forecast_config(),
            promotions=promotions,
            expected_demand=expected_demand if len(expected_demand) else None,
            horizon=forecast_settings.horizon,
        )
    except forecasting.NotEnoughHistory as short:
        # Stored empty, so the forecast publishes the seasonal naive and says why.
        context.log.warning(str(short))
        for name in (tables.BACKTEST, tables.BACKTEST_PREDICTIONS):
            empty = pd.DataFrame({c: [] for c in tables.COLUMNS[name]})
            yield dg.Output(empty, output_name=name, metadata={"not_backtested": str(short)})
        return
    passed, reason = forecasting.gate_passes(result.metrics)
    overview = backtest_overview(result.metrics)
    choice = forecasting.selection_table(result.predictions, sorted(daily_sales["series"].unique()))
    yield dg.Output(
        result.metrics,
        output_name=tables.BACKTEST,
        metadata={
            # No preview: metrics_all shows every row.
            **table_metadata(result.metrics, preview_rows=0),
            "metrics_total": dg.MetadataValue.md(markdown_table(overview, ",.3f")),
            "metrics_all": dg.MetadataValue.md(markdown_table(result.metrics, ",.3f")),
            "method_per_series": dg.MetadataValue.md(markdown_table(choice, ",.1f")),
            "gate_passed": passed,
            "gate": reason,
            "plot": figure_markdown(backtest_figure(result.predictions), "backtest"),
        },
    )
    yield dg.Output(
        result.predictions,
        output_name=tables.BACKTEST_PREDICTIONS,
        metadata=table_metadata(result.predictions),
    )


defs = dg.Definitions(assets=[sales_model, backtest])
