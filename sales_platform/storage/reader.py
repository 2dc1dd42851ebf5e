"""Read helper for processes outside Dagster (the dashboard, notebooks, benchmarks).

DuckDB allows ONE writing process or MANY reading processes on a file, never both. A reader that
keeps a connection open therefore blocks every Dagster write, and a reader that connects while a
run writes gets ``IO Error: Could not set lock on file``. The helpers here avoid both problems:

* every call opens a **read-only** connection, runs one statement and closes the connection again,
  so the shared lock is held for milliseconds (the writer's connect retries and gets in between);
* while the file is locked by a writer, the connect is retried with jittered exponential backoff
  (10 ms doubling up to 250 ms, "full jitter") until ``timeout_s`` has passed, then
  :class:`DatabaseBusyError` is raised;
* because every write of the IO manager is one transaction, whatever a reader gets is a committed
  version of the table: the previous one or the new one, never an empty or half-written table.

Errors are typed so a UI can say something useful:

* :class:`DatabaseNotFoundError` - the DuckDB file does not exist yet (nothing materialized);
* :class:`TableNotFoundError` - the file exists but the table has not been materialized yet;
* :class:`DatabaseBusyError` - still locked by a writer after ``timeout_s``.

All three derive from :class:`StorageReadError`.

Dtypes: VARCHAR comes back as ``object`` (Python ``str``), DATE and TIMESTAMP as
``datetime64[ns]`` (DuckDB >= 1.1 returns microsecond precision; it is normalised to ns here so
that the dashboard and the IO manager agree), integers and doubles as numpy dtypes.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sales_platform.storage.connection import is_lock_error

__all__ = [
    "DEFAULT_SCHEMA",
    "DatabaseBusyError",
    "DatabaseNotFoundError",
    "StorageReadError",
    "TableNotFoundError",
    "VERSIONS_TABLE",
    "normalize_datetimes",
    "query",
    "quote_ident",
    "read_connection",
    "read_table",
    "table_version",
]

DEFAULT_SCHEMA = "main"
"""Every asset table lives in DuckDB's default schema, so ``SELECT * FROM sales_forecast`` works."""

VERSIONS_TABLE = "_storage_table_versions"
"""Bookkeeping table written by the IO manager in the same transaction as each table write."""

_BACKOFF_START_S = 0.01
_BACKOFF_CAP_S = 0.25


class StorageReadError(RuntimeError):
    """Base class of the read helper's errors."""


class DatabaseNotFoundError(StorageReadError, FileNotFoundError):
    """The DuckDB file does not exist (yet): nothing has been materialized."""


class TableNotFoundError(StorageReadError, LookupError):
    """The database exists but does not (yet) contain the requested table."""


class DatabaseBusyError(StorageReadError, TimeoutError):
    """The database stayed locked by a writing process for longer than the timeout."""


def quote_ident(name: str) -> str:
    """Quote one SQL identifier for DuckDB, doubling embedded double quotes."""
    return '"' + str(name).replace('"', '""') + '"'


def _split_table(table: str) -> tuple[str, str]:
    """``"sales_forecast"`` -> ``("main", "sales_forecast")``; ``"s.t"`` -> ``("s", "t")``."""
    if "." in table:
        schema, _, name = table.partition(".")
        return schema.strip('"'), name.strip('"')
    return DEFAULT_SCHEMA, table


