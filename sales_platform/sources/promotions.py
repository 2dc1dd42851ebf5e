"""The shop's own promotions from a CSV file (``SALES_PROMOTIONS_PATH``): one row per promotion.

A promotion is a dated event the shop plans ahead, so the forecaster may use it as a feature of
future days. The file needs a first and a last day (inclusive) and may name the promotion and
its scope (a category; empty for the whole shop)::

    start_date,end_date,scope,name
    2025-03-10,2025-03-16,,Spring sale
    2025-07-08,2025-07-10,Electronics,Tech days

Columns are matched case- and punctuation-insensitively (:data:`PROMOTION_ALIASES`: e.g. ``Start``,
``From``, ``Begin`` for the start; ``End``, ``To``, ``Until`` for the end; ``Category`` for the
scope; ``Promotion``, ``Description`` for the name). The delimiter is the first of ``, ; TAB |``
found in the header; the text is UTF-8 (a BOM is fine), else Windows-1252. Dates are ISO
(``2025-03-10``, a time after the date is ignored) or one common layout for the whole file
(``03/10/2025``, ``10/03/25``, ``10.03.2025``, ``10 Mar 2025``...; :data:`DATE_LAYOUTS`); when
both month-first and day-first read every date and disagree, the file must use ISO dates.

Bad rows are a :class:`~sales_platform.sources.SourceError` naming the file, the row (spreadsheet
numbering: the header is row 1) and the column: an unparseable or missing date, an end before the
start. Plain Python; no Dagster here.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .errors import MAX_LISTED, SourceError, describe_problem
from .mapping import normalize_name

__all__ = ["DATE_LAYOUTS", "PROMOTION_ALIASES", "PROMOTION_COLUMNS", "load_promotions"]

PROMOTION_COLUMNS: tuple[str, ...] = ("start_date", "end_date", "scope", "name")
"""The columns of the ``promotions`` table, in order."""

PROMOTION_ALIASES: dict[str, tuple[str, ...]] = {
    "start_date": (
        "startdate",
        "start",
        "from",
        "fromdate",
        "datefrom",
        "begin",
        "begindate",
        "startday",
        "firstday",
        "validfrom",
    ),
    "end_date": (
        "enddate",
        "end",
        "to",
        "todate",
        "dateto",
        "until",
        "untildate",
        "endday",
        "lastday",
        "validto",
        "validuntil",
    ),
    "scope": ("scope", "category", "productcategory", "series"),
    "name": (
        "name",
        "promotion",
        "promotionname",
        "promo",
        "promoname",
        "campaign",
        "event",
        "title",
        "description",
    ),
}
"""Our column -> the normalized header names (``normalize_name``) that mean it, preferred first."""

REQUIRED = ("start_date", "end_date")
#: A scope that means the whole shop (compared case-insensitively), besides an empty cell.
WHOLE_SHOP = frozenset({"", "all", "*", "total", "shop", "whole shop"})
DELIMITERS = (",", ";", "\t", "|")

#: Non-ISO date layouts, one family per way of writing a date; a file uses one family.
DATE_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("month-first %m/%d/%Y", ("%m/%d/%Y", "%m/%d/%y")),
    ("day-first %d/%m/%Y", ("%d/%m/%Y", "%d/%m/%y")),
    ("day-first %d.%m.%Y", ("%d.%m.%Y", "%d.%m.%y")),
    ("day-first %d-%m-%Y", ("%d-%m-%Y", "%d-%m-%y")),
    ("year-first %Y/%m/%d", ("%Y/%m/%d",)),
    ("compact %Y%m%d", ("%Y%m%d",)),
    (
        "month name",
        ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y"),
    ),
)
MIN_YEAR, MAX_YEAR = 1970, 2100

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_TRAILING_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp][Mm])?$")

BAD_DATE = "unparseable date"
DATE_RANGE = f"date out of range ({MIN_YEAR}-{MAX_YEAR})"
MISSING = "missing value"
END_BEFORE_START = "end date before start date"
ISO_HINT = "Write dates as ISO YYYY-MM-DD"


def empty_promotions() -> pd.DataFrame:
    """A promotions table without rows (a shop may have none)."""
    return pd.DataFrame(
        {
            "start_date": pd.Series([], dtype="datetime64[ns]"),
            "end_date": pd.Series([], dtype="datetime64[ns]"),
            "scope": pd.Series([], dtype=object),
            "name": pd.Series([], dtype=object),
        }
    )


def load_promotions(path: str | Path) -> pd.DataFrame:
    """The promotions of the CSV file ``path``: columns :data:`PROMOTION_COLUMNS`, by start date.

    ``start_date``/``end_date`` are ``datetime64[ns]`` at midnight (``end_date`` inclusive);
    ``scope`` is None for the whole shop (an empty cell, ``all``, ``*``, ``total``), else the
    category as written; ``name`` is None when absent. A header without rows gives an empty
    table. Raises :class:`SourceError` naming file, row and column for every bad row (up to
    ``MAX_LISTED`` listed), or the file when it cannot be read or lacks a column.
    """
    file = Path(path)
    if not file.is_file():
        raise SourceError.single(
            file,
            "promotions file not found" if not file.exists() else "not a file",
            hint="SALES_PROMOTIONS_PATH names one CSV file of promotions",
        )
    header, rows = _read_rows(file)
    columns = _resolve(header, file)
    records = []
    for row_number, cells in rows:
        records.append(
            {
                field: _cell(cells, columns[field]) if field in columns else ""
                for field in PROMOTION_COLUMNS
            }
            | {"_row": row_number}
        )
    if not records:
        return empty_promotions()
    raw = pd.DataFrame.from_records(records)

    problems: list[tuple[int, str, str, str]] = []  # row, column, reason, value
    non_iso = sorted({v for field in REQUIRED for v in raw[field] if v and not _ISO.match(v)})
    layout = _choose_layout(non_iso, file)
    dates = {
        field: _parse_dates(raw, field, header[columns[field]], layout, problems)
        for field in REQUIRED
    }
    start, end = dates["start_date"], dates["end_date"]
    reversed_ = start.notna() & end.notna() & (end < start)
    for i in raw.index[reversed_]:
        problems.append(
            (
                int(raw.at[i, "_row"]),
                header[columns["end_date"]],
                f"{END_BEFORE_START} {start[i].date().isoformat()}",
                raw.at[i, "end_date"],
            )
        )
    if problems:
        raise _error(file, problems)

    scope = raw["scope"].str.strip()
    frame = pd.DataFrame(
        {
            "start_date": start.astype("datetime64[ns]"),
            "end_date": end.astype("datetime64[ns]"),
            "scope": scope.where(~scope.str.lower().isin(WHOLE_SHOP), None).astype(object),
            "name": raw["name"].str.strip().replace("", None).astype(object),
        }
    )
    frame = frame.sort_values(["start_date", "end_date"], kind="stable")
    return frame.reset_index(drop=True)


def _read_rows(file: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows of ``file``, each with its spreadsheet row number."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = file.read_text(encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise SourceError.single(file, "not UTF-8 or Windows-1252 text")
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise SourceError.single(
            file, "empty file: no header", row=1, hint=_expected_columns_hint()
        )
    delimiter = next((d for d in DELIMITERS if d in first_line), ",")
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
        rows = []
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise SourceError.single(
            file, f"not a readable CSV file: {exc}", row=reader.line_num
        ) from exc
    return header, rows


def _expected_columns_hint() -> str:
    return (
        "A promotions file has a header with a start and an end date column (e.g. "
        "start_date,end_date,scope,name); accepted names: "
        + "; ".join(f"{field}: {', '.join(names)}" for field, names in PROMOTION_ALIASES.items())
    )


def _resolve(header: Sequence[str], file: Path) -> dict[str, int]:
    """Our column -> the index of the file's column (exact name first, then an alias)."""
    normalized = [normalize_name(name) for name in header]
    found: dict[str, int] = {}
    for field, aliases in PROMOTION_ALIASES.items():
        if field in header:
            found[field] = list(header).index(field)
            continue
        for alias in aliases:
            if alias in normalized and normalized.index(alias) not in found.values():
                found[field] = normalized.index(alias)
                break
    for field in REQUIRED:
        if field not in found:
            raise SourceError.single(
                file,
                f"no {field.replace('_', ' ')} column",
                row=1,
                hint=f"{_expected_columns_hint()}. Columns found: {list(header)}",
                columns_found=list(header),
            )
    return found


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def _strip_time(value: str) -> str:
    return _TRAILING_TIME.sub("", value).strip()


