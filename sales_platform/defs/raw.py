"""Raw layer: catalog, customers and order lines, from the synthetic shop or the user's files."""

from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import date, timedelta
from itertools import chain
from typing import Any

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from sales_platform import sources, synthetic, tables
from sales_platform.asset_metadata import OWNERS, markdown_table, table_metadata
from sales_platform.defs.checks import NO_DAY_EMPTIED, no_day_emptied_result
from sales_platform.partitions import HISTORY, daily_partitions
from sales_platform.resources import ShopSettings
from sales_platform.storage import DUCKDB_POOL, FrameStream

RAW = "raw"
REJECTED_COLUMNS = list(tables.COLUMNS[tables.ORDERS_REJECTED])


def shop_config(shop: ShopSettings) -> synthetic.ShopConfig:
    return synthetic.ShopConfig(
        seed=shop.seed, orders_per_day=shop.orders_per_day, n_products=shop.n_products
    )


def open_source_orders(
    shop: ShopSettings, first_day: date | None, last_day: date | None
) -> sources.OrdersStream:
    if not shop.source_path:
        raise ValueError("SALES_SOURCE=file needs SALES_SOURCE_PATH (a CSV/Parquet file or folder)")
    return sources.open_orders(
        shop.source_path,
        sources.ColumnMapping.from_config(shop.source_mapping or None),
        on_error=shop.on_error,
        start=first_day,
        end=last_day,
        max_rejected=shop.max_rejected,
    )


def shop_table(
    shop: ShopSettings,
    generate: Callable[[synthetic.ShopConfig], pd.DataFrame],
    derive: Callable[[sources.LoadResult], pd.DataFrame],
) -> pd.DataFrame:
    """A catalog table: the synthetic shop's, or derived from the user's orders in the history
    (read chunk by chunk: the lines are never held whole)."""
    if shop.is_synthetic():
        return generate(shop_config(shop))
    return derive(open_source_orders(shop, HISTORY.start, HISTORY.last_day()).summary())


