"""Load the user's order lines from CSV/Parquet files into the `orders` contract.

Pipeline: find the files (`files.discover`) -> read each with DuckDB as text (`reader`) -> parse
every field in one DuckDB query (numbers, dates, derived fields; a value that does not parse is a
problem at its file/row/column) -> check the parsed lines with pandera (`schema.LINES_SCHEMA`:
zero quantities, negative prices/amounts, duplicated order lines) -> split returns from sales ->
keep the days asked for -> refuse the load when too much of it is bad. Nothing is ever written:
the result lives in memory.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from sales_platform.tables import COLUMNS, ORDERS

from . import schema as S
from .dates import ISO, MAX_YEAR, MIN_YEAR, choose_date_format, date_sql, sql_text
from .errors import SourceError
from .files import SourceFile, discover
from .mapping import FIELDS, ColumnMapping
from .numbers import NumberFormat, number_format
from .reader import FileRead, read_files

OnError = Literal["fail", "quarantine"]

#: Returns and cancellations: a line is one when its quantity is negative, or when its status
#: (trimmed, case-insensitive) is one of `ColumnMapping.return_statuses`. Such lines are NOT in
#: `orders` (sales are never netted against returns, so revenue stays gross sales); they are in
#: `LoadResult.returns`, counted in ``counts["returns"]``.
RETURN_BY_QUANTITY = "negative quantity"
RETURN_BY_STATUS = "status"

#: The share of a load's rows (in range) that may be rejected before the whole load is refused.
DEFAULT_MAX_REJECTED = 0.01
_NUMBER_SAMPLE = 2_000  # values per number column looked at to detect the number format

# Parse-stage reasons.
MISSING = "missing value"
NOT_A_NUMBER = "not a number"
NOT_WHOLE = "not a whole number"
OUT_OF_RANGE = "number out of range"
BAD_DATE = "unparseable date"
DATE_RANGE = f"date out of range ({MIN_YEAR}-{MAX_YEAR})"
BAD_LINE = "not a whole number >= 0"

#: Fields whose values are checked at the parse stage, in reporting order.
_CHECKED = (
    "order_id",
    "line_number",
    "order_ts",
    "order_date",
    "product_id",
    "quantity",
    "unit_price",
    "amount",
)
ORDER_COLUMNS = list(COLUMNS[ORDERS])
REJECTED_COLUMNS = ["file", "row", "column", "value", "reason"]
RETURNS_COLUMNS = [*ORDER_COLUMNS, "status", "file", "row", "reason"]


@dataclasses.dataclass
class LoadResult:
    """What `load_orders` read.

    - ``orders``: sales lines, exactly the `orders` contract columns and dtypes (ids
      ``string[pyarrow]``, ``order_ts``/``order_date`` ``datetime64[ns]`` tz-naive, ``order_date``
      at midnight, ``line_number``/``quantity`` int32, ``unit_price``/``amount`` float64), sorted by
      ``order_ts, order_id, line_number``.
    - ``rejected``: one row per problem (``file, row, column, value, reason``); ``row`` is the
      spreadsheet row for CSV (header = row 1) and the 1-based record for Parquet, ``<NA>`` (with
      ``column`` ``<NA>``) for a problem with the whole file; ``column`` is the user's column name.
    - ``returns``: returns/cancellations (contract columns, quantity as given, plus ``status``,
      ``file``, ``row`` and ``reason``), kept out of ``orders``.
    - ``files``: the files read; ``skipped_files``: files in the folder that are not order files.
    - ``counts``: ``rows_read == orders + returns + rejected_rows + out_of_range`` always holds.
    - ``out_of_range_days``: lines per order date outside the range asked for.
    - ``empty_days``: days whose dated files were read and hold no line at all: the source says
      the shop sold nothing that day.
    - ``product_attributes``: per product of the accepted sales lines, its most frequent name and
      category.
    """

    orders: pd.DataFrame
    rejected: pd.DataFrame
    returns: pd.DataFrame
    files: list[Path]
    skipped_files: list[Path]
    counts: dict[str, int]
    columns: dict[str, dict[str, str]]
    date_formats: dict[str, str]
    product_attributes: pd.DataFrame
    warnings: list[str]
    number_format: str = ""
    out_of_range_days: pd.Series = dataclasses.field(
        default_factory=lambda: pd.Series(dtype="int64")
    )
    empty_days: list[date] = dataclasses.field(default_factory=list)

    @property
    def rejected_by_reason(self) -> dict[str, int]:
        """Problems per reason (the text before any ``:`` detail), most frequent first."""
        reasons = self.rejected["reason"].astype(str).str.split(":").str[0]
        return dict(Counter(reasons).most_common())

    def metadata(self) -> dict[str, Any]:
        """Plain JSON-able summary for Dagster metadata, bounded to a few kB whatever the load
        (it is stored with every day's event): the detail of rejected rows is in `rejected`."""
        return {
            **{k: int(v) for k, v in self.counts.items()},
            "rejected_by_reason": dict(list(self.rejected_by_reason.items())[:MAX_LISTED_ITEMS]),
            "date_formats": dict(self.date_formats),
            "number_format": self.number_format,
            "files_read": _bounded([str(f) for f in self.files]),
            "skipped_files": _bounded([str(f) for f in self.skipped_files]),
            "warnings": _bounded(self.warnings),
        }


#: How many items of a list (files, warnings, reasons) the metadata keeps, and how long each is.
MAX_LISTED_ITEMS = 5
_MAX_ITEM_CHARS = 300


def _bounded(items: list[str]) -> list[str]:
    kept = [i if len(i) <= _MAX_ITEM_CHARS else i[: _MAX_ITEM_CHARS - 3] + "..." for i in items]
    if len(kept) > MAX_LISTED_ITEMS:
        kept = [*kept[:MAX_LISTED_ITEMS], f"... and {len(kept) - MAX_LISTED_ITEMS} more"]
    return kept


def _to_date(value: date | datetime | str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def _near_range(day: date | None, start: date | None, end: date | None) -> bool:
    """A file is read when undated, or dated within one day of the range (midnight cut-offs)."""
    if day is None:
        return True
    lo = None if start is None else start.toordinal() - 1
    hi = None if end is None else end.toordinal() + 1
    return (lo is None or day.toordinal() >= lo) and (hi is None or day.toordinal() <= hi)


def load_orders(
    path: str | Path,
    mapping: ColumnMapping | dict[str, Any] | str | None = None,
    *,
    on_error: OnError = "fail",
    start: date | str | None = None,
    end: date | str | None = None,
    max_rejected: float = DEFAULT_MAX_REJECTED,
) -> LoadResult:
    """Read order lines from one CSV/Parquet file or a folder of them; never writes anything.

    `mapping`: a `ColumnMapping`, a dict, or a JSON/YAML text (see `ColumnMapping.from_config`);
    columns not named are detected automatically.

    `start`/`end` (inclusive) keep the lines whose order date is in range. Files whose names carry
    a date (``orders_2025-01-31.csv``) are only read when that date is within one day of the range
    (a line stamped just after midnight may sit in the previous day's file); undated files are
    read and filtered. Lines outside the range are counted in ``counts["out_of_range"]``.

    Errors:

    - A missing required column (or an explicitly mapped one that is not there) raises
      `SourceError` naming the file, the field and the columns found, whatever `on_error` says.
    - A file that cannot be read as a table at all (empty, not CSV/Parquet) raises `SourceError`
      whatever `on_error` says: how many of its rows are bad is unknown.
    - Every other problem (unparseable date or number, non-numeric or zero quantity, negative
      price, negative amount on a sale, duplicated ``(order_id, line_number)`` -- the first one
      wins --, bytes that are not UTF-8, a row with the wrong number of fields): with
      ``on_error="fail"`` (default) nothing is returned and `SourceError` lists the problems
      (file, row, column, value, reason) and the most frequent pattern; with
      ``on_error="quarantine"`` the rows with problems are in ``rejected`` and the others load,
      unless more than `max_rejected` (a share) of the rows in range are bad or no row is valid:
      then `SourceError` names the most frequent pattern and nothing is returned.

    Returns/cancellations (negative quantity, or a status in ``mapping.return_statuses``) are not
    errors: they go to ``returns``, not ``orders``.
    """
    if on_error not in ("fail", "quarantine"):
        raise ValueError(f"on_error must be 'fail' or 'quarantine', not {on_error!r}")
    mapping = ColumnMapping.from_config(mapping)
    start, end = _to_date(start), _to_date(end)
    if start and end and start > end:
        raise ValueError(f"start {start} is after end {end}")
    files, skipped = discover(path)
    if not files:
        raise SourceError.single(
            path,
            "no CSV or Parquet order files found",
            hint=f"skipped: {[p.name for p in skipped[:10]]}" if skipped else "",
        )
    selected = [f for f in files if _near_range(f.day, start, end)]

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone='UTC'")
        result = _load(con, selected, skipped, mapping, on_error, start, end)
    finally:
        con.close()
    _refuse_a_mostly_bad_load(result, max_rejected)
    return result


def _refuse_a_mostly_bad_load(result: LoadResult, max_rejected: float) -> None:
    """Quarantine loads the good rows only when the bad ones are a few: a systematic problem
    (a number or date format, a broken export) must stop the load, not shrink the shop."""
    c = result.counts
    if c["files"] and not c["rows_read"] and not result.empty_days:
        # Only a dated file can say "nothing was sold that day"; an undated one saying nothing at
        # all is a broken export.
        raise SourceError.refused(
            pd.DataFrame(
                {
                    "file": [str(f) for f in result.files],
                    "row": None,
                    "column": None,
                    "value": None,
                    "reason": "no data row",
                }
            ),
            "the file(s) read hold no data row",
        )
    rows = c["orders"] + c["returns"] + c["rejected_rows"]
    if rows and not c["orders"] + c["returns"]:
        raise SourceError.refused(result.rejected, f"none of the {rows} rows read is valid")
    if rows and c["rejected_rows"] > max_rejected * rows:
        raise SourceError.refused(
            result.rejected,
            f"{c['rejected_rows']} of {rows} rows ({c['rejected_rows'] / rows:.1%}) are bad, "
            f"more than SALES_SOURCE_MAX_REJECTED={max_rejected:g} allows",
        )


def data_window(
    path: str | Path, mapping: ColumnMapping | dict[str, Any] | str | None = None
) -> tuple[date, date] | None:
    """The first and last order date of the accepted lines (sales and returns) of a source, or
    None when it cannot be loaded at all (the load itself then says why)."""
    try:
        result = load_orders(path, mapping, on_error="quarantine", max_rejected=1.0)
    except SourceError:
        return None
    days = pd.concat([result.orders["order_date"], result.returns["order_date"]])
    if days.empty:
        return None
    return days.min().date(), days.max().date()


def _load(
    con: duckdb.DuckDBPyConnection,
    selected: list[SourceFile],
    skipped: list[Path],
    mapping: ColumnMapping,
    on_error: OnError,
    start: date | None,
    end: date | None,
) -> LoadResult:
    warnings: list[str] = []
    reads: list[tuple[int, FileRead, bool]] = []
    problems: list[dict[str, Any]] = []  # file-level and structural (DuckDB rejects)
    structural_rows = 0  # rows DuckDB rejected in files in scope
    outside_rejects = 0  # ... and in files outside the range
    unreadable: list[dict[str, Any]] = []  # files that are no table at all
    outcomes = read_files(con, selected, mapping)
    for index, (sf, read) in enumerate(zip(selected, outcomes, strict=True)):
        file_in_scope = sf.day is None or _in_range(sf.day, start, end)
        if isinstance(read, SourceError):
            if not file_in_scope:
                warnings.append(f"{sf.path}: not read (outside the range): {read}")
                continue
            if read.columns_found is not None:
                raise read  # a missing required column always stops the load
            unreadable.append(
                {
                    "_file_idx": index,
                    "_seq": -1,
                    "file": str(sf.path),
                    "row": read.row,
                    "column": read.column,
                    "value": read.value,
                    "reason": read.reason,
                }
            )
            continue
        warnings.extend(read.warnings)
        n_rejected = read.rows_read - read.table.num_rows
        if file_in_scope:
            structural_rows += n_rejected
            problems.extend({"_file_idx": index, "_seq": -1, **p} for p in read.problems)
        else:
            outside_rejects += n_rejected
        reads.append((index, read, file_in_scope))
    if unreadable:
        # How many of such a file's rows are bad is unknown: no policy can load around it.
        raise SourceError.refused(
            _finish_problems(pd.DataFrame(unreadable)),
            f"{len(unreadable)} file(s) cannot be read as a table",
        )

    raw = _concat(reads)
    con.register("raw", raw)
    date_formats = {}
    for field in ("order_ts", "order_date"):
        column = next((r.columns[field] for _, r, _ in reads if field in r.columns), None)
        if column is not None:
            label, formats, warning = choose_date_format(con, field, column, mapping)
            date_formats[field] = (label, formats)
            warnings.extend([warning] if warning else [])
    numbers = number_format(mapping, _number_samples(con))
    con.execute(
        f"CREATE TEMP TABLE parsed AS {_parse_sql(mapping, date_formats, numbers, start, end)}"
    )
    con.unregister("raw")

    column_of = {
        (index, field): col for index, read, _ in reads for field, col in read.columns.items()
    }
    for index, read, _ in reads:  # a derived unit price is reported against the amount column
        if "unit_price" not in read.columns and "amount" in read.columns:
            column_of[(index, "unit_price")] = read.columns["amount"]

    # 1. Values that do not parse (rows in scope only).
    errors = ", ".join(f"{f}_err" for f in _CHECKED)
    bad = _fetch(
        con,
        f"SELECT _seq, _file_idx, _file, _row, {errors} FROM parsed WHERE has_err AND in_scope "
        "ORDER BY _seq",
    )
    value_problems = _parse_problems(bad, raw, column_of)
    # 2. Rules on the parsed lines (pandera): the lines in scope, plus the lines outside it that
    #    share an (order_id, line_number) with one of them, so that duplicates across days are
    #    judged the same way by a daily load as by a full one (the first in file order wins).
    clean = _fetch(con, _clean_sql(ranged=start is not None or end is not None))
    rule_problems, rule_bad = _rule_problems(clean, raw, column_of)
    value_problems = pd.concat([value_problems, rule_problems], ignore_index=True)

    all_problems = pd.concat(
        [pd.DataFrame(problems, columns=["_file_idx", "_seq", *REJECTED_COLUMNS]), value_problems],
        ignore_index=True,
    )
    all_problems = _finish_problems(all_problems)
    rejected_rows = structural_rows + int(value_problems["_seq"].nunique())
    if on_error == "fail" and len(all_problems):
        raise SourceError.from_problems(all_problems, rows_rejected=rejected_rows)

    good = clean.loc[~rule_bad & clean["in_scope"]]
    sales = good.loc[~good["is_return"]]
    orders = _contract(sales)
    returns = _returns(good.loc[good["is_return"]])
    out_of_range_days = (
        _fetch(con, "SELECT order_date, count(*) AS n FROM parsed WHERE NOT in_scope GROUP BY ALL")
        .set_index("order_date")["n"]
        .sort_index()
    )
    out_of_range = con.execute("SELECT count(*) FROM parsed WHERE NOT in_scope").fetchall()[0][0]
    con.execute("DROP TABLE parsed")

    counts = {
        "files": len(reads),
        "files_skipped": len(skipped),
        "rows_read": raw.num_rows + structural_rows + outside_rejects,
        "orders": len(orders),
        "returns": len(returns),
        "rejected_rows": rejected_rows,
        "problems": len(all_problems),
        "out_of_range": int(out_of_range) + outside_rejects,
    }
    return LoadResult(
        orders=orders,
        rejected=all_problems,
        returns=returns,
        files=[sf.path for sf in selected],
        skipped_files=skipped,
        counts=counts,
        columns={str(r.file.path): dict(r.columns) for _, r, _ in reads},
        date_formats={f: label for f, (label, _) in date_formats.items()},
        product_attributes=_product_attributes(sales),
        warnings=warnings,
        number_format=numbers.label,
        out_of_range_days=out_of_range_days,
        empty_days=sorted(
            {r.file.day for _, r, in_scope in reads if in_scope and r.file.day and not r.rows_read}
        ),
    )


def _number_samples(con: duckdb.DuckDBPyConnection) -> list[str]:
    """An even sample of the values of the number columns, to detect their format."""
    total = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    step = max(1, -(-total // _NUMBER_SAMPLE))
    rows = con.execute(
        f"SELECT unnest([quantity, unit_price, amount]) AS v FROM raw WHERE _seq % {step} = 0"
    ).fetchall()
    return [v for (v,) in rows if v]


def _product_attributes(sales: pd.DataFrame) -> pd.DataFrame:
    """Per product of the accepted sales lines, its most frequent name and category (ties: the
    first seen)."""
    attributes = pd.DataFrame(index=pd.Index(sales["product_id"].unique(), name="product_id"))
    for out, column in (("name", "product_name"), ("category", "category")):
        pairs = sales[["product_id", column, "_seq"]].dropna()
        mode = (
            pairs.groupby(["product_id", column], observed=True)
            .agg(n=("_seq", "size"), first=("_seq", "min"))
            .reset_index()
            .sort_values(["n", "first"], ascending=[False, True], kind="stable")
            .drop_duplicates("product_id")
            .set_index("product_id")[column]
        )
        attributes[out] = mode.reindex(attributes.index)
    return attributes.reset_index().astype(S.STRING)


def _string_type(t: pa_arrow.DataType) -> bool:
    return (
        pa_arrow.types.is_string(t)
        or pa_arrow.types.is_large_string(t)
        or pa_arrow.types.is_string_view(t)
    )


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run `sql` and return pandas with ``string[pyarrow]`` text and ``datetime64[ns]`` times."""
    table = con.sql(sql).to_arrow_table()
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


def _concat(reads: list[tuple[int, FileRead, bool]]) -> pa_arrow.Table:
    """One Arrow table of every file's text columns plus where each row came from."""
    tables = []
    for index, read, in_scope in reads:
        n = read.table.num_rows
        extra = {
            "_file": pa_arrow.array([str(read.file.path)] * n, pa_arrow.string()),
            "_file_rel": pa_arrow.array([read.file.relpath] * n, pa_arrow.string()),
            "_file_idx": pa_arrow.array(np.full(n, index, dtype=np.int32)),
            "_file_day": pa_arrow.array([read.file.day] * n, pa_arrow.date32()),
            "_scope_file": pa_arrow.array(np.full(n, in_scope, dtype=bool)),
        }
        for field in FIELDS:
            extra[f"_m_{field}"] = pa_arrow.array(np.full(n, field in read.columns, dtype=bool))
        table = read.table
        for name, array in extra.items():
            table = table.append_column(name, array)
        tables.append(table)
    if not tables:
        fields = [pa_arrow.field(f, pa_arrow.string()) for f in FIELDS]
        fields += [
            pa_arrow.field("_row", pa_arrow.int64()),
            pa_arrow.field("_file", pa_arrow.string()),
            pa_arrow.field("_file_rel", pa_arrow.string()),
            pa_arrow.field("_file_idx", pa_arrow.int32()),
            pa_arrow.field("_file_day", pa_arrow.date32()),
            pa_arrow.field("_scope_file", pa_arrow.bool_()),
        ]
        fields += [pa_arrow.field(f"_m_{f}", pa_arrow.bool_()) for f in FIELDS]
        table = pa_arrow.schema(fields).empty_table()
    else:
        table = pa_arrow.concat_tables(tables, promote_options="permissive")
    return table.append_column("_seq", pa_arrow.array(np.arange(table.num_rows, dtype=np.int64)))


def _trimmed(field: str) -> str:
    return f"NULLIF(trim({field}), '')"


def _parse_sql(
    mapping: ColumnMapping,
    date_formats: dict[str, tuple[str, tuple[str, ...]]],
    numbers: NumberFormat,
    start: date | None,
    end: date | None,
) -> str:
    """One query: trimmed text -> typed fields, derived fields, a reason column per field, and
    whether the row is in the requested range (by its order date, else by its file's date).

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
    has_err = " OR ".join(f"{f}_err IS NOT NULL" for f in _CHECKED)
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
            {date_sql("order_ts_v", ts_fmt)} AS ts_val,
            {date_sql("order_date_v", d_fmt)} AS d_val,
            row_number() OVER (PARTITION BY _file_idx, oid ORDER BY _seq) AS ln_derived
        FROM stripped
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
            lower(status_v) AS status_l
        FROM n
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
            coalesce(p_ok, abs(a_ok) / NULLIF(abs(q_ok), 0)) AS unit_price,
            coalesce(a_ok, q_ok * p_ok) AS amount,
            category_v AS category,
            product_name_v AS product_name,
            status_l AS status,
            (coalesce(q_ok < 0, false) OR coalesce(status_l IN ({statuses}), false)) AS is_return,
            CASE WHEN q_ok < 0 THEN '{RETURN_BY_QUANTITY}'
                 WHEN status_l IN ({statuses}) THEN '{RETURN_BY_STATUS} ' || status_l
            END AS return_reason,
            CASE WHEN oid IS NULL THEN '{MISSING}' END AS order_id_err,
            CASE WHEN NOT _m_line_number THEN NULL
                 WHEN line_number_v IS NULL THEN '{MISSING}'
                 WHEN ln_num IS NULL THEN '{NOT_A_NUMBER}'
                 WHEN ln_ok IS NULL THEN '{BAD_LINE}' END AS line_number_err,
            CASE WHEN NOT _m_order_ts THEN NULL
                 WHEN order_ts_v IS NULL THEN '{MISSING}'
                 WHEN ts_val IS NULL THEN '{BAD_DATE}'
                 WHEN ts_ok IS NULL THEN '{DATE_RANGE}' END AS order_ts_err,
            CASE WHEN NOT _m_order_date THEN NULL
                 WHEN order_date_v IS NULL THEN '{MISSING}'
                 WHEN d_val IS NULL THEN '{BAD_DATE}'
                 WHEN d_ok IS NULL THEN '{DATE_RANGE}' END AS order_date_err,
            CASE WHEN product_id_v IS NULL THEN '{MISSING}' END AS product_id_err,
            CASE WHEN quantity_v IS NULL THEN '{MISSING}'
                 WHEN q_num IS NULL OR NOT isfinite(q_num) THEN '{NOT_A_NUMBER}'
                 WHEN q_num <> floor(q_num) THEN '{NOT_WHOLE}'
                 WHEN q_ok IS NULL THEN '{OUT_OF_RANGE}' END AS quantity_err,
            CASE WHEN NOT _m_unit_price THEN NULL
                 WHEN unit_price_v IS NULL AND amount_v IS NULL THEN '{MISSING}'
                 WHEN unit_price_v IS NOT NULL AND p_ok IS NULL THEN '{NOT_A_NUMBER}' END
                 AS unit_price_err,
            CASE WHEN NOT _m_amount THEN NULL
                 WHEN amount_v IS NULL AND NOT _m_unit_price THEN '{MISSING}'
                 WHEN amount_v IS NOT NULL AND a_ok IS NULL THEN '{NOT_A_NUMBER}' END AS amount_err
        FROM t
    )
    SELECT *,
        ({has_err}) AS has_err,
        CASE WHEN order_date IS NOT NULL THEN ({in_range}) ELSE _scope_file END AS in_scope
    FROM typed
    """


_NUMBERS = ("quantity", "unit_price", "amount")
_LINE_COLUMNS = (
    "_seq, _file_idx, _file, _row, in_scope, order_id, line_number, order_ts, order_date, "
    "customer_id, product_id, quantity, unit_price, amount, status, is_return, return_reason, "
    "category, product_name"
)


def _clean_sql(*, ranged: bool) -> str:
    if not ranged:
        return f"SELECT {_LINE_COLUMNS} FROM parsed WHERE NOT has_err ORDER BY _seq"
    return f"""
    WITH keys AS (
        SELECT DISTINCT order_id, line_number FROM parsed WHERE in_scope AND NOT has_err
    )
    SELECT {_LINE_COLUMNS} FROM parsed p
    WHERE NOT has_err AND (in_scope OR EXISTS (
        SELECT 1 FROM keys k WHERE k.order_id = p.order_id AND k.line_number = p.line_number))
    ORDER BY _seq
    """


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame(columns=["_file_idx", "_seq", *REJECTED_COLUMNS])


def _raw_values(raw: pa_arrow.Table, fields: pd.Series, seqs: pd.Series) -> list[Any]:
    """The text as read (untrimmed) of `fields` at row positions `seqs` of the raw table."""
    values: list[Any] = [None] * len(seqs)
    fields_arr, seqs_arr = np.asarray(fields, dtype=object), np.asarray(seqs, dtype=np.int64)
    for field in pd.unique(fields_arr):
        if field not in raw.column_names:
            continue
        where = np.flatnonzero(fields_arr == field)
        taken = raw.column(field).take(pa_arrow.array(seqs_arr[where])).to_pylist()
        for position, value in zip(where, taken, strict=True):
            values[position] = value
    return values


def _parse_problems(
    bad: pd.DataFrame, raw: pa_arrow.Table, column_of: dict[tuple[int, str], str]
) -> pd.DataFrame:
    """Long frame of the parse-stage problems: one row per (row, field) that failed."""
    if bad.empty:
        return _empty_problems()
    long = bad.melt(
        id_vars=["_seq", "_file_idx", "_file", "_row"],
        value_vars=[f"{f}_err" for f in _CHECKED],
        var_name="field",
        value_name="reason",
    ).dropna(subset=["reason"])
    long["field"] = long["field"].str.removesuffix("_err")
    long = long.sort_values(["_seq", "field"], key=_field_order, kind="stable")
    return pd.DataFrame(
        {
            "_file_idx": long["_file_idx"].to_numpy(),
            "_seq": long["_seq"].to_numpy(),
            "file": long["_file"].astype(str).to_numpy(),
            "row": long["_row"].to_numpy(),
            "column": [
                column_of.get((int(i), f), f)
                for i, f in zip(long["_file_idx"], long["field"], strict=True)
            ],
            "value": _raw_values(raw, long["field"], long["_seq"]),
            "reason": long["reason"].astype(str).to_numpy(),
        }
    )


def _field_order(column: pd.Series) -> pd.Series:
    if column.name == "field":
        return column.map({f: i for i, f in enumerate(_CHECKED)})
    return column


def _rule_problems(
    clean: pd.DataFrame, raw: pa_arrow.Table, column_of: dict[tuple[int, str], str]
) -> tuple[pd.DataFrame, pd.Series]:
    """Run `LINES_SCHEMA` (pandera) on the parsed lines; failures of lines in scope become
    problems; returns them and a mask of every failing line."""
    bad = pd.Series(False, index=clean.index)
    if clean.empty:
        return _empty_problems(), bad
    try:
        S.LINES_SCHEMA.validate(clean, lazy=True)
        return _empty_problems(), bad
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    found: list[tuple[int, str, str]] = []
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if case.index is None or pd.isna(case.index):
            raise RuntimeError(f"order lines failed a table-level rule: {case}")  # a bug, not data
        if check == "multiple_fields_uniqueness":
            found.append((int(case.index), S.DUPLICATE_LINE, "line_number"))
        elif check == S.NEGATIVE_AMOUNT:
            if case.column == "amount":  # a wide check reports every column of the row: keep one
                found.append((int(case.index), check, "amount"))
        elif check in S.RULE_FIELD:
            found.append((int(case.index), check, S.RULE_FIELD[check] or str(case.column)))
        else:
            raise RuntimeError(f"unexpected pandera failure on order lines: {case}")
    table = pd.DataFrame(found, columns=["idx", "reason", "field"]).drop_duplicates(
        ["idx", "reason"]
    )
    bad.loc[table["idx"].to_numpy()] = True
    part = clean.loc[table["idx"].to_numpy()].reset_index(drop=True)
    table = table.reset_index(drop=True)
    file_idx = part["_file_idx"].astype(int).to_numpy()
    # A derived amount (quantity x unit price) is only negative because the price is: report the
    # price alone. And only lines in scope are reported.
    derived = np.array([(i, "amount") not in column_of for i in file_idx], dtype=bool)
    keep = part["in_scope"].to_numpy(dtype=bool) & ~(
        (table["reason"] == S.NEGATIVE_AMOUNT).to_numpy() & derived
    )
    part, table, file_idx = part.loc[keep], table.loc[keep], file_idx[keep]
    fields = table["field"].to_numpy(dtype=object)
    values = _raw_values(raw, pd.Series(fields), part["_seq"])
    reasons = table["reason"].astype(str).to_numpy(dtype=object)
    duplicated = reasons == S.DUPLICATE_LINE
    if duplicated.any():
        first = _first_occurrence(clean)
        for k in np.flatnonzero(duplicated):
            line = part.iloc[k]
            key = (str(line["order_id"]), int(line["line_number"]))
            f_file, f_row = first[key]
            if (int(line["_file_idx"]), "line_number") not in column_of:
                fields[k] = "order_id"
            values[k] = f"order {key[0]} line {key[1]}"
            reasons[k] = f"{S.DUPLICATE_LINE}: first seen at {f_file} row {f_row}"
    problems = pd.DataFrame(
        {
            "_file_idx": file_idx,
            "_seq": part["_seq"].to_numpy(),
            "file": part["_file"].astype(str).to_numpy(),
            "row": part["_row"].to_numpy(),
            "column": [
                column_of.get((int(i), f), f) for i, f in zip(file_idx, fields, strict=True)
            ],
            "value": values,
            "reason": reasons,
        }
    )
    return problems, bad


def _first_occurrence(clean: pd.DataFrame) -> dict[tuple[str, int], tuple[str, int]]:
    dup = clean.duplicated(["order_id", "line_number"], keep=False)
    firsts = clean.loc[dup].drop_duplicates(["order_id", "line_number"], keep="first")
    return {
        (str(o), int(n)): (str(f), int(r))
        for o, n, f, r in zip(
            firsts["order_id"], firsts["line_number"], firsts["_file"], firsts["_row"], strict=True
        )
    }


def _finish_problems(problems: pd.DataFrame) -> pd.DataFrame:
    """Sort by file order then row, and give the `rejected` columns their dtypes."""
    if problems.empty:
        out = pd.DataFrame({c: pd.Series(dtype=S.STRING) for c in REJECTED_COLUMNS})
        out["row"] = out["row"].astype("Int64")
        return out
    problems = problems.assign(
        _order=np.arange(len(problems)),
        _rowkey=pd.to_numeric(problems["row"], errors="coerce").fillna(0),
    )
    problems = problems.sort_values(["_file_idx", "_rowkey", "_order"], kind="stable")
    out = problems[REJECTED_COLUMNS].reset_index(drop=True)
    out["row"] = pd.to_numeric(out["row"], errors="coerce").astype("Int64")
    for col in ("file", "column", "value", "reason"):
        out[col] = out[col].map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
        out[col] = out[col].astype(S.STRING)
    return out


def _contract(sales: pd.DataFrame) -> pd.DataFrame:
    orders = sales[ORDER_COLUMNS].astype(S.ORDERS_DTYPES)
    orders = orders.sort_values(["order_ts", "order_id", "line_number"], kind="stable")
    return S.ORDERS_SCHEMA.validate(orders.reset_index(drop=True))


def _returns(lines: pd.DataFrame) -> pd.DataFrame:
    out = lines[[*ORDER_COLUMNS, "status", "_file", "_row", "return_reason"]].set_axis(
        RETURNS_COLUMNS, axis=1
    )
    out = out.astype(
        {
            **S.ORDERS_DTYPES,
            "status": S.STRING,
            "file": S.STRING,
            "row": "Int64",
            "reason": S.STRING,
        }
    )
    return out.sort_values(["order_ts", "order_id", "line_number"], kind="stable").reset_index(
        drop=True
    )
