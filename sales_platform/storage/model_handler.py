"""Type handler that stores trained models in DuckDB with ``skops.io`` - never ``pickle``.

A model asset is a one-row table::

    model_type VARCHAR    -- fully qualified Python type, informational only (never trusted)
    format     VARCHAR    -- 'skops'
    data       BLOB       -- skops.io.dumps(model)
    sha256     VARCHAR    -- hex sha256 of data
    size_bytes BIGINT
    created_at TIMESTAMP  -- naive UTC
    run_id     VARCHAR
    metadata   VARCHAR    -- JSON: the model's ``metadata`` mapping if it has one, else {}

written with CREATE OR REPLACE inside one transaction (the previous model stays until COMMIT).

Which Python types the handler stores, and which types a payload may contain, is supplied by the
caller, because storage must not import the forecasting package:

* ``model_types``: the classes handled (an asset returning one of them, or an input annotated with
  one of them, goes through this handler);
* ``trusted_types``: fully qualified names of every type inside the payload that skops does not
  trust by default (``skops.io.get_untrusted_types``). The ``model_types`` themselves are always
  trusted.

On write, a model whose payload contains a type outside that list is refused (you would not be
able to load it). On load, in this order and without executing any code from the payload:
exactly one row; sha256 of the bytes equals the recorded sha256 (else :class:`ModelIntegrityError`);
the bytes are a readable skops archive; every untrusted type is in the list (else
:class:`UntrustedModelTypesError`); only then ``skops.io.loads(data, trusted=[...])``; finally the
object must be an instance of the requested type.

The sha256 detects corruption and edits of the bytes that do not update the hash; someone who can
rewrite both is stopped by the trusted-type list, which is what keeps arbitrary code from running.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import skops
import skops.io as sio
from dagster import InputContext, MetadataValue, OutputContext
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice

from sales_platform.storage.catalog import qualified, table_columns
from sales_platform.storage.transaction import record_table_version, run_in_transaction

__all__ = [
    "ModelIntegrityError",
    "ModelStorageError",
    "SkopsModelTypeHandler",
    "UntrustedModelTypesError",
    "import_type",
    "type_name",
]


class ModelStorageError(ValueError):
    """Base class: a stored model cannot be written or loaded safely."""


class ModelIntegrityError(ModelStorageError):
    """The stored model row is missing, duplicated, corrupt or does not match its sha256."""


class UntrustedModelTypesError(ModelStorageError):
    """The model payload contains types that are not in the trusted list."""


def type_name(cls: type) -> str:
    """Fully qualified name of a class, as skops reports it: ``module.QualName``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def import_type(name: str) -> type:
    """Import a class from its fully qualified name (``package.module.Class``)."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name, attrs = ".".join(parts[:split]), parts[split:]
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        try:
            for attr in attrs:
                obj = getattr(obj, attr)
        except AttributeError:
            continue
        if isinstance(obj, type):
            return obj
        raise TypeError(f"{name!r} is not a class")
    raise ImportError(f"cannot import model type {name!r}")


def _model_metadata(obj: object) -> str:
    meta = getattr(obj, "metadata", None)
    if not isinstance(meta, Mapping):
        return "{}"
    try:
        return json.dumps(dict(meta), default=str, sort_keys=True)
    except (TypeError, ValueError):
        return "{}"


class SkopsModelTypeHandler(DbTypeHandler[object]):
    """Stores objects of ``model_types`` as a skops payload with a sha256 (see module doc)."""

    def __init__(self, model_types: Sequence[type], trusted_types: Sequence[str] = ()):
        if not model_types:
            raise ValueError("SkopsModelTypeHandler needs at least one model type")
        self._model_types = list(model_types)
        self._trusted = frozenset(trusted_types) | {type_name(t) for t in self._model_types}

    @property
    def supported_types(self) -> Sequence[type]:
        return self._model_types

    @property
    def trusted_types(self) -> frozenset[str]:
        return self._trusted

    def _untrusted(self, data: bytes) -> list[str]:
        return sorted(set(sio.get_untrusted_types(data=data)) - self._trusted)

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: object, connection
    ) -> Mapping[str, Any]:
        name = f"{table_slice.schema}.{table_slice.table}"
        if table_slice.partition_dimensions:
            raise ModelStorageError(f"{name}: partitioned model assets are not supported")
        data = sio.dumps(obj, compression=zipfile.ZIP_DEFLATED)
        untrusted = self._untrusted(data)
        if untrusted:
            raise UntrustedModelTypesError(
                f"refusing to store the model of {name}: its skops payload contains types that "
                f"are not trusted, so it could not be loaded again: {untrusted}. If these types "
                "are safe, add them to the trusted model types (trusted_model_types of "
                "SalesDuckDBIOManager, i.e. the forecasting package's TRUSTED_TYPES)."
            )
        digest = hashlib.sha256(data).hexdigest()
        try:
            run_id = context.run_id
        except Exception:  # noqa: BLE001 - contexts built without a run
            run_id = None
        target = qualified(table_slice)
        with run_in_transaction(connection):
            connection.execute(
                f"CREATE OR REPLACE TABLE {target} (model_type VARCHAR, format VARCHAR, "
                "data BLOB, sha256 VARCHAR, size_bytes BIGINT, created_at TIMESTAMP, "
                "run_id VARCHAR, metadata VARCHAR)"
            )
            connection.execute(
                f"INSERT INTO {target} VALUES (?, 'skops', ?, ?, ?, ?, ?, ?)",
                [
                    type_name(type(obj)),
                    data,
                    digest,
                    len(data),
                    datetime.now(UTC).replace(tzinfo=None),
                    run_id,
                    _model_metadata(obj),
                ],
            )
            version = record_table_version(
                connection, table_slice, run_id=run_id, partition=None, row_count=1
            )
        return {
            **TableMetadataSet(row_count=1, storage_kind="duckdb"),
            "model_type": MetadataValue.text(type_name(type(obj))),
            "model_sha256": MetadataValue.text(digest),
            "model_size_bytes": MetadataValue.int(len(data)),
            "skops_version": MetadataValue.text(skops.__version__),
            "storage_version": MetadataValue.text(version),
        }

    def load_input(self, context: InputContext, table_slice: TableSlice, connection) -> object:
        name = f"{table_slice.schema}.{table_slice.table}"
        columns = table_columns(connection, table_slice.schema, table_slice.table)
        if columns is None:
            raise ModelIntegrityError(
                f"model table {name} does not exist in {table_slice.database!r}: "
                "materialize the model asset first"
            )
        missing = {"data", "sha256"} - set(columns)
        if missing:
            raise ModelIntegrityError(
                f"model table {name} is not a model table written by this IO manager "
                f"(missing columns {sorted(missing)})"
            )
        rows = connection.execute(f"SELECT data, sha256 FROM {qualified(table_slice)}").fetchall()
        return self.load_bytes(name, rows, expected=context.dagster_type.typing_type)

    def load_bytes(self, name: str, rows: Sequence[tuple[Any, Any]], expected: Any = None) -> Any:
        """Verify and load the ``(data, sha256)`` rows of model table ``name``."""
        if len(rows) != 1:
            raise ModelIntegrityError(
                f"model table {name} has {len(rows)} rows, expected exactly 1: "
                "it was modified outside the IO manager; re-materialize the model asset"
            )
        data, recorded = rows[0]
        if not isinstance(data, (bytes, bytearray, memoryview)) or not isinstance(recorded, str):
            raise ModelIntegrityError(f"model table {name}: data or sha256 is missing (NULL)")
        data = bytes(data)
        actual = hashlib.sha256(data).hexdigest()
        if actual != recorded.strip().lower():
            raise ModelIntegrityError(
                f"model table {name}: sha256 of the stored bytes ({actual[:16]}...) does not "
                f"match the recorded sha256 ({recorded[:16]}...): the model was modified or "
                "corrupted after it was written. It was not loaded; re-materialize the model asset."
            )
        try:
            found = sio.get_untrusted_types(data=data)
        except Exception as exc:  # noqa: BLE001 - not a zip / no schema.json / bad JSON
            raise ModelIntegrityError(
                f"model table {name}: the stored bytes are not a readable skops payload ({exc}); "
                "re-materialize the model asset"
            ) from exc
        untrusted = sorted(set(found) - self._trusted)
        if untrusted:
            raise UntrustedModelTypesError(
                f"model table {name}: the stored payload contains untrusted types {untrusted}; "
                "it was not loaded. If the model code legitimately changed, add the types to the "
                "trusted model types; otherwise the row was tampered with: re-materialize it."
            )
        try:
            obj = sio.loads(data, trusted=sorted(found))
        except Exception as exc:  # noqa: BLE001
            raise ModelIntegrityError(
                f"model table {name}: the skops payload could not be loaded: {exc}"
            ) from exc
        if isinstance(expected, type) and expected is not object and not isinstance(obj, expected):
            raise ModelIntegrityError(
                f"model table {name} holds a {type_name(type(obj))}, not the requested "
                f"{type_name(expected)}"
            )
        return obj
