"""Storage layer: the transactional DuckDB IO manager, model storage and the read helper.

Imports nothing from the other ``sales_platform`` packages except :mod:`sales_platform.tables`.

* Readers outside Dagster (the dashboard): :func:`read_table`, :func:`query`,
  :func:`table_version` - short-lived read-only connections with jittered retry. Importing them
  needs only duckdb and pandas (the Dagster parts below are imported lazily, on first access).
* Dagster: :class:`SalesDuckDBIOManager` (pandas tables, or a :class:`FrameStream` of them for a
  table too large to hold; skops models; one transaction per write), :class:`DuckDBDatabase`
  (SQL inside assets), :data:`DUCKDB_POOL`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sales_platform.storage.reader import (
    DEFAULT_SCHEMA,
    VERSIONS_TABLE,
    DatabaseBusyError,
    DatabaseNotFoundError,
    StorageReadError,
    TableNotFoundError,
    query,
    read_connection,
    read_table,
    table_version,
)
from sales_platform.storage.stream import FrameStream

DUCKDB_POOL = "duckdb"
"""Concurrency pool of every asset that writes the DuckDB file (give it a limit of 1)."""

_LAZY = {
    "DEFAULT_LOCK_TIMEOUT_S": "sales_platform.storage.connection",
    "DatabaseLockTimeoutError": "sales_platform.storage.connection",
    "connect_read_write": "sales_platform.storage.connection",
    "DuckDBDatabase": "sales_platform.storage.io_manager",
    "SalesDuckDbClient": "sales_platform.storage.io_manager",
    "SalesDuckDBIOManager": "sales_platform.storage.io_manager",
    "ModelIntegrityError": "sales_platform.storage.model_handler",
    "ModelStorageError": "sales_platform.storage.model_handler",
    "SkopsModelTypeHandler": "sales_platform.storage.model_handler",
    "UntrustedModelTypesError": "sales_platform.storage.model_handler",
    "type_name": "sales_platform.storage.model_handler",
    "PartitionBoundsError": "sales_platform.storage.pandas_handler",
    "PartitionSchemaChangeError": "sales_platform.storage.pandas_handler",
    "TransactionalPandasTypeHandler": "sales_platform.storage.pandas_handler",
    "table_columns": "sales_platform.storage.catalog",
}

if TYPE_CHECKING:
    from sales_platform.storage.catalog import table_columns
    from sales_platform.storage.connection import (
        DEFAULT_LOCK_TIMEOUT_S,
        DatabaseLockTimeoutError,
        connect_read_write,
    )
    from sales_platform.storage.io_manager import (
        DuckDBDatabase,
        SalesDuckDbClient,
        SalesDuckDBIOManager,
    )
    from sales_platform.storage.model_handler import (
        ModelIntegrityError,
        ModelStorageError,
        SkopsModelTypeHandler,
        UntrustedModelTypesError,
        type_name,
    )
    from sales_platform.storage.pandas_handler import (
        PartitionBoundsError,
        PartitionSchemaChangeError,
        TransactionalPandasTypeHandler,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "DEFAULT_SCHEMA",
    "DUCKDB_POOL",
    "VERSIONS_TABLE",
    "DatabaseBusyError",
    "DatabaseLockTimeoutError",
    "DatabaseNotFoundError",
    "FrameStream",
    "DuckDBDatabase",
    "ModelIntegrityError",
    "ModelStorageError",
    "PartitionBoundsError",
    "PartitionSchemaChangeError",
    "SalesDuckDBIOManager",
    "SalesDuckDbClient",
    "SkopsModelTypeHandler",
    "StorageReadError",
    "TableNotFoundError",
    "TransactionalPandasTypeHandler",
    "UntrustedModelTypesError",
    "connect_read_write",
    "query",
    "table_columns",
    "read_connection",
    "read_table",
    "table_version",
    "type_name",
]
