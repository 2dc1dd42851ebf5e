"""pandera schemas of order lines: the rules a parsed line must meet, and the stored contract.

`LINES_SCHEMA` validates the parsed (typed) lines of a load, returns included, and names each
rule so that a failure becomes a reason in `LoadResult.rejected`. `ORDERS_SCHEMA` is the contract
of `LoadResult.orders` (= the `orders` table's columns in `sales_platform.tables`, with their
pandas dtypes). Validation runs here, before anything is written, where a failure can still name
the file, row and column; a Dagster type check would run only after the output exists.
"""

from __future__ import annotations

import copy

import pandera.pandas as pa

from sales_platform.tables import COLUMNS, CUSTOMERS, ORDERS, PRODUCTS

STRING = "string[pyarrow]"
#: DuckDB type of the contract -> pandas dtype of the frames this package returns.
PANDAS_DTYPES = {
    "VARCHAR": STRING,
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "TIMESTAMP": "datetime64[ns]",
    "DATE": "datetime64[ns]",
}

ORDERS_DTYPES = {c: PANDAS_DTYPES[t] for c, t in COLUMNS[ORDERS].items()}
PRODUCTS_DTYPES = {c: PANDAS_DTYPES[t] for c, t in COLUMNS[PRODUCTS].items()}
CUSTOMERS_DTYPES = {c: PANDAS_DTYPES[t] for c, t in COLUMNS[CUSTOMERS].items()}

# Rule names: each is the `reason` written to `rejected` when the rule fails.
ZERO_QUANTITY = "zero quantity"
NEGATIVE_PRICE = "negative unit price"
NEGATIVE_AMOUNT = "negative amount on a line that is not a return"
DUPLICATE_LINE = "duplicate order line"
EMPTY_ID = "empty id"

#: Which field a failing rule is reported against.
RULE_FIELD = {
    ZERO_QUANTITY: "quantity",
    NEGATIVE_PRICE: "unit_price",
    NEGATIVE_AMOUNT: "amount",
    EMPTY_ID: None,  # reported against the column that failed
}


def _id_column() -> pa.Column:
    return pa.Column(STRING, pa.Check(lambda s: s.str.len() > 0, name=EMPTY_ID), nullable=False)


LINE_RULES = pa.DataFrameSchema(
    {
        "order_id": _id_column(),
        "line_number": pa.Column("int32", nullable=False),
        "order_ts": pa.Column("datetime64[ns]", nullable=False),
        "order_date": pa.Column("datetime64[ns]", nullable=False),
        "customer_id": _id_column(),
        "product_id": _id_column(),
        "quantity": pa.Column("int32", nullable=False),
        "unit_price": pa.Column(
            "float64", pa.Check(lambda s: s >= 0, name=NEGATIVE_PRICE), nullable=False
        ),
        "amount": pa.Column("float64", nullable=False),
        "is_return": pa.Column(bool, nullable=False),
    },
    checks=[
        # A cancelled line may be written with no quantity: it is no sale.
        pa.Check(lambda df: (df["quantity"] != 0) | df["is_return"], name=ZERO_QUANTITY),
        pa.Check(lambda df: (df["amount"] >= 0) | df["is_return"], name=NEGATIVE_AMOUNT),
    ],
    name="order_lines",
)
"""Rules of one parsed order line (sales and returns), checked chunk by chunk of a load."""

LINES_SCHEMA = copy.deepcopy(LINE_RULES)
LINES_SCHEMA.unique = ["order_id", "line_number"]
LINES_SCHEMA.report_duplicates = "exclude_first"
"""`LINE_RULES` and no duplicated ``(order_id, line_number)``: the first line wins. A load finds
duplicates across all its lines in DuckDB (`parse.lines_sql`), not chunk by chunk."""

ORDERS_SCHEMA = pa.DataFrameSchema(
    {
        "order_id": _id_column(),
        "line_number": pa.Column("int32"),
        "order_ts": pa.Column("datetime64[ns]"),
        "order_date": pa.Column(
            "datetime64[ns]", pa.Check(lambda s: s == s.dt.normalize(), name="date at midnight")
        ),
        "customer_id": _id_column(),
        "product_id": _id_column(),
        "quantity": pa.Column("int32", pa.Check.gt(0)),
        "unit_price": pa.Column("float64", pa.Check.ge(0)),
        "amount": pa.Column("float64", pa.Check.ge(0)),
    },
    strict=True,
    ordered=True,
    unique=["order_id", "line_number"],
    name="orders",
)
"""The contract of `LoadResult.orders` (and of the stored `orders` table): sales lines only."""
