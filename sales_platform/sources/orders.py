"""Load the user's order lines from CSV/Parquet files into the `orders` contract.

Pipeline: find the files (`files.discover`) -> read each with DuckDB as text (`reader`) -> parse
every field in one DuckDB query (numbers, dates, derived fields; a value that does not parse is a
problem at its file/row/column) -> check the parsed lines with pandera (`schema.LINES_SCHEMA`:
zero quantities, negative prices/amounts, duplicated order lines) -> split returns from sales ->
keep the days asked for. Nothing is ever written: the result lives in memory.
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
from .errors import SourceError
from .files import SourceFile, discover
from .mapping import FIELDS, ColumnMapping
from .reader import FileRead, _lit, read_files

OnError = Literal["fail", "quarantine"]

#: Returns and cancellations: a line is one when its quantity is negative, or when its status
#: (trimmed, case-insensitive) is one of `ColumnMapping.return_statuses`. Such lines are NOT in
#: `orders` (sales are never netted against returns, so revenue stays gross sales); they are in
#: `LoadResult.returns`, counted in ``counts["returns"]``.
RETURN_BY_QUANTITY = "negative quantity"
RETURN_BY_STATUS = "status"

#: Common date layouts tried (as groups) when dates are not ISO 8601 and no `date_format` is set.
#: Two-digit-year layouts come first in a group: DuckDB reads ``1/5/25`` with ``%Y`` as the year 25,
#: while ``%y`` never matches a four-digit year.
DATE_FORMAT_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "month-first %m/%d/%Y",
        (
            "%m/%d/%y %H:%M:%S",
            "%m/%d/%y %H:%M",
            "%m/%d/%y",
            "%m/%d/%Y %H:%M:%S",
            "%m/%d/%Y %H:%M",
            "%m/%d/%Y",
            "%m/%d/%Y %I:%M:%S %p",
            "%m/%d/%Y %I:%M %p",
        ),
    ),
    (
        "day-first %d/%m/%Y",
        (
            "%d/%m/%y %H:%M:%S",
            "%d/%m/%y %H:%M",
            "%d/%m/%y",
            "%d/%m/%Y %H:%M:%S",
            "%d/%m/%Y %H:%M",
            "%d/%m/%Y",
        ),
    ),
    (
        "day-first %d.%m.%Y",
        ("%d.%m.%y %H:%M", "%d.%m.%y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"),
    ),
    ("day-first %d-%m-%Y", ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y")),
    ("year-first %Y/%m/%d", ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")),
    ("compact %Y%m%d", ("%Y%m%d", "%Y%m%d %H%M%S", "%Y%m%dT%H%M%S", "%Y%m%d%H%M%S")),
    (
        "month name",
        (
            "%d %b %Y",
            "%d %B %Y",
            "%b %d, %Y",
            "%B %d, %Y",
            "%d-%b-%Y",
            "%d %b %Y %H:%M",
            "%d-%b-%Y %H:%M:%S",
        ),
    ),
)
ISO = "ISO 8601"
_DATE_SAMPLE = 2_000  # values (evenly spread over the load) looked at to choose a date format
_MIN_YEAR, _MAX_YEAR = 1970, 2100

# Parse-stage reasons.
MISSING = "missing value"
NOT_A_NUMBER = "not a number"
NOT_WHOLE = "not a whole number"
OUT_OF_RANGE = "number out of range"
BAD_DATE = "unparseable date"
DATE_RANGE = f"date out of range ({_MIN_YEAR}-{_MAX_YEAR})"
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

    @property
    def rejected_by_reason(self) -> dict[str, int]:
        """Problems per reason (the text before any ``:`` detail), most frequent first."""
        reasons = self.rejected["reason"].astype(str).str.split(":").str[0]
        return dict(Counter(reasons).most_common())

    def metadata(self) -> dict[str, Any]:
        """Plain JSON-able summary for Dagster metadata."""
        return {
            **{k: int(v) for k, v in self.counts.items()},
            "rejected_by_reason": self.rejected_by_reason,
            "date_formats": dict(self.date_formats),
            "files_read": [str(f) for f in self.files[:50]],
            "skipped_files": [str(f) for f in self.skipped_files[:50]],
            "warnings": list(self.warnings[:20]),
        }


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
    - Every other problem (unparseable date, non-numeric or zero quantity, negative price,
      negative amount on a sale, duplicated ``(order_id, line_number)`` -- the first one wins --,
      bytes that are not UTF-8, a row with the wrong number of fields, an empty file, a file that is
      not CSV/Parquet at all): with ``on_error="fail"`` (default) nothing is returned and
      `SourceError` lists the problems (file, row, column, value, reason); with
      ``on_error="quarantine"`` the rows with problems are in ``rejected`` and the others load.

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
        return _load(con, selected, skipped, mapping, on_error, start, end)
    finally:
        con.close()


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
    file_errors = 0
    outcomes = read_files(con, selected, mapping)
    for index, (sf, read) in enumerate(zip(selected, outcomes, strict=True)):
        file_in_scope = sf.day is None or _in_range(sf.day, start, end)
        if isinstance(read, SourceError):
            if not file_in_scope:
                warnings.append(f"{sf.path}: not read (outside the range): {read}")
                continue
            if read.columns_found is not None:
                raise read  # a missing required column always stops the load
            file_errors += 1
            problems.append(
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

    raw = _concat(reads)
    con.register("raw", raw)
    date_formats = {
        field: _choose_date_format(con, field, mapping)
        for field in ("order_ts", "order_date")
        if any(field in r.columns for _, r, _ in reads)
    }
    con.execute(f"CREATE TEMP TABLE parsed AS {_parse_sql(mapping, date_formats, start, end)}")
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
    orders = _contract(good.loc[~good["is_return"]])
    returns = _returns(good.loc[good["is_return"]])
    attributes = _fetch(con, _ATTRIBUTES_SQL).astype(S.STRING)
    out_of_range = con.execute("SELECT count(*) FROM parsed WHERE NOT in_scope").fetchall()[0][0]
    con.execute("DROP TABLE parsed")

    counts = {
        "files": len(reads) + file_errors,
        "files_skipped": len(skipped),
        "rows_read": raw.num_rows + structural_rows + outside_rejects,
        "orders": len(orders),
        "returns": len(returns),
        "rejected_rows": rejected_rows,
        "rejected_files": file_errors,
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
        product_attributes=attributes,
        warnings=warnings,
    )


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


def _choose_date_format(
    con: duckdb.DuckDBPyConnection, field: str, mapping: ColumnMapping
) -> tuple[str, tuple[str, ...]]:
    """(label, formats) for a date field: the user's format, ISO only, or the best-fitting family.

    Looks at an even sample of the values that are not ISO 8601. The family that parses most of
    them wins; ties go to the family whose dates agree with the dates in the file names, then to
    the earlier family (month-first before day-first). Its formats are tried most frequent first.
    """
    if mapping.date_format:
        try:
            con.execute(
                f"SELECT try_strptime('2025-01-31', {_lit(mapping.date_format)})"
            ).fetchall()
        except duckdb.Error as exc:
            raise SourceError(f"invalid date_format {mapping.date_format!r}: {exc}") from exc
        return mapping.date_format, (mapping.date_format,)
    total = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    step = max(1, -(-total // _DATE_SAMPLE))
    # Two statements: in one, DuckDB would try the cast on every row before sampling.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sample AS SELECT {field} AS v, _file_day FROM raw "
        f"WHERE _m_{field} AND _seq % {step} = 0"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _dates AS SELECT v, _file_day FROM ("
        f"SELECT {_trimmed('v')} AS v, _file_day FROM _sample"
        ") WHERE v IS NOT NULL AND TRY_CAST(v AS TIMESTAMPTZ) IS NULL"
    )
    con.execute("DROP TABLE _sample")
    try:
        if con.execute("SELECT count(*) FROM _dates").fetchall()[0][0] == 0:
            return ISO, ()
        lists = ["[" + ", ".join(_lit(f) for f in fmts) + "]" for _, fmts in DATE_FORMAT_FAMILIES]
        parsed = ", ".join(f"count({_valid(f'try_strptime(v, {fl})')})" for fl in lists)
        counts = con.execute(f"SELECT {parsed} FROM _dates").fetchall()[0]
        top = max(counts)
        if top == 0:
            return ISO, ()
        tied = [i for i, n in enumerate(counts) if n == top]
        if len(tied) > 1:
            agree = ", ".join(
                f"count(CASE WHEN abs(date_diff('day', try_strptime(v, {lists[i]})::DATE, "
                f"_file_day)) <= 1 THEN 1 END)"
                for i in tied
            )
            matches = con.execute(f"SELECT {agree} FROM _dates").fetchall()[0]
            tied = [i for _, i in sorted(zip(matches, tied, strict=True), key=lambda m: -m[0])]
        label, formats = DATE_FORMAT_FAMILIES[tied[0]]
        each = ", ".join(f"count({_valid(f'try_strptime(v, {_lit(f)})')})" for f in formats)
        per_format = con.execute(f"SELECT {each} FROM _dates").fetchall()[0]
        ranked_formats = sorted(zip(per_format, formats, strict=True), key=lambda m: -m[0])
        ordered = [f for _, f in ranked_formats]  # stable: ties keep the family's order
        return label, tuple(ordered)
    finally:
        con.execute("DROP TABLE IF EXISTS _dates")


def _valid(expr: str) -> str:
    """`expr` (a timestamp) when its year is plausible for an order, else NULL."""
    return f"CASE WHEN year({expr}) BETWEEN {_MIN_YEAR} AND {_MAX_YEAR} THEN 1 END"


def _date_expr(value: str, formats: tuple[str, ...]) -> str:
    iso = f"TRY_CAST(TRY_CAST({value} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if not formats:
        return iso
    fmts = "[" + ", ".join(_lit(f) for f in formats) + "]"
    return f"coalesce(TRY_CAST(try_strptime({value}, {fmts}) AS TIMESTAMP), {iso})"


def _parse_sql(
    mapping: ColumnMapping,
    date_formats: dict[str, tuple[str, tuple[str, ...]]],
    start: date | None,
    end: date | None,
) -> str:
    """One query: trimmed text -> typed fields, derived fields, a reason column per field, and
    whether the row is in the requested range (by its order date, else by its file's date)."""
    trimmed = ", ".join(f"{_trimmed(f)} AS {f}_v" for f in FIELDS)
    money = "regexp_replace({0}, '^[$€£¥]\\s*|\\s*[$€£¥]$', '')"
    ts_fmt = date_formats.get("order_ts", (ISO, ()))[1]
    d_fmt = date_formats.get("order_date", (ISO, ()))[1]
    statuses = ", ".join(_lit(s.strip().lower()) for s in mapping.return_statuses) or "NULL"
    in_years = f"BETWEEN {_MIN_YEAR} AND {_MAX_YEAR}"
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
    }, {trimmed} FROM raw
    ), n AS MATERIALIZED (
        SELECT *,
            TRY_CAST(line_number_v AS DOUBLE) AS ln_num,
            TRY_CAST(quantity_v AS DOUBLE) AS q_num,
            TRY_CAST({money.format("unit_price_v")} AS DOUBLE) AS p_num,
            TRY_CAST({money.format("amount_v")} AS DOUBLE) AS a_num,
            {_date_expr("order_ts_v", ts_fmt)} AS ts_val,
            {_date_expr("order_date_v", d_fmt)} AS d_val,
            row_number() OVER (PARTITION BY _file_idx, order_id_v ORDER BY _seq) AS ln_derived
        FROM s
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
            order_id_v AS order_id,
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
            CASE WHEN order_id_v IS NULL THEN '{MISSING}' END AS order_id_err,
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


_LINE_COLUMNS = (
    "_seq, _file_idx, _file, _row, in_scope, order_id, line_number, order_ts, order_date, "
    "customer_id, product_id, quantity, unit_price, amount, status, is_return, return_reason"
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


# Per product, the most frequent name and category on its parsed lines in scope (ties: first).
_ATTRIBUTES_SQL = """
WITH lines AS (SELECT * FROM parsed WHERE NOT has_err AND in_scope),
names AS (
    SELECT product_id, product_name AS v, count(*) AS n, min(_seq) AS s
    FROM lines WHERE product_name IS NOT NULL GROUP BY ALL
),
cats AS (
    SELECT product_id, category AS v, count(*) AS n, min(_seq) AS s
    FROM lines WHERE category IS NOT NULL GROUP BY ALL
),
ids AS (SELECT product_id, min(_seq) AS s FROM lines GROUP BY ALL)
SELECT ids.product_id,
    (SELECT first(v ORDER BY n DESC, s) FROM names WHERE names.product_id = ids.product_id) AS name,
    (SELECT first(v ORDER BY n DESC, s) FROM cats WHERE cats.product_id = ids.product_id)
        AS category
FROM ids ORDER BY ids.s
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
