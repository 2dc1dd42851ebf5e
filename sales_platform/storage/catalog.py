"""What the database holds, and the SQL that names a table slice.

Shared by the pandas and the model type handlers (and by assets that check a table's columns):
a slice's qualified name, its ``SELECT`` and partition ``WHERE`` clause, the columns of a stored
table and of a registered frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import duckdb
from dagster import TimeWindow
from dagster._core.storage.db_io_manager import (
    TablePartitionDimension,
    TableSlice,
    static_where_clause,
)

from sales_platform.storage.reader import quote_ident

__all__ = [
    "describe_frame",
    "partition_where_clause",
    "qualified",
    "select_statement",
    "table_columns",
]

# As dagster_duckdb.io_manager.DUCKDB_DATETIME_FORMAT.
_DUCKDB_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def qualified(table_slice: TableSlice) -> str:
    return f"{quote_ident(table_slice.schema)}.{quote_ident(table_slice.table)}"


def partition_where_clause(partition_dimensions: Sequence[TablePartitionDimension]) -> str:
    """The ``WHERE`` condition of a slice's partitions.

    Copied from dagster-duckdb 0.29 (``dagster_duckdb.io_manager._partition_where_clause`` and
    ``_time_window_where_clause``), which keeps it private: the pandas handler deletes and checks
    a partition's rows itself, inside its transaction, so it needs the very condition that the
    stock IO manager selects a partition with. Keep the text identical to dagster-duckdb's.
    """
    return " AND\n".join(
        (
            _time_window_where_clause(partition_dimension)
            if isinstance(partition_dimension.partitions, TimeWindow)
            else static_where_clause(partition_dimension)
        )
        for partition_dimension in partition_dimensions
    )


def _time_window_where_clause(table_partition: TablePartitionDimension) -> str:
    start_dt, end_dt = cast("TimeWindow", table_partition.partitions)
    start_dt_str = start_dt.strftime(_DUCKDB_DATETIME_FORMAT)
    end_dt_str = end_dt.strftime(_DUCKDB_DATETIME_FORMAT)
    expr = table_partition.partition_expr
    return f"""{expr} >= '{start_dt_str}' AND {expr} < '{end_dt_str}'"""


def select_statement(table_slice: TableSlice) -> str:
    cols = ", ".join(quote_ident(c) for c in table_slice.columns) if table_slice.columns else "*"
    sql = f"SELECT {cols} FROM {qualified(table_slice)}"
    if table_slice.partition_dimensions:
        sql += f" WHERE {partition_where_clause(table_slice.partition_dimensions)}"
    return sql


def table_columns(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str
) -> dict[str, str] | None:
    """``{column: duckdb type}`` of an existing table, or ``None`` if it does not exist."""
    rows = connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [schema, table],
    ).fetchall()
    if rows:
        return {name: dtype for name, dtype in rows}
    # fetchall, not fetchone: DuckDB refuses to register a frame while a result is half read.
    ((exists,),) = connection.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return {} if exists else None


def describe_frame(connection: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    rows = connection.execute(f"DESCRIBE SELECT * FROM {quote_ident(view)}").fetchall()
    return {row[0]: row[1] for row in rows}