@dg.asset(
    group_name=RAW,
    owners=OWNERS,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description="Product catalog: id, name, category, price, cost.",
)
def products(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    df = shop_table(shop, synthetic.generate_products, sources.derive_products)
    context.add_output_metadata(table_metadata(df))
    return df


@dg.asset(
    group_name=RAW,
    owners=OWNERS,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description="Customers: id, name, email, city, signup date.",
)
def customers(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    df = with_stored_dates(
        shop_table(shop, synthetic.generate_customers, sources.derive_customers), tables.CUSTOMERS
    )
    context.add_output_metadata(table_metadata(df))
    return df


def with_stored_dates(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """`df` with the columns `tables` declares DATE as dates, so that DuckDB stores DATE (a
    datetime64 column would be stored as TIMESTAMP)."""
    dates = [c for c, kind in tables.COLUMNS[table].items() if kind == "DATE" and c in df]
    return df.astype(dict.fromkeys(dates, "date32[pyarrow]"))


class OrdersTally:
    """Lines and revenue per day of the order lines written, counted as they stream by (a run
    over a long history never holds all its lines at once)."""

    def __init__(self) -> None:
        self.per_day = pd.DataFrame(columns=["lines", "revenue"], dtype=float)

    def counted(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            counts = frame.groupby("order_date")["amount"].agg(lines="size", revenue="sum")
            counts.index = pd.to_datetime(counts.index).rename("day")  # a day a row: cheap
            self.per_day = counts.add(self.per_day, fill_value=0) if len(self.per_day) else counts
            yield frame

    def day_series(self) -> pd.Series:
        return pd.Series(self.per_day.index, dtype="datetime64[ns]")

    def day_metadata(self, day: str) -> dict[str, Any]:
        """The lines and revenue of one day, for its own event. The revenue as text with
        thousands separators: the UI shows a number's metadata unformatted (7483284.96)."""
        lines, revenue = self.per_day.reindex([pd.Timestamp(day)], fill_value=0).iloc[0]
        return {"dagster/partition_row_count": int(lines), "revenue": f"{revenue:,.2f}"}


def write_orders(
    context: dg.AssetExecutionContext,
    frames: Iterator[pd.DataFrame],
    last_day_detail: Callable[[], dict[str, Any]],
) -> Generator[dg.Output, None, OrdersTally]:
    """The `orders` output: the lines streamed to the IO manager (staged frame by frame, then
    swapped in with one short transaction); returns their tally once they are all written.

    `last_day_detail` is called once the last frame is read (what a load knows only at its end),
    while the IO manager still writes: its entries reach the event of the run's last day."""
    first = next(frames)
    # The run's detail on the event of its last day only: a run over the whole history writes
    # one event per day, and each would repeat it.
    first_day, last_day = context.partition_keys[0], context.partition_keys[-1]
    preview = {
        "preview": dg.MetadataValue.md(markdown_table(first.head(10))),
        "first_day": first_day,
        "last_day": last_day,
    }
    tally = OrdersTally()

    def lines() -> Iterator[pd.DataFrame]:
        yield from tally.counted(chain([first], frames))
        for day in context.partition_keys:
            detail = {**preview, **last_day_detail()} if day == last_day else {}
            context.add_asset_metadata(
                {**tally.day_metadata(day), **detail}, asset_key=tables.ORDERS, partition_key=day
            )

    yield dg.Output(FrameStream(lines()), output_name=tables.ORDERS)
    return tally


def rejected_output(rejected: pd.DataFrame) -> dg.Output:
    return dg.Output(
        rejected, output_name=tables.ORDERS_REJECTED, metadata={"dagster/row_count": len(rejected)}
    )


def rejected_rows(loaded: sources.LoadResult, first_day: date, last_day: date) -> pd.DataFrame:
    """Rejected rows, each filed under the day of its file (else the first day loaded)."""
    rejected = loaded.rejected.copy()
    file_days = rejected["file"].map(lambda name: sources.day_from_name(str(name)) or first_day)
    rejected["partition_date"] = pd.to_datetime(file_days.clip(first_day, last_day))
    rejected["row"] = rejected["row"].astype("Int64")
    return with_stored_dates(rejected[REJECTED_COLUMNS], tables.ORDERS_REJECTED)


def outside_history(loaded: sources.LoadResult) -> dict[str, int | str]:
    """How many lines lie outside the history window, and their first and last order date."""
    days = loaded.out_of_range_days
    start, end = pd.Timestamp(HISTORY.start), pd.Timestamp(HISTORY.last_day())
    outside = days[(days.index < start) | (days.index > end)]
    if outside.empty:
        return {}
    return {
        "lines_outside_history": int(outside.sum()),
        "outside_history_first_day": str(outside.index.min().date()),
        "outside_history_last_day": str(outside.index.max().date()),
    }


def stored_lines_per_day(duckdb: DuckDBResource, first_day: date, last_day: date) -> pd.Series:
    """Order lines per day already stored in [first_day, last_day] (empty before the first load)."""
    with duckdb.get_connection() as conn:
        exists = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [tables.ORDERS],
        ).fetchone()[0]
        if not exists:
            return pd.Series(dtype="int64")
        counts = conn.execute(
            f"SELECT CAST(order_date AS DATE) AS day, count(*) AS n FROM {tables.ORDERS} "
            "WHERE CAST(order_date AS DATE) BETWEEN ? AND ? GROUP BY ALL",
            [first_day, last_day],
        ).df()
    return counts.set_index(pd.to_datetime(counts["day"]))["n"]


@dg.multi_asset(
    group_name=RAW,
    pool=DUCKDB_POOL,
    partitions_def=daily_partitions,
    # A backfill of the whole history is one vectorized run, not one run per day.
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[products, customers],
    check_specs=[NO_DAY_EMPTIED],
    outs={
        tables.ORDERS: dg.AssetOut(
            kinds={"python", "duckdb"},
            owners=OWNERS,
            metadata={"partition_expr": "order_date"},
            description="Order lines, one row each; a partition is one day of orders.",
        ),
        # Every run writes its slice, empty or not (the synthetic shop's always is): a partition
        # left unmaterialized would count as failed in a backfill of the whole graph.
        tables.ORDERS_REJECTED: dg.AssetOut(
            kinds={"duckdb"},
            owners=OWNERS,
            metadata={"partition_expr": "partition_date"},
            description=(
                "Rows of the user's files that failed validation (file, row, column, value, "
                "reason) under SALES_SOURCE_ON_ERROR=quarantine; empty for the synthetic shop."
            ),
        ),
    },
)
def orders(context: dg.AssetExecutionContext, shop: ShopSettings, duckdb: DuckDBResource):
    window = context.partition_time_window
    first_day = window.start.date()
    last_day = window.end.date() - timedelta(days=1)
    stored = stored_lines_per_day(duckdb, first_day, last_day)
    if shop.is_synthetic():
        frames = synthetic.orders_by_month(first_day, last_day, shop_config(shop))
        tally = yield from write_orders(context, frames, dict)
        yield rejected_output(pd.DataFrame(columns=REJECTED_COLUMNS))
        yield no_day_emptied_result(stored, tally.day_series(), declared_empty=[])
        return
    # A load that must be refused raises at the end of its stream: the IO manager then drops
    # what it staged, and the stored lines stay as they were.
    stream = open_source_orders(shop, first_day, last_day)

    def load_detail() -> dict[str, Any]:
        loaded = stream.result
        assert loaded is not None  # set once the stream is read
        outside = outside_history(loaded)
        if outside:
            context.log.warning(
                f"{outside['lines_outside_history']} order line(s) from "
                f"{outside['outside_history_first_day']} to {outside['outside_history_last_day']} "
                f"lie outside the history {HISTORY.start} .. {HISTORY.last_day()} and were not "
                "loaded; widen SALES_HISTORY_START/SALES_HISTORY_END (or unset them: a file "
                "source then covers its own first to last order date)"
            )
        return {
            **outside,
            "rejected_rows": len(loaded.rejected),
            "load": dg.MetadataValue.json(loaded.metadata()),
        }

    tally = yield from write_orders(context, stream.sales(), load_detail)
    loaded = stream.result
    assert loaded is not None
    yield rejected_output(rejected_rows(loaded, first_day, last_day))
    yield no_day_emptied_result(stored, tally.day_series(), loaded.empty_days)


@dg.asset(
    group_name=RAW,
    owners=OWNERS,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description=(
        "What the synthetic shop expected to sell per day and series: the best any forecast "
        "could do (the oracle). Empty for file sources."
    ),
)
def expected_demand(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    if shop.is_synthetic():
        df = synthetic.expected_demand(HISTORY.start, HISTORY.last_day(), shop_config(shop))
    else:
        df = pd.DataFrame({name: [] for name in tables.COLUMNS[tables.EXPECTED_DEMAND]})
    context.add_output_metadata(table_metadata(df))
    return df


defs = dg.Definitions(assets=[products, customers, orders, expected_demand])
