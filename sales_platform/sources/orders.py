"""Load the user's order lines from CSV/Parquet files into the `orders` contract.

Pipeline: find the files (`files.discover`) -> read each with DuckDB as text (`reader`) -> parse
every field in one DuckDB query (numbers, dates, derived fields; a value that does not parse is a
problem at its file/row/column) -> check the parsed lines with pandera (`schema.LINES_SCHEMA`:
zero quantities, negative prices/amounts, duplicated order lines) -> split returns from sales ->
keep the days asked for -> refuse the load when too much of it is bad. Nothing is ever written:
the result lives in memory.

This module is the API and the order of the steps; the steps live beside it: `dates` (which
date layout a column uses), `numbers` (decimal point or comma), `parse` (the parse query),
`rejected` (a problem per row, for ``LoadResult.rejected`` and `SourceError`).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa_arrow
import pyarrow.parquet as pq

from sales_platform.tables import COLUMNS, ORDERS

from . import schema as S
from .dates import choose_date_format
from .errors import SourceError
from .files import SourceFile, discover
from .mapping import ColumnMapping
from .numbers import number_format
from .parse import CHECKED, create_raw, fetch, lines_sql, parse_sql, to_pandas, window_sql
from .reader import FileRead, read_files
from .rejected import REJECTED_COLUMNS, finish_problems, parse_problems, rule_problems

OnError = Literal["fail", "quarantine"]

#: The share of a load's rows (in range) that may be rejected before the whole load is refused.
DEFAULT_MAX_REJECTED = 0.01
_NUMBER_SAMPLE = 2_000  # values per number column looked at to detect the number format
#: Lines per frame a load yields: pandas and pandera hold one chunk at a time, about 2.5 kB a line
#: (a chunk of a million lines peaked 2.5 GB above the load's DuckDB). With 50,000, the whole job
#: on a 20-million-line CSV peaked at 2.59 GiB (benchmarks/large_export_benchmark.py).
DEFAULT_CHUNK_ROWS = 50_000
#: The load's DuckDB spills beyond this (its default, 80% of the machine, would not): the whole
#: load lives in DuckDB while Python holds a chunk.
_DUCKDB_MEMORY_LIMIT = "512MB"

ORDER_COLUMNS = list(COLUMNS[ORDERS])
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
      category and its median unit price.
    - ``customer_first_days``: per customer of the accepted sales lines, the first order date.
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
    customer_first_days: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=["customer_id", "first_day"])
    )

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
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
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

    The whole load in memory; `open_orders` streams it in frames of `chunk_rows` lines.
    """
    stream = open_orders(
        path,
        mapping,
        on_error=on_error,
        start=start,
        end=end,
        max_rejected=max_rejected,
        chunk_rows=chunk_rows,
    )
    orders = pd.concat(list(stream.sales()), ignore_index=True)
    assert stream.result is not None  # set once the sales are all read
    return dataclasses.replace(stream.result, orders=orders)


def open_orders(
    path: str | Path,
    mapping: ColumnMapping | dict[str, Any] | str | None = None,
    *,
    on_error: OnError = "fail",
    start: date | str | None = None,
    end: date | str | None = None,
    max_rejected: float = DEFAULT_MAX_REJECTED,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> OrdersStream:
    """`load_orders` in bounded memory: the same checks, rules and errors, the sales lines
    yielded by `OrdersStream.sales` in frames of at most `chunk_rows` lines."""
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
    return OrdersStream(selected, skipped, mapping, on_error, start, end, max_rejected, chunk_rows)


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


#: Part of a cached window's key: bump it when `OrdersStream.window` changes what it returns.
_WINDOW_VERSION = 1


def data_window(
    path: str | Path,
    mapping: ColumnMapping | dict[str, Any] | str | None = None,
    *,
    cache_dir: Path | None = None,
) -> tuple[date, date] | None:
    """The first and last order date of a source (`OrdersStream.window`), or None when it cannot
    be read at all (the load itself then says why).

    With `cache_dir`, the window is kept there under a key of the files (path, size, mtime) and
    the mapping: a definitions load reads a large export's dates once per version of it."""
    try:
        stream = open_orders(path, mapping)
    except SourceError:
        return None
    cached = None
    if cache_dir is not None:
        key = stream.fingerprint(_WINDOW_VERSION)
        cached = Path(cache_dir) / f"window-{key}.json"
        with contextlib.suppress(OSError, ValueError):
            days = json.loads(cached.read_text())
            return (
                None if days is None else (date.fromisoformat(days[0]), date.fromisoformat(days[1]))
            )
    try:
        window = stream.window()
    except SourceError:
        return None
    if cached is not None:
        # Written whole or not at all; a cache that cannot be written only costs the next read.
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(window and [d.isoformat() for d in window]))
            partial.replace(cached)
    return window


