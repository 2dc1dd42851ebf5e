"""Daily partitions of the order history, one per calendar day (UTC, DATE keys), and the tags of
a run that covers all of them.

`python -m sales_platform.partitions` prints those tags as JSON for `dagster job execute --tags`;
they are computed when the run is requested, so a long-running `dagster dev` never launches a
stale range (the UI's "Materialize all" computes the same range itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
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
    """Run tags that make one run cover every day of history up to now (single-run backfill)."""
    keys = daily_partitions.get_partition_keys()
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }


def full_history_tags_json(env: Mapping[str, str]) -> str:
    """The full-history tags as a process with `env` computes them: its settings, not ours."""
    command = [sys.executable, "-m", __name__]
    return subprocess.check_output(command, env=dict(env), text=True).strip()


if __name__ == "__main__":
    print(json.dumps(full_history_tags()))
