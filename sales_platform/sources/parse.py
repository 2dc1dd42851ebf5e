"""The parse stage of a load, in DuckDB: the files' text rows as one table, then one query that
types every field, derives the missing ones and gives each field a reason when its value does
not parse.

`create_raw` stacks the text tables of the files read (DuckDB table ``raw``: a VARCHAR column
per field, plus where each row came from and which fields its file maps); `parse_sql` turns
``raw`` into ``parsed`` (typed fields, ``<field>_err`` reasons, ``has_err``, ``in_scope``,
``is_return``); `lines_sql` selects the lines without a parse problem; `fetch` brings a result
to pandas.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa_arrow

from .dates import ISO, MAX_YEAR, MIN_YEAR, date_sql, sql_text
from .mapping import FIELDS, ColumnMapping
from .numbers import NumberFormat
from .reader import FileRead

#: Returns and cancellations: a line is one when its quantity is negative, or when its status
#: (trimmed, case-insensitive) is one of `ColumnMapping.return_statuses`. Such lines are NOT in
#: `orders` (sales are never netted against returns, so revenue stays gross sales); they are in
#: `LoadResult.returns`, counted in ``counts["returns"]``. A line that its status cancels may leave
#: its price and amount blank and its quantity 0 (exports do): it is no sale; blanks read as 0.
RETURN_BY_QUANTITY = "negative quantity"
RETURN_BY_STATUS = "status"

# Parse-stage reasons.
MISSING = "missing value"
NOT_A_NUMBER = "not a number"
NOT_WHOLE = "not a whole number"
OUT_OF_RANGE = "number out of range"
BAD_DATE = "unparseable date"
DATE_RANGE = f"date out of range ({MIN_YEAR}-{MAX_YEAR})"
BAD_LINE = "not a whole number >= 0"

#: Fields whose values are checked at the parse stage, in reporting order.
CHECKED = (
    "order_id",
    "line_number",
    "order_ts",
    "order_date",
    "product_id",
    "quantity",
    "unit_price",
    "amount",
)
_NUMBERS = ("quantity", "unit_price", "amount")
_LINE_COLUMNS = (
    "_seq, _file_idx, _file, _row, in_scope, order_id, line_number, order_ts, order_date, "
    "customer_id, product_id, quantity, unit_price, amount, status, is_return, return_reason, "
    "category, product_name"
)


def _string_type(t: pa_arrow.DataType) -> bool:
    return (
        pa_arrow.types.is_string(t)
        or pa_arrow.types.is_large_string(t)
        or pa_arrow.types.is_string_view(t)
    )


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run `sql` and return pandas with ``string[pyarrow]`` text and ``datetime64[ns]`` times."""
    return to_pandas(con.sql(sql).to_arrow_table())