@dataclasses.dataclass(frozen=True)
class _Summary:
    """A whole load read once in this process: its result, and its accepted lines in the
    ``orders`` contract, kept in a Parquet file of their own for `OrdersStream.sales`."""

    key: str
    result: LoadResult
    lines: Path

    def frames(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        for batch in pq.ParquetFile(self.lines).iter_batches(batch_size=chunk_rows):
            yield to_pandas(pa_arrow.Table.from_batches([batch])).astype(S.ORDERS_DTYPES)

    def delete(self) -> None:
        shutil.rmtree(self.lines.parent, ignore_errors=True)


_last_summary: _Summary | None = None


@atexit.register
def _forget_summary() -> None:
    global _last_summary
    if _last_summary is not None:
        _last_summary.delete()
        _last_summary = None


def _summary_of(stream: OrdersStream, key: str) -> _Summary:
    """Reads the whole load of `stream`, writing its lines to a Parquet file as they come."""
    folder = Path(tempfile.mkdtemp(prefix="sales_lines_"))
    lines, writer = folder / "lines.parquet", None
    try:
        for frame in stream.sales():
            table = pa_arrow.Table.from_pandas(frame, preserve_index=False)
            writer = writer or pq.ParquetWriter(lines, table.schema)
            writer.write_table(table)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        if writer is not None:
            writer.close()
    assert stream.result is not None
    return _Summary(key, stream.result, lines)


@contextlib.contextmanager
def _load_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB database of one load's own, in a temporary folder it also spills to beyond its
    memory limit; both go with the load."""
    with tempfile.TemporaryDirectory(prefix="sales_load_") as spill:
        con = duckdb.connect(
            os.path.join(spill, "load.duckdb"),
            config={
                "memory_limit": _DUCKDB_MEMORY_LIMIT,
                "temp_directory": spill,
            },
        )
        try:
            con.execute("SET TimeZone='UTC'")
            # A large load would draw DuckDB's progress bar into the run's log.
            con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()


@dataclasses.dataclass(frozen=True)
class _Read:
    """What reading the files found, beside the ``raw`` table they left."""

    reads: list[tuple[int, FileRead, bool]]
    warnings: list[str]
    problems: list[dict[str, Any]]  # file-level and structural (DuckDB rejects)
    structural_rows: int  # rows DuckDB rejected in files in scope
    outside_rejects: int  # ... and in files outside the range
    n_raw: int
    date_formats: dict[str, tuple[str, tuple[str, ...]]]


@dataclasses.dataclass(frozen=True)
class _Parsed:
    """What parsing found, beside the ``parsed`` table it left."""

    read: _Read
    number_format: str
    column_of: dict[tuple[int, str], str]


@dataclasses.dataclass
class OrdersStream:
    """A load read chunk by chunk. `sales` yields the `orders` contract in frames of at most
    ``chunk_rows`` lines, in contract order; after its last frame it raises `SourceError` when
    the load must be refused (``on_error="fail"`` with problems, or too many bad rows), else sets
    `result`: everything but the lines (``orders`` and ``product_attributes`` empty)."""

    selected: list[SourceFile]
    skipped: list[Path]
    mapping: ColumnMapping
    on_error: OnError
    start: date | None
    end: date | None
    max_rejected: float
    chunk_rows: int
    result: LoadResult | None = None

    def sales(self) -> Iterator[pd.DataFrame]:
        memo = _last_summary
        if memo is not None and memo.key == self._load_key():
            # The same load was read whole in this process (`summary`): its lines, not the
            # files again. It was refused then if it had to be.
            yield from memo.frames(self.chunk_rows)
            self.result = memo.result
            return
        with _load_connection() as con:
            yield from self._sales(con, self._parse(con))
        assert self.result is not None
        _refuse_a_mostly_bad_load(self.result, self.max_rejected)

    def summary(self) -> LoadResult:
        """The whole load read, for the tables derived from the lines (`derive_products`,
        `derive_customers`) in bounded memory: `result`.

        The last summary is kept for the same load of the same files, with its lines in a
        temporary Parquet file: `products` and `customers` both derive from it in one run's
        process, and `orders` of the same days streams its lines instead of reading the files
        a second time (two full reads were half of a 20-million-line load)."""
        global _last_summary
        key = self._load_key()
        if _last_summary is None or _last_summary.key != key:
            _forget_summary()
            _last_summary = _summary_of(self, key)
        return _last_summary.result

    def _load_key(self) -> str:
        return self.fingerprint(self.on_error, self.start, self.end, self.max_rejected)

    def fingerprint(self, *extra: Any) -> str:
        """A key of this load's files (path, size, mtime), mapping and `extra`."""
        files = [[str(f.path), f.size, f.mtime_ns] for f in self.selected]
        text = json.dumps([repr(self.mapping), files, *map(str, extra)])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def window(self) -> tuple[date, date] | None:
        """The first and last order date in the files (sales, returns, and lines with a bad
        field other than the date: each still dates the shop), or None when no date parses.
        Reads the files and parses their dates only, in DuckDB."""
        with _load_connection() as con:
            read = self._read(con)
            first, last = con.execute(window_sql(read.date_formats)).fetchone()
        return None if first is None else (first, last)

    def _parse(self, con: duckdb.DuckDBPyConnection) -> _Parsed:
        """Reads the files into ``raw`` and parses every field into ``parsed`` (in `con`)."""
        read = self._read(con)
        numbers = number_format(self.mapping, _number_samples(con))
        sql = parse_sql(self.mapping, read.date_formats, numbers, self.start, self.end)
        con.execute(f"CREATE TABLE parsed AS {sql}")
        column_of = {
            (index, field): col
            for index, file_read, _ in read.reads
            for field, col in file_read.columns.items()
        }
        for index, file_read, _ in read.reads:
            # A derived unit price is reported against the amount column.
            if "unit_price" not in file_read.columns and "amount" in file_read.columns:
                column_of[(index, "unit_price")] = file_read.columns["amount"]
        return _Parsed(read, numbers.label, column_of)

    def _read(self, con: duckdb.DuckDBPyConnection) -> _Read:
        """Reads the files' text into ``raw`` (in `con`) and chooses the date layouts."""
        selected, mapping = self.selected, self.mapping
        start, end = self.start, self.end
        warnings: list[str] = []
        reads: list[tuple[int, FileRead, bool]] = []
        problems: list[dict[str, Any]] = []
        structural_rows = outside_rejects = 0
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
            n_rejected = read.rows_read - read.num_rows
            if file_in_scope:
                structural_rows += n_rejected
                problems.extend({"_file_idx": index, "_seq": -1, **p} for p in read.problems)
            else:
                outside_rejects += n_rejected
            reads.append((index, read, file_in_scope))
        if unreadable:
            # How many of such a file's rows are bad is unknown: no policy can load around it.
            raise SourceError.refused(
                finish_problems(pd.DataFrame(unreadable)),
                f"{len(unreadable)} file(s) cannot be read as a table",
            )

        n_raw = create_raw(con, reads)
        date_formats = {}
        for field in ("order_ts", "order_date"):
            column = next((r.columns[field] for _, r, _ in reads if field in r.columns), None)
            if column is not None:
                label, formats, warning = choose_date_format(con, field, column, mapping)
                date_formats[field] = (label, formats)
                warnings.extend([warning] if warning else [])
        return _Read(
            reads, warnings, problems, structural_rows, outside_rejects, n_raw, date_formats
        )

    def _sales(self, con: duckdb.DuckDBPyConnection, parsed: _Parsed) -> Iterator[pd.DataFrame]:
        on_error, column_of, reads = self.on_error, parsed.column_of, parsed.read.reads
        problems, structural_rows = parsed.read.problems, parsed.read.structural_rows
        # 1. Values that do not parse (rows in scope only).
        errors = ", ".join(f"{f}_err" for f in CHECKED)
        bad = fetch(
            con,
            f"SELECT _seq, _file_idx, _file, _row, {errors} FROM parsed "
            "WHERE has_err AND in_scope ORDER BY _seq",
        )
        found = [parse_problems(bad, con, column_of)]
        # 2. Rules on the parsed lines (pandera), chunk by chunk; duplicates across the whole
        #    load come from DuckDB (`lines_sql`).
        n_orders, returns, attributes = 0, [], []
        # What the derived catalog needs of the accepted sales lines (`derive`), kept in DuckDB.
        con.execute(
            "CREATE TABLE accepted (product_id VARCHAR, unit_price DOUBLE, customer_id VARCHAR, "
            "order_date DATE)"
        )
        batches = con.cursor().sql(lines_sql()).to_arrow_reader(self.chunk_rows)
        for batch in batches:
            clean = to_pandas(pa_arrow.Table.from_batches([batch]))
            broken_rules, rule_bad = rule_problems(clean, con, column_of)
            found.append(broken_rules)
            good = clean.loc[~rule_bad]
            sales = good.loc[~good["is_return"]]
            returns.append(_returns(good.loc[good["is_return"]]))
            attributes.append(_attribute_counts(sales))
            con.execute(
                "INSERT INTO accepted SELECT product_id, unit_price, customer_id, "
                "CAST(order_date AS DATE) FROM sales"
            )
            n_orders += len(sales)
            yield _contract(sales)
        if not n_orders:
            yield _contract(to_pandas(pa_arrow.Table.from_batches([], batches.schema)))
        value_problems = pd.concat(found, ignore_index=True)
        all_problems = pd.concat(
            [
                pd.DataFrame(problems, columns=["_file_idx", "_seq", *REJECTED_COLUMNS]),
                value_problems,
            ],
            ignore_index=True,
        )
        all_problems = finish_problems(all_problems)
        rejected_rows = structural_rows + int(value_problems["_seq"].nunique())
        if on_error == "fail" and len(all_problems):
            raise SourceError.from_problems(all_problems, rows_rejected=rejected_rows)
        returned = (
            pd.concat(returns, ignore_index=True)
            if returns
            else _returns(
                pd.DataFrame(columns=[*ORDER_COLUMNS, "status", "_file", "_row", "return_reason"])
            )
        )
        out_of_range_days = (
            fetch(
                con,
                "SELECT order_date, count(*) AS n FROM parsed WHERE NOT in_scope GROUP BY ALL",
            )
            .set_index("order_date")["n"]
            .sort_index()
        )
        out_of_range = con.execute("SELECT count(*) FROM parsed WHERE NOT in_scope").fetchall()
        counts = {
            "files": len(reads),
            "files_skipped": len(self.skipped),
            "rows_read": parsed.read.n_raw + structural_rows + parsed.read.outside_rejects,
            "orders": n_orders,
            "returns": len(returned),
            "rejected_rows": rejected_rows,
            "problems": len(all_problems),
            "out_of_range": int(out_of_range[0][0]) + parsed.read.outside_rejects,
        }
        self.result = LoadResult(
            orders=_contract(pd.DataFrame(columns=[*ORDER_COLUMNS])),
            rejected=all_problems,
            returns=returned,
            files=[sf.path for sf in self.selected],
            skipped_files=self.skipped,
            counts=counts,
            columns={str(r.file.path): dict(r.columns) for _, r, _ in reads},
            date_formats={f: label for f, (label, _) in parsed.read.date_formats.items()},
            product_attributes=_product_attributes(attributes, con),
            customer_first_days=fetch(
                con,
                "SELECT customer_id, min(order_date) AS first_day FROM accepted "
                "GROUP BY ALL ORDER BY customer_id",
            ),
            warnings=parsed.read.warnings,
            number_format=parsed.number_format,
            out_of_range_days=out_of_range_days,
            empty_days=sorted(
                {
                    r.file.day
                    for _, r, in_scope in reads
                    if in_scope and r.file.day and not r.rows_read
                }
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


def _attribute_counts(sales: pd.DataFrame) -> pd.DataFrame:
    """Per product, name or category and value: lines and first position (summed across chunks
    by `_product_attributes`)."""
    parts = []
    for out, column in (("name", "product_name"), ("category", "category")):
        pairs = sales[["product_id", column, "_seq"]].dropna().rename(columns={column: "value"})
        counted = pairs.groupby(["product_id", "value"], observed=True).agg(
            n=("_seq", "size"), first=("_seq", "min")
        )
        parts.append(counted.reset_index().assign(attribute=out))
    # Every product, named or not, in the order first seen.
    seen = sales.groupby("product_id", observed=True).agg(n=("_seq", "size"), first=("_seq", "min"))
    parts.append(seen.reset_index().assign(value=seen.index.to_numpy(), attribute="product"))
    return pd.concat(parts, ignore_index=True)


def _product_attributes(counts: list[pd.DataFrame], con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per product of the accepted sales lines, its most frequent name and category (ties: the
    first seen) and its median unit price."""
    lines = (
        pd.concat(counts, ignore_index=True)
        if counts
        else _attribute_counts(
            pd.DataFrame(columns=["product_id", "product_name", "category", "_seq"])
        )
    )
    totals = lines.groupby(["attribute", "product_id", "value"], observed=True).agg(
        n=("n", "sum"), first=("first", "min")
    )
    ranked = totals.reset_index().sort_values(
        ["n", "first"], ascending=[False, True], kind="stable"
    )
    seen = ranked.loc[ranked["attribute"] == "product"].sort_values("first", kind="stable")
    products = seen["product_id"]
    attributes = pd.DataFrame(index=pd.Index(products, name="product_id"))
    for out in ("name", "category"):
        mode = ranked.loc[ranked["attribute"] == out].drop_duplicates("product_id")
        attributes[out] = mode.set_index("product_id")["value"].reindex(attributes.index)
    attributes["price"] = _median_prices(con).reindex(attributes.index)
    return attributes.reset_index().astype(
        {"product_id": S.STRING, "name": S.STRING, "category": S.STRING, "price": "float64"}
    )


def _median_prices(con: duckdb.DuckDBPyConnection) -> pd.Series:
    """Per product of the ``accepted`` lines, the median unit price (of two middle values, their
    mean), from counts of each price: DuckDB's `median` holds every value in memory."""
    counts = fetch(
        con,
        "SELECT product_id, unit_price, count(*) AS n FROM accepted GROUP BY ALL "
        "ORDER BY product_id, unit_price",
    )
    by_product = counts.groupby("product_id", sort=False)["n"]
    below = by_product.cumsum()  # lines priced at or under each row's price
    lines = by_product.transform("sum")
    middle = [
        counts.loc[below > position].groupby("product_id", sort=False)["unit_price"].first()
        for position in ((lines - 1) // 2, lines // 2)
    ]
    return (middle[0] + middle[1]) / 2


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
