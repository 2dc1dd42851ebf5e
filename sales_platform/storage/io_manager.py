"""``SalesDuckDBIOManager``: dagster-duckdb's IO manager made transactional, plus model storage.

Built on dagster-duckdb, not beside it: :class:`SalesDuckDBIOManager` subclasses
``dagster_duckdb.DuckDBIOManager`` and returns the stock ``DbIOManager`` (asset key -> table,
``partition_expr`` metadata -> partition slices, ``columns`` input metadata, load type dispatch),
configured with two ``DbTypeHandler``\\ s and our own ``DbClient``.

Why a custom ``DbClient``: ``DbIOManager.handle_output`` runs::

    with db_client.connect(...) as conn:
        db_client.ensure_schema_exists(...)
        db_client.delete_table_slice(...)      # stock: DELETE ... in its own autocommit
        handler.handle_output(...)             # stock: CREATE TABLE IF NOT EXISTS / INSERT

so a crash, a failing INSERT (e.g. a new column: Binder Error) or an empty DataFrame (skipped)
between the two leaves the table empty. :class:`SalesDuckDbClient.delete_table_slice` is a no-op;
the type handlers delete the slice (or replace the table) themselves inside one
``BEGIN ... COMMIT`` together with the insert (see :mod:`sales_platform.storage.pandas_handler`).
Its ``connect`` retries the file lock with jittered backoff for ``lock_timeout_s`` and always
closes the connection (see :mod:`sales_platform.storage.connection`).

Wiring (``sales_platform/definitions.py``)::

    from sales_platform.forecasting import TRUSTED_TYPES, FittedForecaster
    from sales_platform.storage import DUCKDB_POOL, DuckDBDatabase, SalesDuckDBIOManager, type_name

    resources = {
        "io_manager": SalesDuckDBIOManager(
            database=EnvVar("SALES_DUCKDB_PATH"),  # or a default path
            model_types=[type_name(FittedForecaster)],
            trusted_model_types=list(TRUSTED_TYPES),
        ),
        "duckdb": DuckDBDatabase(database=EnvVar("SALES_DUCKDB_PATH")),
    }

An asset returning a ``FittedForecaster`` is stored by the model handler; a downstream input
annotated ``sales_model: FittedForecaster`` is loaded (and verified) by it. Un-annotated inputs
load as ``pd.DataFrame``, so annotate model inputs.

Writers are serialized within Dagster: run jobs with the in-process executor and/or tag every
asset that writes the file with ``pool=DUCKDB_POOL`` (and set that pool's limit to 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
from dagster import InputContext, OutputContext
from dagster._core.storage.db_io_manager import DbClient, DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb import DuckDBIOManager, DuckDBResource
from pydantic import Field

from sales_platform.storage import DUCKDB_POOL
from sales_platform.storage.catalog import select_statement
from sales_platform.storage.connection import DEFAULT_LOCK_TIMEOUT_S, connect_read_write
from sales_platform.storage.model_handler import SkopsModelTypeHandler, import_type
from sales_platform.storage.pandas_handler import TransactionalPandasTypeHandler
from sales_platform.storage.reader import DEFAULT_SCHEMA, quote_ident

__all__ = [
    "DUCKDB_POOL",
    "DuckDBDatabase",
    "SalesDuckDBIOManager",
    "SalesDuckDbClient",
]


class SalesDuckDbClient(DbClient[duckdb.DuckDBPyConnection]):
    """dagster-duckdb's client with the slice delete deferred into the handler's transaction."""

    def __init__(
        self,
        database: str,
        connection_config: dict[str, Any] | None = None,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    ):
        self.database = database
        self.connection_config = dict(connection_config or {})
        self.lock_timeout_s = lock_timeout_s

    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection) -> None:
        """Deliberately nothing: the type handler deletes inside its write transaction."""

    @staticmethod
    def ensure_schema_exists(context: OutputContext, table_slice: TableSlice, connection) -> None:
        if table_slice.schema != DEFAULT_SCHEMA:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(table_slice.schema)}")

    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        return select_statement(table_slice)

    @contextmanager
    def connect(  # type: ignore[override]
        self, context: OutputContext | InputContext, table_slice: TableSlice
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect_read_write(
            self.database, config=self.connection_config, timeout_s=self.lock_timeout_s
        ) as conn:
            yield conn


class SalesDuckDBIOManager(DuckDBIOManager):
    """Transactional DuckDB IO manager for pandas DataFrames and trained models.

    Tables live in schema ``main`` (DuckDB's default) unless ``schema`` says otherwise.
    See the module docstring for the wiring of ``model_types``/``trusted_model_types``.
    """

    schema_: str | None = Field(
        default=DEFAULT_SCHEMA, alias="schema", description="Schema of the tables (default main)."
    )
    lock_timeout_s: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S,
        description="How long a write/read keeps retrying while another process holds the file.",
    )
    model_types: list[str] = Field(
        default=[],
        description=(
            "Fully qualified names of the model classes stored by the skops model handler "
            "(e.g. 'sales_platform.forecasting.model.FittedForecaster'). Always trusted."
        ),
    )
    trusted_model_types: list[str] = Field(
        default=[],
        description=(
            "Fully qualified names of the further types a stored model's skops payload may "
            "contain (beyond skops' defaults), e.g. the forecasting package's TRUSTED_TYPES."
        ),
    )
    column_types: dict[str, dict[str, str]] = Field(
        default={},
        description=(
            "The stored tables' contract: per table, the DuckDB type each listed column is "
            "stored as (e.g. a pandas timestamp column as DATE)."
        ),
    )

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        # Required by DuckDBIOManager; this IO manager writes through build_type_handlers(),
        # which adds the tables' contract (column_types) and the model handler.
        return [TransactionalPandasTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame

    def build_type_handlers(self) -> list[DbTypeHandler]:
        handlers: list[DbTypeHandler] = [TransactionalPandasTypeHandler(self.column_types)]
        if self.model_types:
            handlers.append(
                SkopsModelTypeHandler(
                    model_types=[import_type(name) for name in self.model_types],
                    trusted_types=self.trusted_model_types,
                )
            )
        return handlers

    def create_io_manager(self, context) -> DbIOManager:
        return DbIOManager(
            db_client=SalesDuckDbClient(
                database=self.database,
                connection_config=self.connection_config,
                lock_timeout_s=self.lock_timeout_s,
            ),
            database=self.database,
            schema=self.schema_ or DEFAULT_SCHEMA,
            type_handlers=self.build_type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="SalesDuckDBIOManager",
        )


class DuckDBDatabase(DuckDBResource):
    """``DuckDBResource`` for running SQL against the same file from inside assets.

    Same fields and ``get_connection()`` as dagster-duckdb's resource, but the connection waits for
    the lock with jittered backoff (``lock_timeout_s``) and is closed even if the body raises
    (the stock one keeps the file locked until garbage collection in that case). Keep the
    connection only as long as the SQL runs: return DataFrames and let the IO manager write them.
    """

    lock_timeout_s: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S,
        description="How long to keep retrying while another process holds the file.",
    )
    read_only: bool = Field(
        default=False,
        description="Open read-only (lets several processes read at once; cannot write).",
    )

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect_read_write(
            self.database,
            config=self.connection_config,
            timeout_s=self.lock_timeout_s,
            read_only=self.read_only,
        ) as conn:
            yield conn
