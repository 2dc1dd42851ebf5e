"""How a frame's columns are stored: the types they are cast to on write, and how they differ
from a stored table's (the schema diff that decides whether a partition write may go ahead).

Normalisation on write (so the stored tables match ``sales_platform.tables``): ``TIMESTAMP_NS``
and other precisions -> ``TIMESTAMP``; tz-aware -> naive UTC; ``ENUM`` -> ``VARCHAR``; an
all-null column -> the existing column's type, else ``VARCHAR``; a declared type wins over all.
A retyping counts as a change unless it loses nothing (``_SAFE_WIDENINGS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sales_platform.storage.reader import quote_ident

__all__ = ["describe_diff", "projection", "schema_diff"]

# new type -> existing types it may be inserted into without losing information
_SAFE_WIDENINGS: dict[str, set[str]] = {
    "TINYINT": {"SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE"},
    "SMALLINT": {"INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE"},
    "INTEGER": {"BIGINT", "HUGEINT", "DOUBLE"},
    "UTINYINT": {"USMALLINT", "UINTEGER", "UBIGINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE"},
    "USMALLINT": {"UINTEGER", "UBIGINT", "INTEGER", "BIGINT", "DOUBLE"},
    "UINTEGER": {"UBIGINT", "BIGINT", "DOUBLE"},
    # practically lossless (exact up to 2**53); pandas turns ints into floats and back with NaNs
    "BIGINT": {"HUGEINT", "DOUBLE"},
    "DATE": {"TIMESTAMP"},
    "FLOAT": {"DOUBLE"},
}


def _normalised_type(dtype: str, target: str | None) -> str | None:
    """The type a frame column is cast to on write (``None``: keep as is)."""
    upper = dtype.upper()
    if upper in ("TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
        return "TIMESTAMP"
    if upper == '"NULL"' or upper == "NULL":
        return target or "VARCHAR"
    if upper.startswith("ENUM("):
        return "VARCHAR"
    return None


def projection(
    frame_types: Mapping[str, str],
    view: str,
    target: Mapping[str, str] | None,
    declared: Mapping[str, str] | None = None,
) -> str:
    exprs = []
    for name, dtype in frame_types.items():
        col = quote_ident(name)
        if declared and name in declared:
            exprs.append(f"CAST({col} AS {declared[name]}) AS {col}")
            continue
        if dtype.upper() == "TIMESTAMP WITH TIME ZONE":
            exprs.append(f"timezone('UTC', {col}) AS {col}")
            continue
        cast_to = _normalised_type(dtype, (target or {}).get(name))
        exprs.append(f"CAST({col} AS {cast_to}) AS {col}" if cast_to else col)
    return f"SELECT {', '.join(exprs) if exprs else '*'} FROM {quote_ident(view)}"


def _stored_type(dtype: str) -> str:
    """The type a frame column gets in the table (after normalisation)."""
    if dtype.upper() == "TIMESTAMP WITH TIME ZONE":
        return "TIMESTAMP"
    return _normalised_type(dtype, None) or dtype


def schema_diff(
    existing: Mapping[str, str], frame_types: Mapping[str, str], *, check_types: bool
) -> tuple[list[str], list[str], list[str]]:
    """(added, dropped, retyped) columns of the frame relative to the existing table."""
    added = [c for c in frame_types if c not in existing]
    dropped = [c for c in existing if c not in frame_types]
    retyped = []
    if check_types:
        for col, dtype in frame_types.items():
            if col not in existing or dtype.upper() in ('"NULL"', "NULL"):
                continue
            new, old = _stored_type(dtype).upper(), existing[col].upper()
            if new != old and old not in _SAFE_WIDENINGS.get(new, set()):
                retyped.append(f"{col}: {existing[col]} -> {_stored_type(dtype)}")
    return added, dropped, retyped


def describe_diff(added: Sequence[str], dropped: Sequence[str], retyped: Sequence[str]) -> str:
    parts = []
    if added:
        parts.append(f"added {list(added)}")
    if dropped:
        parts.append(f"dropped {list(dropped)}")
    if retyped:
        parts.append(f"retyped {list(retyped)}")
    return "; ".join(parts)