def to_pandas(table: pa_arrow.Table) -> pd.DataFrame:
    """`table` as pandas with ``string[pyarrow]`` text and ``datetime64[ns]`` times."""
    schema = pa_arrow.schema(
        [
            pa_arrow.field(f.name, pa_arrow.large_string()) if _string_type(f.type) else f
            for f in table.schema
        ]
    )
    table = table.cast(schema)
    frame = table.to_pandas(
        types_mapper={pa_arrow.large_string(): pd.StringDtype("pyarrow")}.get,
        date_as_object=False,
    )
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_datetime64_any_dtype(dtype) and dtype != "datetime64[ns]":
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def create_raw(con: duckdb.DuckDBPyConnection, reads: list[tuple[int, FileRead, bool]]) -> int:
    """Stack the text of the files read into the DuckDB table ``raw``, with where each row came
    from (``_seq``: its position in the load); drops the reader's tables; returns the row count."""
    flags = ", ".join(f"_m_{f} BOOLEAN" for f in FIELDS)
    con.execute(
        f"CREATE OR REPLACE TABLE raw ({', '.join(f'{f} VARCHAR' for f in FIELDS)}, "
        "_row BIGINT, _file VARCHAR, _file_rel VARCHAR, _file_idx INTEGER, _file_day DATE, "
        f"_scope_file BOOLEAN, {flags}, _seq BIGINT)"
    )
    seq = 0
    for index, read, in_scope in reads:
        mapped = ", ".join(str(f in read.columns).upper() for f in FIELDS)
        day = "NULL" if read.file.day is None else f"DATE '{read.file.day.isoformat()}'"
        position = f"t.rowid - {read.first_rowid}"
        join, row = "", "t._row"
        if read.row_numbers is not None:  # CSV: the rows numbered by the reader, by position
            numbers = pa_arrow.table(
                {"_pos": np.arange(read.num_rows), "_row": np.asarray(read.row_numbers)}
            )
            con.register("_row_numbers", numbers)
            join, row = f"JOIN _row_numbers r ON r._pos = {position}", "r._row"
        con.execute(
            f"INSERT INTO raw SELECT {', '.join(f't.{f}' for f in FIELDS)}, {row}, "
            f"{sql_text(str(read.file.path))}, {sql_text(read.file.relpath)}, {index}, {day}, "
            f"{str(in_scope).upper()}, {mapped}, {position} + {seq} FROM {read.table} t {join} "
            f"WHERE t.rowid BETWEEN {read.first_rowid} AND {read.first_rowid + read.num_rows - 1}"
        )
        if read.row_numbers is not None:
            con.unregister("_row_numbers")
        seq += read.num_rows
    for table in {read.table for _, read, _ in reads}:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return seq


def _trimmed(field: str) -> str:
    return f"NULLIF(trim({field}), '')"


def window_sql(date_formats: dict[str, tuple[str, tuple[str, ...]]]) -> str:
    """The first and last order date in ``raw`` (its date, else its timestamp's day) among the
    values that parse in a plausible year: only the date columns are parsed."""
    ts_fmt = date_formats.get("order_ts", (ISO, ()))[1]
    d_fmt = date_formats.get("order_date", (ISO, ()))[1]
    day = (
        f"CASE WHEN _m_order_date THEN {date_sql(_trimmed('order_date'), d_fmt)} "
        f"ELSE {date_sql(_trimmed('order_ts'), ts_fmt)} END"
    )
    return f"""
    SELECT CAST(min(day) AS DATE), CAST(max(day) AS DATE)
    FROM (SELECT {day} AS day FROM raw) WHERE year(day) BETWEEN {MIN_YEAR} AND {MAX_YEAR}
    """


def _from_order(column: str) -> str:
    """SQL: ``column``, or where it is blank the order's (the first line of the same order id in
    the same file that has one; window ``whole_order`` of :func:`parse_sql`)."""
    return f"coalesce({column}, first_value({column} IGNORE NULLS) OVER whole_order)"


