"""Which of the user's columns holds which of our order-line fields.

A `ColumnMapping` names, for each of our fields, the user's column (or leaves it to automatic
detection), plus a few read options that belong with a file format rather than with the code
(date format, text encoding, delimiter, the statuses that mean "returned").
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import SourceError

#: Field name -> normalised column names that are recognised automatically, best first.
#: Normalised = lower case with everything but letters and digits removed, so ``Invoice Date``,
#: ``invoice_date`` and ``InvoiceDate`` are the same name.
ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": (
        "orderid",
        "ordernumber",
        "orderno",
        "ordernum",
        "order",
        "invoiceno",
        "invoicenumber",
        "invoiceid",
        "invoice",
        "transactionid",
        "transaction",
        "receiptid",
        "receiptno",
    ),
    "line_number": ("linenumber", "lineno", "linenum", "line", "lineitem", "orderline"),
    "order_ts": (
        "orderts",
        "ordertimestamp",
        "orderdatetime",
        "ordertime",
        "timestamp",
        "datetime",
        "ts",
        "invoicedate",
        "invoicedatetime",
        "createdat",
        "created",
        "purchasedat",
        "placedat",
        "transactiontime",
        "transactiondatetime",
    ),
    "order_date": (
        "orderdate",
        "date",
        "purchasedate",
        "transactiondate",
        "saledate",
        "salesdate",
        "day",
    ),
    "product_id": (
        "productid",
        "sku",
        "stockcode",
        "productcode",
        "itemid",
        "itemcode",
        "articleid",
        "articleno",
        "product",
        "item",
        "article",
    ),
    "customer_id": (
        "customerid",
        "customerno",
        "customernumber",
        "customer",
        "clientid",
        "client",
        "userid",
        "buyerid",
    ),
    "quantity": ("quantity", "qty", "units", "unitssold", "quantityordered", "pieces"),
    "unit_price": (
        "unitprice",
        "price",
        "priceeach",
        "itemprice",
        "salesprice",
        "sellingprice",
        "priceperunit",
    ),
    "amount": (
        "amount",
        "totalamount",
        "lineamount",
        "linetotal",
        "revenue",
        "total",
        "totalprice",
        "sales",
        "subtotal",
        "netamount",
        "lineprice",
    ),
    "category": (
        "category",
        "productcategory",
        "categoryname",
        "department",
        "productline",
        "productgroup",
    ),
    "product_name": (
        "productname",
        "description",
        "productdescription",
        "itemname",
        "itemdescription",
        "name",
        "title",
    ),
    "status": ("status", "orderstatus", "linestatus", "transactionstatus"),
}

FIELDS: tuple[str, ...] = tuple(ALIASES)
#: Fields without which no row can be loaded (plus one of each pair below).
REQUIRED: tuple[str, ...] = ("order_id", "product_id", "quantity")
#: At least one of each pair is required; the other is derived.
ONE_OF: tuple[tuple[str, str], ...] = (("order_ts", "order_date"), ("unit_price", "amount"))

#: Statuses (compared case-insensitively, trimmed) that make a line a return/cancellation.
DEFAULT_RETURN_STATUSES: tuple[str, ...] = (
    "cancelled",
    "canceled",
    "cancellation",
    "returned",
    "return",
    "refunded",
    "refund",
    "void",
    "voided",
)

_OPTIONS = ("date_format", "decimal", "thousands", "encoding", "delimiter", "return_statuses")

#: Decimal separators a mapping may name, and thousands separators (``""``: none).
DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = (",", ".", " ", "'", "")


def normalize_name(name: str) -> str:
    """``"Invoice Date"`` / ``"invoice_date"`` / ``"InvoiceDate"`` -> ``"invoicedate"``."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclasses.dataclass(frozen=True)
