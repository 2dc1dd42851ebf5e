"""One write, one transaction: ``BEGIN`` ... ``COMMIT`` (``ROLLBACK`` on error), and the row in
the version table (``main._storage_table_versions``) that each write records inside it, which
the read helper's :func:`~sales_platform.storage.reader.table_version` reads."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import duckdb
from dagster._core.storage.db_io_manager import TableSlice

from sales_platform.storage.reader import VERSIONS_TABLE, quote_ident

__all__ = ["record_table_version", "run_in_transaction"]


def record_table_version(
    connection: duckdb.DuckDBPyConnection,
    table_slice: TableSlice,
    *,
    run_id: str | None,
    partition: str | None,
    row_count: int,
) -> str:
    """Record a write in ``main._storage_table_versions`` (call inside the write transaction)."""
    versions = f"main.{quote_ident(VERSIONS_TABLE)}"
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {versions} (table_schema VARCHAR, table_name VARCHAR, "
        "version VARCHAR, written_at TIMESTAMP, run_id VARCHAR, partition_key VARCHAR, "
        "row_count BIGINT)"
    )
    version = uuid.uuid4().hex
    connection.execute(
        f"DELETE FROM {versions} WHERE table_schema = ? AND table_name = ?",
        [table_slice.schema, table_slice.table],
    )
    connection.execute(
        f"INSERT INTO {versions} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            table_slice.schema,
            table_slice.table,
            version,
            datetime.now(UTC).replace(tzinfo=None),
            run_id,
            partition,
            row_count,
        ],
    )
    return version


@contextmanager
def run_in_transaction(
    connection: duckdb.DuckDBPyConnection,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN TRANSACTION`` ... ``COMMIT``, or ``ROLLBACK`` if the body raises."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield connection
    except BaseException:
        # The transaction may already be aborted; closing the connection rolls back anyway.
        with contextlib.suppress(duckdb.Error):
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
