"""The shop's promotions: the only way the forecaster learns of them.

A real shop knows its promotion plan ahead, so the table reaches past the order history: the
synthetic shop publishes its plan up to a year after the last day of history; a file source reads
the user's CSV (``SALES_PROMOTIONS_PATH``), and without one publishes an empty table (a shop may run
no promotions).
"""

from datetime import timedelta

import dagster as dg
import pandas as pd
import pyarrow as pa

from sales_platform import synthetic, tables
from sales_platform.asset_metadata import OWNERS, table_metadata
from sales_platform.defs.raw import RAW, shop_config
from sales_platform.partitions import HISTORY
from sales_platform.resources import ShopSettings
from sales_platform.sources.promotions import empty_promotions, load_promotions
from sales_platform.storage import DUCKDB_POOL

PLAN_AHEAD_DAYS = 365
"""How far past the last day of history the synthetic shop publishes its promotion plan."""

_DATE = pd.ArrowDtype(pa.date32())  # stored as DATE, also when the table is empty
_TEXT = "string[pyarrow]"


def stored_promotions(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` in the ``promotions`` contract's columns and types (DATE dates, VARCHAR text)."""
    out = pd.DataFrame(index=df.index)
    for column in ("start_date", "end_date"):
        out[column] = pd.to_datetime(df[column]).dt.normalize().astype(_DATE)
    for column in ("scope", "name"):
        out[column] = df[column].astype(_TEXT)
    return out[list(tables.COLUMNS[tables.PROMOTIONS])].reset_index(drop=True)


def promotions_table(shop: ShopSettings) -> tuple[pd.DataFrame, str]:
    """The shop's promotions and where they came from."""
    if shop.is_synthetic():
        last = HISTORY.last_day() + timedelta(days=PLAN_AHEAD_DAYS)
        plan = synthetic.promotions(HISTORY.start, last, shop_config(shop))
        return plan, f"synthetic shop's plan, {HISTORY.start} .. {last}"
    if not shop.promotions_path:
        return empty_promotions(), "none: SALES_PROMOTIONS_PATH is not set"
    return load_promotions(shop.promotions_path), shop.promotions_path


@dg.asset(
    name=tables.PROMOTIONS,
    group_name=RAW,
    owners=OWNERS,
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    description=(
        "The shop's promotions, one row per event: first and last day (inclusive), scope (empty "
        "for the whole shop, else a category) and name. From SALES_PROMOTIONS_PATH for file "
        "sources (empty without it); the synthetic shop publishes its plan up to a year past "
        "the history. The only promotion knowledge the forecaster gets."
    ),
)
def promotions(context: dg.AssetExecutionContext, shop: ShopSettings) -> pd.DataFrame:
    df, origin = promotions_table(shop)
    stored = stored_promotions(df)
    first = df["start_date"].min() if len(df) else None
    last = df["end_date"].max() if len(df) else None
    context.add_output_metadata(
        {
            **table_metadata(df),
            "source": origin,
            "first_day": first.date().isoformat() if first is not None else "",
            "last_day": last.date().isoformat() if last is not None else "",
            "promotion_days": int(((df["end_date"] - df["start_date"]).dt.days + 1).sum()),
        }
    )
    return stored


defs = dg.Definitions(assets=[promotions])
