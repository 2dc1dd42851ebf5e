"""Read order files with DuckDB into DuckDB tables of VARCHAR columns, one per mapped field.

The text stays in DuckDB (which spills to disk under its memory limit): a file of 100 million
lines never becomes one Arrow table or pandas frame in Python.

CSV files are read with ``all_varchar`` so that no value is lost or guessed at this stage (types
are parsed later, where a bad value can be reported with its row and column), and with
``store_rejects`` so that rows DuckDB cannot split into fields (wrong number of fields, bytes
that are not UTF-8, broken quoting) are reported with their row instead of failing the scan.

Files that share a header (the same first line for CSV, the same column names for Parquet) are
read by one DuckDB scan: a folder of 700 daily files costs a few scans, not 700.

Row numbers (column ``_row``): for CSV, the row as a spreadsheet shows it, the header being row 1
and the first data row row 2 (the same as the line number in a text editor unless a quoted value
spans several lines; blank lines count, as in DuckDB's rejects table). For Parquet, the 1-based
record number (the first record is row 1: Parquet has no header row).
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow.parquet as pq

from .errors import SourceError
from .files import FileKind, SourceFile, sniff_kind
from .mapping import FIELDS, ColumnMapping

# DuckDB rejects-table error types -> our reasons.
_REJECT_REASONS = {
    "INVALID ENCODING": (
        'invalid UTF-8 bytes (set "encoding" in SALES_SOURCE_MAPPING, e.g. latin-1)'
    ),
    "MISSING COLUMNS": "too few fields in the row",
    "TOO MANY COLUMNS": "too many fields in the row",
    "UNQUOTED VALUE": "malformed quoting",
    "LINE SIZE OVER MAXIMUM": "row too long",
    "CAST ERROR": "malformed row",
    "INVALID STATE": "malformed row",
}


@dataclasses.dataclass
class FileRead:
    """What one file gave: its mapped columns as text, the rows DuckDB rejected, counts."""

    file: SourceFile
    # The DuckDB table of the file's group (FIELDS columns, string, null when unmapped, and
    # _file_index); this file's rows are rowids first_rowid .. first_rowid + num_rows - 1.
    table: str
    file_index: int
    first_rowid: int
    num_rows: int  # good rows: rows_read minus the rejected ones
    row_numbers: np.ndarray | None  # CSV: the spreadsheet row of each good row; Parquet: None
    columns: dict[str, str]  # field -> the file's column name
    problems: list[dict[str, Any]]  # file, row, column, value, reason
    rows_read: int  # data rows in the file, rejected ones included
    warnings: list[str]


def _lit(text: Any) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _duck_message(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def read_files(
    con: duckdb.DuckDBPyConnection, files: Sequence[SourceFile], mapping: ColumnMapping
) -> list[FileRead | SourceError]:
    """Read `files`; one outcome per file, in order: a `FileRead` or the `SourceError` that file
    raised (empty, not CSV/Parquet, unreadable, or missing a required column)."""
    outcomes: list[FileRead | SourceError | None] = [None] * len(files)
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    kinds: dict[int, FileKind] = {}
    for i, sf in enumerate(files):
        try:
            kinds[i] = kind = sniff_kind(sf)
            groups[(kind.kind, kind.encoding, _signature(sf, kind))].append(i)
        except SourceError as exc:
            outcomes[i] = exc
    for number, ((kind_name, encoding, _), members) in enumerate(groups.items()):
        group = [files[i] for i in members]
        kind = FileKind(kind_name, encoding)
        try:
            results: list[FileRead | SourceError] = _read_group(con, group, kind, mapping, number)
        except _GroupFailed:  # find which file(s) fail by reading them one by one
            results = []
            for j, sf in enumerate(group):
                try:
                    results.extend(_read_group(con, [sf], kind, mapping, f"{number}_{j}"))
                except _GroupFailed as exc:
                    results.append(exc.error)
        for i, result in zip(members, results, strict=True):
            outcomes[i] = result
    return [o for o in outcomes if o is not None]


class _GroupFailed(Exception):
    def __init__(self, error: SourceError) -> None:
        super().__init__(str(error))
        self.error = error


def _signature(sf: SourceFile, kind: FileKind) -> Any:
    """Files with the same signature have the same columns and are read in one scan."""
    if kind.kind == "parquet":
        try:
            return tuple(pq.read_schema(sf.path).names)
        except Exception as exc:  # noqa: BLE001 - any failure means "not readable as Parquet"
            raise SourceError.single(sf.path, f"not a valid Parquet file: {exc}") from exc
    name = sf.path.name.lower()
    if name.endswith(".zst"):
        return ("file", sf.relpath)
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(sf.path, "rb") as fh:
            return fh.readline(65536)
    except OSError as exc:
        raise SourceError.single(sf.path, f"cannot be read: {exc}") from exc


def _select(columns: dict[str, str], extra: Sequence[str] = ()) -> str:
    parts = [
        f"CAST({_ident(columns[f])} AS VARCHAR) AS {f}" if f in columns else f"NULL::VARCHAR AS {f}"
        for f in FIELDS
    ]
    return ", ".join([*parts, *extra])


def _resolve_all(
    mapping: ColumnMapping, names: list[str], group: list[SourceFile]
) -> dict[str, str] | list[SourceError]:
    """The mapping of a group (all files share `names`), or one error per file."""
    try:
        return mapping.resolve(names, file=group[0].path)
    except SourceError:
        errors = []
        for sf in group:
            try:
                mapping.resolve(names, file=sf.path)
            except SourceError as exc:
                errors.append(exc)
        return errors


def _read_group(
    con: duckdb.DuckDBPyConnection,
    group: list[SourceFile],
    kind: FileKind,
    mapping: ColumnMapping,
    number: Any,
) -> list[FileRead | SourceError]:
    paths = "[" + ", ".join(_lit(sf.path) for sf in group) + "]"
    if kind.kind == "parquet":
        source = f"read_parquet({paths}, file_row_number=true)"
    else:
        rej, scan = f"_rejects_{number}", f"_rejects_scan_{number}"
        options = [
            "all_varchar=true",
            "header=true",
            "store_rejects=true",
            f"rejects_table={_lit(rej)}",
            f"rejects_scan={_lit(scan)}",
        ]
        encoding = mapping.encoding or kind.encoding
        if encoding:
            options.append(f"encoding={_lit(encoding)}")
        if mapping.delimiter:
            options.append(f"delim={_lit(mapping.delimiter)}")
        source = f"read_csv({paths}, {', '.join(options)})"
    try:
        names = [c for c in con.sql(f"SELECT * FROM {source}").columns if c != "file_row_number"]
    except duckdb.Error as exc:
        raise _GroupFailed(_file_error(group[0], kind, exc)) from exc
    columns = _resolve_all(mapping, names, group)
    if isinstance(columns, list):
        return list(columns)
    extra = ["file_index AS _file_index"]
    if kind.kind == "parquet":
        extra.append("file_row_number + 1 AS _row")
    table = f"_text_{number}"
    try:
        # DuckDB keeps the scan's order (preserve_insertion_order): a file is a rowid range.
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT {_select(columns, extra)} FROM {source}"
        )
        rejects: list[tuple[Any, ...]] = []
        if kind.kind == "csv":
            rejects = con.execute(
                f"SELECT e.file_id, e.line, e.column_name, e.error_type, e.csv_line, "
                f"e.error_message FROM {rej} e ORDER BY e.file_id, e.line, e.column_idx"
            ).fetchall()
            con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {scan}")
    except duckdb.Error as exc:
        raise _GroupFailed(_file_error(group[0], kind, exc)) from exc

    spans = {}
    for index, first, last, n in con.execute(
        f"SELECT _file_index, min(rowid), max(rowid), count(*) FROM {table} GROUP BY ALL"
    ).fetchall():
        if last - first + 1 != n:
            raise RuntimeError(f"the rows of a file are not contiguous in {table}")  # a bug
        spans[index] = (first, n)
    by_file: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for reject in rejects:
        by_file[int(reject[0])].append(reject[1:])
    reads: list[FileRead | SourceError] = []
    for k, sf in enumerate(group):
        first, n = spans.get(k, (0, 0))
        place = (table, k, int(first), int(n))
        if kind.kind == "parquet":
            reads.append(FileRead(sf, *place, None, dict(columns), [], place[3], []))
        else:
            reads.append(_csv_read(sf, place, dict(columns), by_file.get(k, []), mapping, kind))
    return reads


def _file_error(sf: SourceFile, kind: FileKind, exc: Exception) -> SourceError:
    if kind.kind == "parquet":
        return SourceError.single(sf.path, f"not a valid Parquet file: {_duck_message(exc)}")
    text = str(exc)
    match = re.search(r"Line:\s*(\d+)", text)
    row = int(match[1]) if match else None
    if "unicode" in text.lower() or "utf" in text.lower():
        reason = _REJECT_REASONS["INVALID ENCODING"]
    else:
        reason = f"cannot be read as CSV: {_duck_message(exc)}"
    return SourceError.single(sf.path, reason, row=row)


def _csv_read(
    sf: SourceFile,
    place: tuple[str, int, int, int],
    columns: dict[str, str],
    rejects: list[tuple[Any, ...]],
    mapping: ColumnMapping,
    kind: FileKind,
) -> FileRead:
    problems: list[dict[str, Any]] = []
    rejected_lines: set[int] = set()
    for line, column_name, error_type, csv_line, message in rejects:
        line = int(line)
        if line in rejected_lines:
            continue  # one problem per broken row
        rejected_lines.add(line)
        reason = _REJECT_REASONS.get(str(error_type), f"malformed row ({message})")
        problems.append(
            {
                "file": str(sf.path),
                "row": line,
                "column": column_name,
                "value": csv_line,
                "reason": reason,
            }
        )
    warnings: list[str] = []
    encoding = mapping.encoding or kind.encoding
    n_good = place[3]
    rows = _row_numbers(sf, n_good, sorted(rejected_lines), mapping, encoding, warnings)
    return FileRead(sf, *place, rows, columns, problems, n_good + len(rejected_lines), warnings)


def _count_lines(sf: SourceFile) -> int | None:
    """Physical lines of an uncompressed file, trailing blank lines not counted."""
    if sf.path.name.lower().endswith((".gz", ".zst")):
        return None
    newlines = 0
    with open(sf.path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
        fh.seek(max(0, sf.size - 65536))
        tail = fh.read()
    trailing = tail[len(tail.rstrip(b"\r\n")) :].count(b"\n")
    return newlines + 1 - trailing


def _row_numbers(
    sf: SourceFile,
    n_good: int,
    rejected: list[int],
    mapping: ColumnMapping,
    encoding: str | None,
    warnings: list[str],
) -> np.ndarray:
    """The spreadsheet row (header = 1) of each row DuckDB returned, in order.

    DuckDB returns the good rows in file order but not their positions. When the file has one
    line per row (the usual case: no blank lines, no quoted line breaks) the good rows fill the
    lines 2..n that DuckDB did not reject. Otherwise the rows are counted again with Python's
    `csv` module in DuckDB's detected dialect.
    """
    utf16 = bool(encoding) and encoding.lower().replace("-", "").startswith("utf16")
    lines = None if utf16 else _count_lines(sf)
    if lines == 1 + n_good + len(rejected):
        keep = np.ones(lines + 1, dtype=bool)
        keep[:2] = False  # no row 0; row 1 is the header
        keep[np.asarray(rejected, dtype=np.int64)] = False
        return np.flatnonzero(keep)
    counted = _rows_by_csv_module(sf, set(rejected), mapping, encoding)
    if counted is not None and len(counted) == n_good:
        return np.asarray(counted, dtype=np.int64)
    warnings.append(
        f"{sf.path}: rows could not be numbered exactly (unusual line structure); its row "
        "numbers count data rows from 2"
    )
    return np.arange(2, 2 + n_good)


def _sniffed_dialect(sf: SourceFile, mapping: ColumnMapping, encoding: str | None) -> tuple:
    options = ["ignore_errors=true"]
    if encoding:
        options.append(f"encoding={_lit(encoding)}")
    if mapping.delimiter:
        options.append(f"delim={_lit(mapping.delimiter)}")
    try:
        with duckdb.connect() as con:
            found = con.execute(
                f"SELECT Delimiter, Quote, Escape FROM sniff_csv({_lit(sf.path)}, "
                f"{', '.join(options)})"
            ).fetchall()
    except duckdb.Error:
        found = []
    return found[0] if found else (",", '"', "")


def _rows_by_csv_module(
    sf: SourceFile, rejected: set[int], mapping: ColumnMapping, encoding: str | None
) -> list[int] | None:
    name = sf.path.name.lower()
    if name.endswith(".zst"):
        return None
    delimiter, quote, escape = _sniffed_dialect(sf, mapping, encoding)
    if len(delimiter or "") != 1:
        return None
    quote = quote if quote and len(quote) == 1 else '"'
    escape = escape if escape and len(escape) == 1 and escape != quote else None
    opener = gzip.open if name.endswith(".gz") else open
    rows: list[int] = []
    with opener(
        sf.path, "rt", encoding=encoding or "utf-8-sig", errors="replace", newline=""
    ) as fh:
        reader = csv.reader(
            fh, delimiter=delimiter, quotechar=quote, escapechar=escape, strict=False
        )
        for number, fields in enumerate(reader, start=1):
            if number == 1 or not fields or number in rejected:
                continue
            rows.append(number)
    return rows