def _iso(value: str) -> dt.date | None:
    match = _ISO.match(value)
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _with_layout(value: str, formats: Sequence[str]) -> dt.date | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime(_strip_time(value), fmt).date()
        except ValueError:
            continue
    return None


def _choose_layout(values: list[str], file: Path) -> tuple[str, tuple[str, ...]] | None:
    """The family that reads every non-ISO value of the file (the most of them, if none does).

    Raises a clear error when several families read them all but disagree on a date (a file of
    ``03/04/2025``-like dates only: month-first or day-first cannot be told apart).
    """
    if not values:
        return None
    readings = []
    for label, formats in DATE_LAYOUTS:
        parsed = {v: _with_layout(v, formats) for v in values}
        ok = sum(1 for d in parsed.values() if d and MIN_YEAR <= d.year <= MAX_YEAR)
        readings.append((ok, label, formats, parsed))
    best = max(r[0] for r in readings)
    if best == 0:
        return None
    complete = [r for r in readings if r[0] == best]
    first = complete[0]
    for other in complete[1:]:
        differing = next((v for v in values if first[3][v] != other[3][v]), None)
        if differing is not None:
            raise SourceError.single(
                file,
                f"ambiguous dates: {differing!r} reads as {first[3][differing]} ({first[1]}) "
                f"and as {other[3][differing]} ({other[1]})",
                value=differing,
                hint=ISO_HINT,
            )
    return first[1], first[2]