def parse_sql(
    mapping: ColumnMapping,
    date_formats: dict[str, tuple[str, tuple[str, ...]]],
    numbers: NumberFormat,
    start: date | None,
    end: date | None,
) -> str:
    """One query: trimmed text -> typed fields, derived fields, a reason column per field, and
    whether the row is in the requested range (by its order date, else by its file's date).

    A line with a blank date or status takes its order's (the first line of the same order id in
    the same file that has one): order exports write order-level fields on an order's first line
    only.

    Without an order id column each line is its own order, named by its file and row."""
    trimmed = ", ".join(f"{_trimmed(f)} AS {f}_v" for f in FIELDS)
    ts_fmt = date_formats.get("order_ts", (ISO, ()))[1]
    d_fmt = date_formats.get("order_date", (ISO, ()))[1]
    statuses = ", ".join(sql_text(s.strip().lower()) for s in mapping.return_statuses) or "NULL"
    in_years = f"BETWEEN {MIN_YEAR} AND {MAX_YEAR}"
    stripped_numbers = ", ".join(f"{numbers.strip_sql(f + '_v')} AS {f}_s" for f in _NUMBERS)
    bounds = []
    if start is not None:
        bounds.append(f"order_date >= DATE '{start.isoformat()}'")
    if end is not None:
        bounds.append(f"order_date <= DATE '{end.isoformat()}'")
    in_range = " AND ".join(bounds) or "true"
    has_err = " OR ".join(f"{f}_err IS NOT NULL" for f in CHECKED)
    return f"""
    WITH s AS (
        SELECT _seq, _file, _file_idx, _row, _file_day, _scope_file, {
        ", ".join(f"_m_{f}" for f in FIELDS)
    }, {trimmed},
            CASE WHEN _m_order_id THEN {_trimmed("order_id")}
                 ELSE _file_rel || ':' || _row END AS oid
        FROM raw
    ), stripped AS (
        SELECT *, {stripped_numbers} FROM s
    ), n AS MATERIALIZED (
        SELECT *,
            TRY_CAST(line_number_v AS DOUBLE) AS ln_num,
            {numbers.parse_sql("quantity_s")} AS q_num,
            {numbers.parse_sql("unit_price_s")} AS p_num,
            {numbers.parse_sql("amount_s")} AS a_num,
            row_number() OVER by_order AS ln_derived,
            {_from_order("order_ts_v")} AS ts_text,
            {_from_order("order_date_v")} AS d_text,
            {_from_order("status_v")} AS status_text
        FROM stripped
        WINDOW by_order AS (PARTITION BY _file_idx, oid ORDER BY _seq),
            whole_order AS (by_order ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ), dated AS (
        SELECT *,
            {date_sql("ts_text", ts_fmt)} AS ts_val,
            {date_sql("d_text", d_fmt)} AS d_val
        FROM n
    ), t AS MATERIALIZED (
        SELECT *,
            CASE WHEN isfinite(q_num) AND q_num = floor(q_num) AND abs(q_num) <= 2147483647
                 THEN q_num::INTEGER END AS q_ok,
            CASE WHEN isfinite(p_num) THEN p_num END AS p_ok,
            CASE WHEN isfinite(a_num) THEN a_num END AS a_ok,
            CASE WHEN year(ts_val) {in_years} THEN ts_val END AS ts_ok,
            CASE WHEN year(d_val) {in_years} THEN d_val END AS d_ok,
            CASE WHEN isfinite(ln_num) AND ln_num = floor(ln_num)
                      AND ln_num BETWEEN 0 AND 2147483647
                 THEN ln_num::INTEGER END AS ln_ok,
            lower(status_text) AS status_l,
            coalesce(lower(status_text) IN ({statuses}), false) AS by_status
        FROM dated
    ), typed AS (
        SELECT
            _seq, _file, _file_idx, _row, _scope_file,
            oid AS order_id,
            CASE WHEN _m_line_number THEN ln_ok ELSE ln_derived::INTEGER END AS line_number,
            CASE WHEN _m_order_ts THEN ts_ok ELSE d_ok END AS order_ts,
            CAST(CASE WHEN _m_order_date THEN d_ok ELSE ts_ok END AS DATE) AS order_date,
            coalesce(customer_id_v, 'unknown') AS customer_id,
            product_id_v AS product_id,
            q_ok AS quantity,
            -- 0 where nothing gives a price: a cancelled line, or one of no quantity (rejected
            -- as "zero quantity" by the line rules, not as a missing price).
            coalesce(p_ok, abs(a_ok) / NULLIF(abs(q_ok), 0),
                     CASE WHEN by_status OR q_ok = 0 THEN 0 END) AS unit_price,
            coalesce(a_ok, q_ok * p_ok, CASE WHEN by_status THEN 0 END) AS amount,
            category_v AS category,
            product_name_v AS product_name,
            status_l AS status,
            (coalesce(q_ok < 0, false) OR by_status) AS is_return,
            CASE WHEN q_ok < 0 THEN '{RETURN_BY_QUANTITY}'
                 WHEN by_status THEN '{RETURN_BY_STATUS} ' || status_l
            END AS return_reason,
            CASE WHEN oid IS NULL THEN '{MISSING}' END AS order_id_err,
            CASE WHEN NOT _m_line_number THEN NULL
                 WHEN line_number_v IS NULL THEN '{MISSING}'
                 WHEN ln_num IS NULL THEN '{NOT_A_NUMBER}'
                 WHEN ln_ok IS NULL THEN '{BAD_LINE}' END AS line_number_err,
            CASE WHEN NOT _m_order_ts THEN NULL
                 WHEN ts_text IS NULL THEN '{MISSING}'
                 WHEN ts_val IS NULL THEN '{BAD_DATE}'
                 WHEN ts_ok IS NULL THEN '{DATE_RANGE}' END AS order_ts_err,
            CASE WHEN NOT _m_order_date THEN NULL
                 WHEN d_text IS NULL THEN '{MISSING}'
                 WHEN d_val IS NULL THEN '{BAD_DATE}'
                 WHEN d_ok IS NULL THEN '{DATE_RANGE}' END AS order_date_err,
            CASE WHEN product_id_v IS NULL THEN '{MISSING}' END AS product_id_err,
            CASE WHEN quantity_v IS NULL THEN '{MISSING}'
                 WHEN q_num IS NULL OR NOT isfinite(q_num) THEN '{NOT_A_NUMBER}'
                 WHEN q_num <> floor(q_num) THEN '{NOT_WHOLE}'
                 WHEN q_ok IS NULL THEN '{OUT_OF_RANGE}' END AS quantity_err,
            CASE WHEN NOT _m_unit_price THEN NULL
                 WHEN unit_price_v IS NULL AND amount_v IS NULL AND NOT by_status
                 THEN '{MISSING}'
                 WHEN unit_price_v IS NOT NULL AND p_ok IS NULL THEN '{NOT_A_NUMBER}' END
                 AS unit_price_err,
            CASE WHEN NOT _m_amount THEN NULL
                 WHEN amount_v IS NULL AND NOT _m_unit_price AND NOT by_status
                 THEN '{MISSING}'
                 WHEN amount_v IS NOT NULL AND a_ok IS NULL THEN '{NOT_A_NUMBER}' END AS amount_err
        FROM t
    )
    SELECT *,
        ({has_err}) AS has_err,
        CASE WHEN order_date IS NOT NULL THEN ({in_range}) ELSE _scope_file END AS in_scope
    FROM typed
    """