def _is_missing_file_error(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return "does not exist" in msg or "no such file" in msg


def _sleep_backoff(attempt: int, deadline: float) -> None:
    """Full-jitter exponential backoff, never sleeping past the deadline."""
    ceiling = min(_BACKOFF_CAP_S, _BACKOFF_START_S * (2**attempt))
    delay = random.uniform(ceiling / 4, ceiling)
    time.sleep(max(0.0, min(delay, deadline - time.monotonic())))


@contextmanager
def read_connection(
    database: str | os.PathLike[str], *, timeout_s: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection, retried while a writer holds the file.

    Keep the ``with`` block short: while it is open, no Dagster run can write.
    """
    path = Path(database)
    if not path.exists():
        raise DatabaseNotFoundError(f"DuckDB database {str(path)!r} does not exist (yet)")
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=True)
            break
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if _is_missing_file_error(exc) and not path.exists():
                raise DatabaseNotFoundError(
                    f"DuckDB database {str(path)!r} does not exist (yet)"
                ) from exc
            if not is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"DuckDB database {str(path)!r} is still locked by a writer after "
                    f"{timeout_s:g} s ({attempt + 1} attempts): {exc}"
                ) from exc
            _sleep_backoff(attempt, deadline)
            attempt += 1
    try:
        yield conn
    finally:
        conn.close()


def normalize_datetimes(df: pd.DataFrame) -> pd.DataFrame:
    """Cast every tz-naive datetime64 column of any unit to ``datetime64[ns]`` (in place)."""
    for col, dtype in df.dtypes.items():
        if pd.api.types.is_datetime64_dtype(dtype) and dtype != "datetime64[ns]":
            df[col] = df[col].astype("datetime64[ns]")
    return df


def _table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
        "AND database_name = current_database()",
        [schema, table],
    ).fetchone()
    if row and row[0]:
        return True
    row = conn.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ? "
        "AND database_name = current_database()",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def read_table(
    database: str | os.PathLike[str],
    table: str,
    *,
    columns: Sequence[str] | None = None,
    where: str | None = None,
    params: Sequence[Any] | None = None,
    order_by: str | None = None,
    timeout_s: float = 30.0,
) -> pd.DataFrame:
    """Read (part of) one table through a short-lived read-only connection.

    Args:
        database: path of the DuckDB file.
        table: table name in schema ``main`` (or ``"schema.table"``).
        columns: columns to select (quoted for you); all columns when ``None``.
        where: a SQL boolean expression (trusted code, not user input); put values in ``params``
            as ``?`` placeholders, e.g. ``where="series = ? AND date >= ?"``.
        params: values for the ``?`` placeholders of ``where``.
        order_by: a SQL ORDER BY list (trusted code), e.g. ``"date, series"``.
        timeout_s: how long to keep retrying while a writer holds the file.

    Raises:
        DatabaseNotFoundError, TableNotFoundError, DatabaseBusyError.
    """
    schema, name = _split_table(table)
    col_sql = ", ".join(quote_ident(c) for c in columns) if columns else "*"
    sql = f"SELECT {col_sql} FROM {quote_ident(schema)}.{quote_ident(name)}"
    if where:
        sql += f" WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    with read_connection(database, timeout_s=timeout_s) as conn:
        if not _table_exists(conn, schema, name):
            raise TableNotFoundError(
                f"table {schema}.{name} does not exist (yet) in {str(database)!r}"
            )
        df = conn.execute(sql, list(params) if params is not None else None).df()
    return normalize_datetimes(df)


_MISSING_TABLE_RE = re.compile(r"Table with name (\S+) does not exist", re.IGNORECASE)


def query(
    database: str | os.PathLike[str],
    sql: str,
    params: Sequence[Any] | None = None,
    *,
    timeout_s: float = 30.0,
) -> pd.DataFrame:
    """Run one read-only SELECT through a short-lived read-only connection.

    Raises:
        DatabaseNotFoundError, DatabaseBusyError, and TableNotFoundError when the statement names
        a table that does not exist (other DuckDB errors propagate unchanged).
    """
    with read_connection(database, timeout_s=timeout_s) as conn:
        try:
            df = conn.execute(sql, list(params) if params is not None else None).df()
        except duckdb.CatalogException as exc:
            match = _MISSING_TABLE_RE.search(str(exc))
            if match:
                raise TableNotFoundError(
                    f"table {match.group(1)} does not exist (yet) in {str(database)!r}: {exc}"
                ) from exc
            raise
    return normalize_datetimes(df)


def _file_version(path: Path) -> str | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    version = f"file:{st.st_mtime_ns}:{st.st_size}"
    wal = path.with_name(path.name + ".wal")
    try:
        wst = wal.stat()
        version += f":wal:{wst.st_mtime_ns}:{wst.st_size}"
    except FileNotFoundError:
        pass
    return version


def table_version(
    database: str | os.PathLike[str], table: str, *, timeout_s: float = 5.0
) -> str | None:
    """A string that changes whenever ``table`` is rewritten; ``None`` if there is no database.

    Use it as a cache key (e.g. for ``st.cache_data``). The IO manager records a version per table
    in ``main._storage_table_versions`` inside the write transaction; for tables it has not written
    (or if the database stays busy for ``timeout_s``), the file's mtime/size is returned instead,
    which changes whenever anything in the file changes (a safe over-approximation).
    """
    path = Path(database)
    if not path.exists():
        return None
    schema, name = _split_table(table)
    try:
        with read_connection(path, timeout_s=timeout_s) as conn:
            if _table_exists(conn, DEFAULT_SCHEMA, VERSIONS_TABLE):
                row = conn.execute(
                    f"SELECT version FROM {DEFAULT_SCHEMA}.{VERSIONS_TABLE} "
                    "WHERE table_schema = ? AND table_name = ?",
                    [schema, name],
                ).fetchone()
                if row is not None:
                    return str(row[0])
    except (DatabaseBusyError, DatabaseNotFoundError):
        pass
    return _file_version(path)
