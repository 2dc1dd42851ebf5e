"""Jobs and the daily schedule."""

import dagster as dg

from sales_platform import tables
from sales_platform.defs.partitions import daily_partitions, full_history_tags

# The whole graph; its run covers every day of history in one single-run backfill.
sales_forecast_job = dg.define_asset_job(
    "sales_forecast_job",
    selection=dg.AssetSelection.all(),
    tags=full_history_tags(),
    description="Materialize every asset: the full order history, the model, backtest, forecast.",
)

# One new day of orders and what depends on it. The backtest (refit per fold) is left to the main
# job, so the daily run stays short; the forecast keeps using the latest stored backtest.
daily_sales_job = dg.define_asset_job(
    "daily_sales_job",
    selection=dg.AssetSelection.assets(tables.ORDERS).downstream()
    - dg.AssetSelection.assets(tables.BACKTEST, tables.BACKTEST_PREDICTIONS),
    partitions_def=daily_partitions,
    description="Add yesterday's orders and refresh daily sales, features, model and forecast.",
)


# Daily partitions are UTC days: at 02:00 UTC the schedule runs yesterday's partition.
daily_sales_schedule = dg.build_schedule_from_partitioned_job(
    daily_sales_job,
    name="daily_sales_schedule",
    hour_of_day=2,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 02:00 UTC: materialize yesterday's orders partition and downstream.",
)


defs = dg.Definitions(jobs=[sales_forecast_job, daily_sales_job], schedules=[daily_sales_schedule])
