"""Asset checks that guard each layer.

Checks on the inputs (orders, daily sales) are blocking: when one fails, nothing downstream runs, so
no forecast is published on bad data. The quality gate on the backtest is not blocking: the forecast
then falls back to the best baseline and says so.
"""

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from sales_platform import forecasting, tables
from sales_platform.asset_metadata import markdown_table
from sales_platform.forecasting.features import to_wide
from sales_platform.forecasting.model import predict_panel
from sales_platform.storage import DUCKDB_POOL
from sales_platform.tables import DAILY_SALES, ORDERS, SALES_FORECAST, TOTAL_SERIES

SAMPLE_ROWS = 5
LISTED_DAYS = 10
BAD_ROWS_COLUMN = "__bad_rows"

# Computed by the `orders` asset itself, which alone sees a day's lines before and after its load.
NO_DAY_EMPTIED = dg.AssetCheckSpec(
    "no_day_emptied",
    asset=ORDERS,
    blocking=True,
    description=(
        "No day that had order lines is left without any, unless the source says the day is "
        "empty (a dated file of that day with a header and no rows). A day that lost every line "
        "usually means its file went missing or was cut off; nothing downstream is refreshed."
    ),
)


def no_day_emptied_result(
    stored: pd.Series, loaded_dates: pd.Series, declared_empty: list
) -> dg.AssetCheckResult:
    """`stored`: lines per day before the load (indexed by day); `loaded_dates`: the order dates
    of the lines loaded; `declared_empty`: days the source says had no sales."""
    had_lines = set(pd.to_datetime(stored.index[stored > 0]).normalize())
    still_has = set(pd.to_datetime(loaded_dates).dt.normalize().unique())
    allowed = set(pd.to_datetime(pd.Series(declared_empty, dtype="datetime64[ns]")))
    emptied = sorted(had_lines - still_has - allowed)
    return dg.AssetCheckResult(
        check_name=NO_DAY_EMPTIED.name,
        passed=not emptied,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(emptied)} day(s) that had order lines have none now"
            if emptied
            else "every day that had order lines still has some"
        ),
        metadata={
            "days_emptied": len(emptied),
            "first_days_emptied": dg.MetadataValue.json(
                [str(d.date()) for d in emptied[:LISTED_DAYS]]
            ),
        },
    )