def _parse_dates(
    raw: pd.DataFrame,
    field: str,
    column: str,
    layout: tuple[str, tuple[str, ...]] | None,
    problems: list[tuple[int, str, str, str]],
) -> pd.Series:
    """The column ``field`` as dates (NaT where bad; each bad cell appended to ``problems``)."""
    parsed = []
    for i, value in raw[field].items():
        if _ISO.match(value):
            day = _iso(value)
        elif value and layout is not None:
            day = _with_layout(value, layout[1])
        else:
            day = None
        reason = None
        if not value:
            reason = MISSING
        elif day is None:
            reason = BAD_DATE
        elif not MIN_YEAR <= day.year <= MAX_YEAR:
            reason, day = DATE_RANGE, None
        if reason:
            problems.append((int(raw.at[i, "_row"]), column, reason, value))
        parsed.append(pd.NaT if day is None else pd.Timestamp(day))
    return pd.Series(parsed, index=raw.index, dtype="datetime64[ns]")


def _error(file: Path, problems: list[tuple[int, str, str, str]]) -> SourceError:
    problems = sorted(problems, key=lambda p: p[0])
    table = pd.DataFrame(
        [(str(file), row, column, value, reason) for row, column, reason, value in problems],
        columns=["file", "row", "column", "value", "reason"],
    )
    lines = [
        describe_problem(file, row, column, reason, value)
        for row, column, reason, value in problems[:MAX_LISTED]
    ]
    message = f"{len(problems)} problem(s) in the promotions file; nothing was loaded:\n  - "
    message += "\n  - ".join(lines)
    if len(problems) > MAX_LISTED:
        message += f"\n  - ... and {len(problems) - MAX_LISTED} more"
    message += f"\n{ISO_HINT} (inclusive end date, on or after the start date)."
    row, column, reason, value = problems[0]
    return SourceError(
        message, file=file, row=row, column=column, reason=reason, value=value, problems=table
    )
