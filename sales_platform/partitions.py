"""Daily partitions of the order history, one per calendar day (UTC, DATE keys)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from sales_platform.settings import HistoryWindow, file_source_window_from_env

# A file source's history is the data's own window unless SALES_HISTORY_* say otherwise.
HISTORY = HistoryWindow.from_env(data_window=file_source_window_from_env)

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=HISTORY.start.isoformat(),
    # end_date is exclusive; without one the newest partition is always yesterday.
    end_date=(HISTORY.end + timedelta(days=1)).isoformat() if HISTORY.end else None,
    timezone="UTC",
)


def full_history_tags() -> dict[str, str]:
    """Run tags that make one run cover every day of history (single-run backfill)."""
    keys = daily_partitions.get_partition_keys()
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