def lines_sql() -> str:
    """The lines in scope without a parse problem, in contract order (``order_ts, order_id,
    line_number``, then file order), each with whether it repeats an earlier ``(order_id,
    line_number)`` of the whole load -- in scope or not, so that a daily load judges duplicates as
    a full one does: the first in file order wins -- and where that first line is.

    The repeated keys are grouped first (an aggregate, which DuckDB spills to disk) rather than
    numbered in a window over every line: measured on 5 million lines, peak RSS 1.40 against
    1.43 GB, no real gain (the chunk size set the load's memory); the 20-million-line figures in
    the README were measured with it."""
    columns = ", ".join(f"p.{c.strip()}" for c in _LINE_COLUMNS.split(","))
    return f"""
    WITH repeated AS (
        SELECT order_id, line_number, min(_seq) AS _first_seq,
            arg_min(_file, _seq) AS _first_file, arg_min(_row, _seq) AS _first_row
        FROM parsed WHERE NOT has_err
        GROUP BY order_id, line_number HAVING count(*) > 1
    )
    SELECT {columns},
        coalesce(p._seq > r._first_seq, false) AS _duplicate,
        coalesce(r._first_file, p._file) AS _first_file,
        coalesce(r._first_row, p._row) AS _first_row
    FROM parsed p LEFT JOIN repeated r USING (order_id, line_number)
    WHERE NOT p.has_err AND p.in_scope
    ORDER BY p.order_ts, p.order_id, p.line_number, p._seq
    """
