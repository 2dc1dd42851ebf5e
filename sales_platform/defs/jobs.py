"""Jobs and the daily schedule."""

import json
import os

import dagster as dg

from sales_platform import settings, sources, tables
from sales_platform.defs.products import PRODUCTS_GROUP
from sales_platform.partitions import daily_partitions
from sales_platform.resources import ShopSettings

# Product assets are partitioned by category, and a job cannot mix those with daily partitions:
# they run in `product_forecast_job` (defs/products.py), after this one.
PRODUCT_ASSETS = dg.AssetSelection.groups(PRODUCTS_GROUP)

# The whole graph but the products. Its range of days is chosen when a run is requested, never
# fixed when the definitions load: a `dagster dev` left running for days would launch a stale one.
sales_forecast_job = dg.define_asset_job(
    "sales_forecast_job",
    selection=dg.AssetSelection.all() - PRODUCT_ASSETS,
    description=(
        "Materialize every asset but the products (product_forecast_job) over the full order "
        "history in one run: raw tables, daily sales, model, backtest, forecast. In the UI: "
        "this job's page, Materialize all, All partitions, Launch backfill (one run). CLI: "
        'dagster job execute -j sales_forecast_job --tags "$(python -m '
        'sales_platform.partitions)". Everything, products included: Assets, Materialize all.'
    ),
)

# One new day of orders and what depends on it. The backtest (refit per fold) is left to the main
# job, so the daily run stays short; the forecast keeps using the latest stored backtest.
daily_sales_job = dg.define_asset_job(
    "daily_sales_job",
    selection=(
        dg.AssetSelection.assets(tables.ORDERS, tables.ORDERS_REJECTED).downstream()
        # The catalog too: a file source's new day may bring a new product.
        | dg.AssetSelection.assets(tables.PRODUCTS, tables.CUSTOMERS)
        # And the promotion plan, which the shop may have changed since.
        | dg.AssetSelection.assets(tables.PROMOTIONS)
    )
    - dg.AssetSelection.assets(tables.BACKTEST, tables.BACKTEST_PREDICTIONS)
    - PRODUCT_ASSETS,
    description="Add yesterday's orders and refresh daily sales, features, model and forecast.",
)


# Daily partitions are UTC days: at 02:00 UTC (or SALES_SCHEDULE_CRON, read when the definitions
# load) the schedule runs the newest partition at its tick: yesterday's. Dagster's partitioned
# schedule does the same but takes no cron for a time-partitioned job.
@dg.schedule(
    name="daily_sales_schedule",
    job=daily_sales_job,
    cron_schedule=os.environ.get(settings.SCHEDULE_CRON_ENV) or settings.DEFAULT_SCHEDULE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 02:00 UTC: materialize yesterday's orders partition and downstream.",
)
def daily_sales_schedule(context: dg.ScheduleEvaluationContext):
    with dg.partition_loading_context(effective_dt=context.scheduled_execution_time):
        day = daily_partitions.get_last_partition_key()
    if day is None:
        return dg.SkipReason("the order history has no day yet")
    # As Dagster's partitioned schedule: the run key keeps a retried tick from running the day
    # twice (a cron firing more often than daily runs the newest day at every tick).
    return dg.RunRequest(partition_key=day, run_key=day, tags={"dagster/partition": day})


@dg.sensor(
    job=daily_sales_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="File source: loads a day again when its daily file appears or changes.",
)
def orders_files_sensor(context: dg.SensorEvaluationContext, shop: ShopSettings):
    if shop.is_synthetic():
        return dg.SkipReason("SALES_SOURCE is synthetic: there are no files to watch")
    known_days = set(daily_partitions.get_partition_keys())
    seen = json.loads(context.cursor) if context.cursor else None
    current = {
        day.isoformat(): sources.source_cursor(shop.source_path, day=day)
        for day in sources.list_source_days(shop.source_path)
        if day.isoformat() in known_days
    }
    if not seen:
        # Nothing seen yet: the main job loads the history; only the newest day may be new.
        seen = {day: version for day, version in current.items() if day != max(current, default="")}
    changed = sorted(day for day, version in current.items() if seen.get(day) != version)
    context.update_cursor(json.dumps(current))
    return [dg.RunRequest(partition_key=day, run_key=f"{day}:{current[day]}") for day in changed]


defs = dg.Definitions(
    jobs=[sales_forecast_job, daily_sales_job],
    schedules=[daily_sales_schedule],
    sensors=[orders_files_sensor],
)
