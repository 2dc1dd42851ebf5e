"""The one exception type of the file sources."""

from __future__ import annotations

from typing import Any

#: How many problems a `SourceError` message lists before it says "and N more".
MAX_LISTED = 5


def describe_problem(file: Any, row: Any, column: Any, reason: str, value: Any = None) -> str:
    """One problem as one line: ``<file>, row <n>, column '<name>': <reason> (value '<v>')``.

    `row` and `column` are left out when they do not apply (an empty file, a file that is not
    CSV/Parquet at all); `value` is left out when there is none.
    """
    where = [str(file)]
    if row is not None and not _is_na(row):
        where.append(f"row {int(row)}")
    if column is not None and not _is_na(column):
        where.append(f"column {str(column)!r}")
    text = ", ".join(where) + f": {reason}"
    if value is not None and not _is_na(value):
        shown = str(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        text += f" (value {shown!r})"
    return text


def _is_na(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN / pd.NA-safe enough for scalars
    except (TypeError, ValueError):
        return value is None or str(value) in {"<NA>", "nan", "NaT"}


class SourceError(ValueError):
    """A file source cannot be loaded as it is.

    The message names the file, the row and the column of (the first few) problems. Attributes:

    - ``file``, ``row``, ``column``, ``reason``, ``value``: the first problem (``row``/``column``
      are ``None`` where they do not apply);
    - ``problems``: a DataFrame with columns ``file, row, column, value, reason``, one row per
      problem (the same shape as `LoadResult.rejected`), or ``None`` for a single problem;
    - ``columns_found``: for a missing required column, the columns the file has.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Any = None,
        row: int | None = None,
        column: str | None = None,
        reason: str | None = None,
        value: Any = None,
        problems: Any = None,
        columns_found: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.reason = reason
        self.value = value
        self.problems = problems
        self.columns_found = columns_found

    @classmethod
    def single(
        cls,
        file: Any,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        hint: str = "",
        columns_found: list[str] | None = None,
    ) -> SourceError:
        message = describe_problem(file, row, column, reason, value)
        if hint:
            message += f". {hint}"
        return cls(
            message,
            file=file,
            row=row,
            column=column,
            reason=reason,
            value=value,
            columns_found=columns_found,
        )

    @classmethod
    def from_problems(cls, problems: Any, *, rows_rejected: int) -> SourceError:
        """The error of ``on_error="fail"``, from the `rejected`-shaped frame of its problems."""
        n_files = problems["file"].nunique()
        head = (
            f"{len(problems)} problem(s) in {n_files} file(s) ({rows_rejected} bad row(s)); "
            "nothing was loaded (SALES_SOURCE_ON_ERROR=quarantine loads the good rows and sets "
            "the bad ones aside in orders_rejected, as long as they are at most "
            "SALES_SOURCE_MAX_REJECTED of the rows)"
        )
        return cls._listing(head, problems)

    @classmethod
    def refused(cls, problems: Any, why: str) -> SourceError:
        """A load refused as a whole (too many bad rows, no valid row, a file that is no table)."""
        head = (
            f"load refused: {why}; nothing was loaded, under either "
            "SALES_SOURCE_ON_ERROR policy, so nothing stored is replaced by less"
        )
        return cls._listing(head, problems)

    @classmethod
    def _listing(cls, head: str, problems: Any) -> SourceError:
        lines = [
            describe_problem(p.file, p.row, p.column, p.reason, p.value)
            for p in problems.head(MAX_LISTED).itertuples(index=False)
        ]
        more = len(problems) - len(lines)
        patterns = problem_patterns(problems)
        message = head + ".\nMost frequent problem(s):\n  - " + "\n  - ".join(patterns)
        message += "\nFirst problem(s):\n  - " + "\n  - ".join(lines)
        if more > 0:
            message += f"\n  - ... and {more} more"
        first = problems.iloc[0]
        return cls(
            message,
            file=first["file"],
            row=None if _is_na(first["row"]) else int(first["row"]),
            column=None if _is_na(first["column"]) else str(first["column"]),
            reason=str(first["reason"]),
            value=None if _is_na(first["value"]) else first["value"],
            problems=problems,
        )


#: What a user can set when a whole pattern of values fails, by reason.
_HINTS = {
    "not a number": (
        'if the numbers are written otherwise, set "decimal" (and "thousands") in '
        'SALES_SOURCE_MAPPING, e.g. \'{"decimal": ","}\''
    ),
    "unparseable date": (
        'set "date_format" in SALES_SOURCE_MAPPING, e.g. \'{"date_format": "%d/%m/%y"}\''
    ),
}
_HINTS["date out of range (1970-2100)"] = _HINTS["unparseable date"]


def problem_patterns(problems: Any, top: int = 3) -> list[str]:
    """The `top` most frequent (column, reason) pairs of a `rejected`-shaped frame, each with its
    count and three example values: a systematic problem reads as one line, not thousands."""
    groups: dict[tuple[str | None, str], tuple[int, list[str]]] = {}
    for p in problems.itertuples(index=False):
        column = None if _is_na(p.column) else str(p.column)
        reason = str(p.reason).split(":")[0]
        count, examples = groups.get((column, reason), (0, []))
        value = None if _is_na(p.value) else str(p.value)[:40]
        if value is not None and len(examples) < 3 and value not in examples:
            examples.append(value)
        groups[(column, reason)] = (count + 1, examples)
    ranked = sorted(groups.items(), key=lambda item: -item[1][0])[:top]
    lines = []
    for (column, reason), (count, examples) in ranked:
        where = f"column {column!r}" if column else "whole file"
        text = f"{where}: {reason}, {count} time(s)"
        if examples:
            text += ", e.g. " + ", ".join(repr(e) for e in examples)
        if reason in _HINTS:
            text += f" ({_HINTS[reason]})"
        lines.append(text)
    return lines