class ColumnMapping:
    """From the user's column names to ours, plus the read options of the files.

    Each field holds the user's column name; ``None`` (the default) means "detect it
    automatically" from `ALIASES`, and ``""`` means "this file has no such column, do not detect
    one" (useful for an optional column whose automatic match would be wrong). Names are matched
    exactly first, then case- and punctuation-insensitively.

    Required: ``order_id`` (unless set to ``""``/``null``: the export has no order id, and each
    line is then its own order), ``product_id``, ``quantity``, one of ``order_ts``/``order_date``
    and one of ``unit_price``/``amount`` (the other is derived: ``amount = quantity * unit_price``,
    ``unit_price = amount / quantity``). Optional: ``line_number`` (derived from the row order
    within the order in its file when absent), ``customer_id`` (``"unknown"`` when absent or
    blank), ``category``, ``product_name``, ``status``.

    Read options:

    - ``date_format``: a strftime-style format such as ``"%d/%m/%Y %H:%M"`` for dates that are not
      ISO 8601. When unset, ISO 8601 is tried first (offsets such as ``Z``/``+01:00`` are converted
      to UTC), then a list of common formats; the one that parses most values wins, ties going to
      the one that agrees with the dates in the file names, then to month-first. Set it whenever
      your dates are ambiguous (``01/02/2025``).
    - ``decimal`` / ``thousands``: the number format (``","`` / ``"."`` for ``1.234,50``). When
      unset, each number column's format is detected from its values (see `numbers`).
    - ``encoding``: ``"utf-8"`` (default), ``"utf-16"`` or ``"latin-1"`` for CSV files.
    - ``delimiter``: the CSV delimiter when the automatic detection gets it wrong.
    - ``return_statuses``: the status values that mark a return/cancellation.
    """

    order_id: str | None = None
    line_number: str | None = None
    order_ts: str | None = None
    order_date: str | None = None
    product_id: str | None = None
    customer_id: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    category: str | None = None
    product_name: str | None = None
    status: str | None = None
    date_format: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    return_statuses: tuple[str, ...] = DEFAULT_RETURN_STATUSES

    @classmethod
    def from_config(cls, value: ColumnMapping | Mapping[str, Any] | str | None) -> ColumnMapping:
        """Build a mapping from ``None``, a dict, a JSON/YAML string, or a path to a JSON/YAML file.

        Keys are our field names and the read options; a JSON ``null`` value means "no such
        column" (the same as ``""``). For example the value of ``SALES_SOURCE_MAPPING``::

            {"order_id": "InvoiceNo", "order_ts": "InvoiceDate", "date_format": "%m/%d/%Y %H:%M"}
        """
        if value is None:
            return cls()
        if isinstance(value, ColumnMapping):
            return value
        if isinstance(value, str):
            value = _parse_text(value)
        if not isinstance(value, Mapping):
            raise SourceError(
                "the column mapping (SALES_SOURCE_MAPPING) must be a mapping of field -> "
                f"column name, got {type(value)}"
            )
        unknown = sorted(set(value) - set(FIELDS) - set(_OPTIONS))
        if unknown:
            raise SourceError(
                f"the column mapping (SALES_SOURCE_MAPPING) has unknown key(s) {unknown}; "
                "the keys are the fields "
                f"{list(FIELDS)} and the options {list(_OPTIONS)}"
            )
        kwargs: dict[str, Any] = {}
        for key, item in value.items():
            if key == "return_statuses":
                if isinstance(item, str):
                    item = [item]
                kwargs[key] = tuple(str(s).strip().lower() for s in item)
            elif key in FIELDS:
                kwargs[key] = "" if item is None else str(item)
            else:
                kwargs[key] = None if item is None else str(item)
        if kwargs.get("decimal") not in (None, *DECIMAL_SEPARATORS):
            raise SourceError(
                f"SALES_SOURCE_MAPPING: decimal must be one of {list(DECIMAL_SEPARATORS)}, "
                f"not {kwargs['decimal']!r}"
            )
        if kwargs.get("thousands") not in (None, *THOUSANDS_SEPARATORS):
            raise SourceError(
                f"SALES_SOURCE_MAPPING: thousands must be one of {list(THOUSANDS_SEPARATORS)}, "
                f"not {kwargs['thousands']!r}"
            )
        if kwargs.get("decimal") and kwargs.get("decimal") == kwargs.get("thousands"):
            raise SourceError("SALES_SOURCE_MAPPING: decimal and thousands must differ")
        return cls(**kwargs)

    @property
    def has_order_id(self) -> bool:
        """False when the mapping says the export has no order id (``"order_id": null``)."""
        return self.order_id != ""

    def explicit(self) -> dict[str, str]:
        """The fields set explicitly (``""`` included: explicitly absent)."""
        return {f: getattr(self, f) for f in FIELDS if getattr(self, f) is not None}

    def resolve(self, columns: Sequence[str], *, file: Any = "<input>") -> dict[str, str]:
        """Field -> the file's column, for the fields this file has.

        Raises `SourceError` naming the file, the missing field(s), the names looked for and the
        columns found when a required column is missing or an explicitly named one is not there.
        """
        columns = [str(c) for c in columns]
        by_norm: dict[str, str] = {}
        for col in columns:
            by_norm.setdefault(normalize_name(col), col)
        resolved: dict[str, str] = {}
        used: set[str] = set()
        explicit = self.explicit()
        # Explicit names first, so that automatic detection never takes a column named in config.
        for field, name in explicit.items():
            if name == "":
                continue
            col = name if name in columns else by_norm.get(normalize_name(name))
            if col is None:
                raise SourceError.single(
                    file,
                    f"column {name!r} (mapped to {field}) not found",
                    row=1,
                    column=name,
                    hint=f"Columns found: {columns}",
                    columns_found=columns,
                )
            resolved[field] = col
            used.add(col)
        for field in FIELDS:
            if field in explicit:
                continue
            for alias in ALIASES[field]:
                col = by_norm.get(alias)
                if col is not None and col not in used:
                    resolved[field] = col
                    used.add(col)
                    break
        missing = [
            f for f in REQUIRED if f not in resolved and not (f == "order_id" and f in explicit)
        ]
        missing += [f"{a} or {b}" for a, b in ONE_OF if a not in resolved and b not in resolved]
        if missing:
            looked = {m: [n for part in m.split(" or ") for n in ALIASES[part]] for m in missing}
            example = {m.split(" or ")[0]: "<your column>" for m in missing}
            raise SourceError.single(
                file,
                f"required column(s) missing: {', '.join(missing)}",
                row=1,
                column=missing[0],
                hint=(
                    f"Columns found: {columns}. Looked for (case-insensitive) {looked}; name yours "
                    f"in the column mapping, e.g. SALES_SOURCE_MAPPING='{json.dumps(example)}'"
                    + (
                        ' (an export without order ids: "order_id": null)'
                        if "order_id" in missing
                        else ""
                    )
                ),
                columns_found=columns,
            )
        return resolved


def _parse_text(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return {}
    if not stripped.startswith(("{", "[")) and "\n" not in stripped:
        candidate = Path(stripped).expanduser()
        if candidate.is_file():
            stripped = candidate.read_text(encoding="utf-8")
        elif candidate.suffix.lower() in {".json", ".yaml", ".yml"}:
            raise SourceError(f"column mapping file not found: {candidate} (SALES_SOURCE_MAPPING)")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    try:
        import yaml  # PyYAML comes with Dagster; JSON needs nothing

        return yaml.safe_load(stripped)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a config error
        raise SourceError(
            "SALES_SOURCE_MAPPING is neither JSON nor YAML nor a readable file: "
            f"{text[:80]!r} ({exc})"
        ) from exc
