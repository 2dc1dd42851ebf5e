"""Which date layout a column is written in, detected from its values (or set in the mapping).

ISO 8601 needs nothing. Other values are matched against families of common layouts (month-first,
day-first, two-digit years...). The family that reads most of a sample of the values as plausible
order dates wins: a day above 12 settles day-first against month-first, a date in the future
settles ``yy-mm-dd`` against ``dd-mm-yy``. When nothing settles it, the dates in the file names
decide, then the family order, and the load says so (a warning naming the mapping key that
settles it).
"""

from __future__ import annotations

from typing import Any

import duckdb

from .errors import SourceError
from .mapping import ColumnMapping

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
    ("year-first %y-%m-%d", ("%y-%m-%d %H:%M:%S", "%y-%m-%d %H:%M", "%y-%m-%d")),
    (
        "day-first %d-%m-%Y",
        ("%d-%m-%y %H:%M", "%d-%m-%y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y"),
    ),
    (
        "month-first %m-%d-%Y",
        ("%m-%d-%y %H:%M", "%m-%d-%y", "%m-%d-%Y %H:%M:%S", "%m-%d-%Y %H:%M", "%m-%d-%Y"),
    ),
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
#: ISO 8601 starts with a four-digit year; DuckDB's cast alone would also read ``03/01/19``.
ISO_PREFIX = r"^\d{4}-\d{1,2}-\d{1,2}"
SAMPLE_SIZE = 2_000  # values (evenly spread over the load) looked at to choose a date format
MIN_YEAR, MAX_YEAR = 1970, 2100


def sql_text(text: Any) -> str:
    """`text` as a SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _formats_list(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_text(f) for f in formats) + "]"


def _plausible(expr: str) -> str:
    """1 when timestamp `expr` can be an order date (1970 up to a year from now), else NULL."""
    return (
        f"CASE WHEN year({expr}) >= {MIN_YEAR} "
        f"AND {expr} <= current_date + INTERVAL 366 DAY THEN 1 END"
    )


def iso_sql(value: str) -> str:
    """A DuckDB expression: `value` as an ISO 8601 timestamp (UTC, tz-naive), else NULL.

    An offset written after a space (``2025-10-07 09:50:26 +0200``, as Shopify exports) reads as
    one written without it."""
    joined = f"replace(replace({value}, ' +', '+'), ' -', '-')"
    return (
        f"CASE WHEN regexp_matches({value}, '{ISO_PREFIX}') "
        f"THEN TRY_CAST(TRY_CAST({joined} AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )


def date_sql(value: str, formats: tuple[str, ...]) -> str:
    """A DuckDB expression: text `value` as a timestamp in one of `formats`, else ISO 8601."""
    if not formats:
        return iso_sql(value)
    return (
        f"coalesce(TRY_CAST(try_strptime({value}, {_formats_list(formats)}) AS TIMESTAMP), "
        f"{iso_sql(value)})"
    )


def choose_date_format(
    con: duckdb.DuckDBPyConnection, field: str, column: str, mapping: ColumnMapping
) -> tuple[str, tuple[str, ...], str | None]:
    """(label, formats, warning) for the date field `field` of table ``raw`` (the user's
    `column`): the user's format, ISO only, or the best-fitting family, most used format first.

    `warning` says when the values fit several families equally well and neither the values nor
    the file names settled it.
    """
    if mapping.date_format:
        try:
            con.execute(
                f"SELECT try_strptime('2025-01-31', {sql_text(mapping.date_format)})"
            ).fetchall()
        except duckdb.Error as exc:
            raise SourceError(f"invalid date_format {mapping.date_format!r}: {exc}") from exc
        return mapping.date_format, (mapping.date_format,), None
    total = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    step = max(1, -(-total // SAMPLE_SIZE))
    # Two statements: in one, DuckDB would try the cast on every row before sampling.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sample AS SELECT {field} AS v, _file_day FROM raw "
        f"WHERE _m_{field} AND _seq % {step} = 0"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _dates AS SELECT v, _file_day FROM ("
        "SELECT NULLIF(trim(v), '') AS v, _file_day FROM _sample"
        f") WHERE v IS NOT NULL AND {iso_sql('v')} IS NULL"
    )
    con.execute("DROP TABLE _sample")
    try:
        if con.execute("SELECT count(*) FROM _dates").fetchall()[0][0] == 0:
            return ISO, (), None
        lists = [_formats_list(fmts) for _, fmts in DATE_FORMAT_FAMILIES]
        parsed = ", ".join(f"count({_plausible(f'try_strptime(v, {fl})')})" for fl in lists)
        counts = con.execute(f"SELECT {parsed} FROM _dates").fetchall()[0]
        top = max(counts)
        if top == 0:
            return ISO, (), None
        tied = [i for i, n in enumerate(counts) if n == top]
        warning = None
        if len(tied) > 1:
            agree = ", ".join(
                f"count(CASE WHEN abs(date_diff('day', try_strptime(v, {lists[i]})::DATE, "
                f"_file_day)) <= 1 THEN 1 END)"
                for i in tied
            )
            matches = con.execute(f"SELECT {agree} FROM _dates").fetchall()[0]
            ranked = sorted(zip(matches, tied, strict=True), key=lambda m: -m[0])
            tied = [i for _, i in ranked]
            if ranked[0][0] == ranked[1][0]:
                names = [DATE_FORMAT_FAMILIES[i][0] for i in tied]
                warning = (
                    f"column {column!r}: every date fits {' and '.join(names)} (no day above 12 "
                    f'settles it); read as {names[0]}. If that is wrong, set "date_format" in '
                    'SALES_SOURCE_MAPPING (e.g. \'{"date_format": "%d/%m/%y"}\')'
                )
        label, formats = DATE_FORMAT_FAMILIES[tied[0]]
        each = ", ".join(f"count({_plausible(f'try_strptime(v, {sql_text(f)})')})" for f in formats)
        per_format = con.execute(f"SELECT {each} FROM _dates").fetchall()[0]
        ranked_formats = sorted(zip(per_format, formats, strict=True), key=lambda m: -m[0])
        return label, tuple(f for _, f in ranked_formats), warning  # stable: ties keep order
    finally:
        con.execute("DROP TABLE IF EXISTS _dates")