def sql_check(
    asset: str,
    name: str,
    description: str,
    bad_rows_sql: str,
    blocking: bool = True,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetChecksDefinition:
    """A check that passes when `bad_rows_sql` selects no rows; a sample of them otherwise."""

    @dg.asset_check(
        asset=asset, name=name, description=description, blocking=blocking, pool=DUCKDB_POOL
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        # One pass for the count and the sample: a LIMIT does not stop a GROUP BY's full scan, so
        # a second query would run the bad-rows query again (2 s over 10 million order lines).
        with duckdb.get_connection() as conn:
            sample = conn.execute(
                f"SELECT *, count(*) OVER () AS {BAD_ROWS_COLUMN} FROM ({bad_rows_sql}) "
                f"LIMIT {SAMPLE_ROWS}"
            ).df()
        bad_rows = int(sample.pop(BAD_ROWS_COLUMN).iloc[0]) if len(sample) else 0
        return dg.AssetCheckResult(
            passed=bad_rows == 0,
            severity=severity,
            metadata={"bad_rows": bad_rows, "sample": dg.MetadataValue.md(markdown_table(sample))},
        )

    return _check


input_checks = [
    sql_check(
        ORDERS,
        "order_lines_unique",
        "(order_id, line_number) identifies one order line.",
        f"SELECT order_id, line_number, count(*) AS copies FROM {ORDERS} "
        "GROUP BY ALL HAVING copies > 1",
    ),
    sql_check(
        ORDERS,
        "order_lines_complete",
        "No nulls in the columns every order line must have.",
        f"SELECT * FROM {ORDERS} WHERE order_id IS NULL OR line_number IS NULL "
        "OR order_date IS NULL OR product_id IS NULL OR quantity IS NULL "
        "OR unit_price IS NULL OR amount IS NULL",
    ),
    sql_check(
        ORDERS,
        "order_lines_non_negative",
        "Quantities are positive; prices and amounts are not negative.",
        f"SELECT * FROM {ORDERS} WHERE quantity <= 0 OR unit_price < 0 OR amount < 0",
    ),
    sql_check(
        ORDERS,
        "order_days_without_sales",
        "Every day from the first to the last order has order lines. A day without any usually "
        "means a partition or a file was not loaded; a shop closed that day is possible, so this "
        "warns instead of blocking.",
        f"SELECT CAST(day AS DATE) AS day FROM (SELECT unnest(generate_series("
        f"min(order_date), max(order_date), INTERVAL 1 DAY)) AS day FROM {ORDERS}) "
        f"WHERE CAST(day AS DATE) NOT IN (SELECT DISTINCT CAST(order_date AS DATE) FROM {ORDERS})",
        blocking=False,
        severity=dg.AssetCheckSeverity.WARN,
    ),
    sql_check(
        DAILY_SALES,
        "daily_sales_non_negative",
        "Revenue, units and orders are never negative.",
        f"SELECT * FROM {DAILY_SALES} WHERE revenue < 0 OR units < 0 OR orders < 0",
    ),
]

forecast_checks = [
    sql_check(
        SALES_FORECAST,
        "forecast_intervals_ordered",
        "lower_95 <= lower_80 <= forecast <= upper_80 <= upper_95 on every row.",
        f"SELECT * FROM {SALES_FORECAST} WHERE NOT coalesce(lower_95 <= lower_80 "
        "AND lower_80 <= forecast AND forecast <= upper_80 AND upper_80 <= upper_95, false)",
        blocking=False,
    ),
    sql_check(
        SALES_FORECAST,
        "forecast_categories_sum_to_total",
        "The categories' point forecasts add up to the total's on every day.",
        f"SELECT date, sum(forecast) FILTER (series <> '{TOTAL_SERIES}') AS categories, "
        f"sum(forecast) FILTER (series = '{TOTAL_SERIES}') AS total FROM {SALES_FORECAST} "
        "GROUP BY date "
        "HAVING categories IS NOT NULL "  # a shop without categories forecasts the total only
        "AND NOT coalesce(abs(categories - total) <= 1e-6 * greatest(abs(total), 1), false)",
        blocking=False,
    ),
    sql_check(
        SALES_FORECAST,
        "forecast_covers_every_series",
        "Every series is forecast for the same days as the total.",
        f"SELECT series, count(*) AS days FROM {SALES_FORECAST} GROUP BY series "
        f"HAVING days <> (SELECT count(*) FROM {SALES_FORECAST} WHERE series = '{TOTAL_SERIES}')",
        blocking=False,
    ),
]


@dg.asset_check(
    asset=tables.BACKTEST,
    description="Quality gate: the model's backtest MASE beats SeasonalNaive(7).",
    pool=DUCKDB_POOL,
)
def model_beats_seasonal_naive(backtest: pd.DataFrame) -> dg.AssetCheckResult:
    passed, reason = forecasting.gate_passes(backtest)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=reason,
        metadata={"reason": reason},
    )


@dg.asset_check(
    asset=tables.SALES_MODEL,
    additional_ins={
        "daily_sales": dg.AssetIn(tables.DAILY_SALES),
        "promotions": dg.AssetIn(tables.PROMOTIONS),
    },
    description=(
        "The stored model loads back (skops, SHA-256 verified) and forecasts finite, "
        "non-negative values for every series from the stored daily sales."
    ),
    pool=DUCKDB_POOL,
)
def sales_model_predicts(
    sales_model: forecasting.FittedForecaster, daily_sales: pd.DataFrame, promotions: pd.DataFrame
) -> dg.AssetCheckResult:
    panel = to_wide(daily_sales, series=sales_model.series)
    values = predict_panel(sales_model, panel, horizon=7, promotions=promotions)  # a week ahead
    finite = np.isfinite(values)
    bad = int((~finite).sum() + (values[finite] < 0).sum())
    return dg.AssetCheckResult(
        passed=bad == 0 and values.size > 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "predicted_values": int(values.size),
            "bad_values": bad,
            "series": dg.MetadataValue.json(list(sales_model.series)),
        },
    )


@dg.asset_check(
    asset=tables.FORECAST_ACCURACY,
    additional_ins={"forecast_history": dg.AssetIn(tables.FORECAST_HISTORY)},
    description=(
        "Every score is of published forecasts: each series and horizon scored is in "
        "forecast_history, with at least as many forecast days as were scored."
    ),
    pool=DUCKDB_POOL,
)
def accuracy_scores_published_forecasts(
    forecast_accuracy: pd.DataFrame, forecast_history: pd.DataFrame
) -> dg.AssetCheckResult:
    published = forecast_history.groupby(["series", "horizon"]).size().rename("published")
    scored = forecast_accuracy.join(published, on=["series", "horizon"])
    unknown = scored[scored["published"].fillna(0) < scored["forecasts"]]
    return dg.AssetCheckResult(
        passed=unknown.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "scored_rows": len(scored),
            "rows_without_published_forecasts": len(unknown),
            "sample": dg.MetadataValue.md(markdown_table(unknown.head(SAMPLE_ROWS))),
        },
    )


defs = dg.Definitions(
    asset_checks=[
        *input_checks,
        *forecast_checks,
        model_beats_seasonal_naive,
        sales_model_predicts,
        accuracy_scores_published_forecasts,
    ]
)
