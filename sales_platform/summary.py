"""`python -m sales_platform.summary`: what `make run` built, and where to look next."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from sales_platform import settings, tables
from sales_platform.storage import DatabaseNotFoundError, query


def summary(database: str) -> str:
    counts = query(
        database,
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "AND NOT starts_with(table_name, '_') ORDER BY table_name",
    )
    exact = {
        name: int(query(database, f'SELECT count(*) AS n FROM "{name}"')["n"].iloc[0])
        for name in counts["table_name"]
    }
    forecast = query(
        database,
        f"SELECT min(date) AS first_day, max(date) AS last_day, sum(forecast) AS revenue, "
        f"sum(lower_80) AS low, sum(upper_80) AS high, any_value(method) AS method "
        f"FROM {tables.SALES_FORECAST} WHERE series = ?",
        [tables.TOTAL_SERIES],
    ).iloc[0]
    money = settings.money_text
    lines = ["", "sales_platform: tables in " + str(Path(database).resolve())]
    lines += [f"  {name:<22}{rows:>12,} rows" for name, rows in exact.items()]
    lines += outside_history_warning()
    lines += [
        "",
        f"Forecast of total revenue {forecast['first_day']:%Y-%m-%d} .. "
        f"{forecast['last_day']:%Y-%m-%d} ({forecast['method']}): {money(forecast['revenue'])}",
        f"  (sum of the daily 80% bounds: {money(forecast['low'])} .. {money(forecast['high'])})",
        "",
        "Next: `make dev` opens the Dagster UI at http://127.0.0.1:3000 ,",
        "      `make dashboard` opens the Streamlit dashboard at http://127.0.0.1:8501 .",
    ]
    return "\n".join(lines)


def outside_history_warning(instance: dg.DagsterInstance | None = None) -> list[str]:
    """The last `orders` load's lines outside the history window, as the run logged them (read
    from `instance`, else the one in $DAGSTER_HOME, where `make run` keeps it)."""
    if instance is None:
        if not os.environ.get("DAGSTER_HOME"):
            return []
        with dg.DagsterInstance.get() as home:
            return outside_history_warning(home)
    event = instance.get_latest_materialization_event(dg.AssetKey(tables.ORDERS))
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    outside = metadata.get("lines_outside_history")
    if outside is None or not outside.value:
        return []
    first = metadata["outside_history_first_day"].value
    last = metadata["outside_history_last_day"].value
    return [
        "",
        f"WARNING: {outside.value:,} order line(s) from {first} to {last} lie outside the history "
        "and were not loaded;",
        "  widen SALES_HISTORY_START/SALES_HISTORY_END, or unset them (a file source then covers",
        "  its own first to last order date).",
    ]


def main() -> int:
    database = settings.database_path()
    try:
        print(summary(database))
    except DatabaseNotFoundError:
        print(f"No database at {database}: the job did not run.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
