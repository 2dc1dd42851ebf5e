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
        """Build the error raised by ``on_error="fail"`` from the `rejected`-shaped frame."""
        first = problems.iloc[0]
        lines = [
            describe_problem(p.file, p.row, p.column, p.reason, p.value)
            for p in problems.head(MAX_LISTED).itertuples(index=False)
        ]
        more = len(problems) - len(lines)
        n_files = problems["file"].nunique()
        head = (
            f"{len(problems)} problem(s) in {n_files} file(s) ({rows_rejected} bad row(s)); "
            "nothing was loaded (on_error='quarantine' loads the good rows and sets the bad ones "
            "aside):"
        )
        message = head + "\n  - " + "\n  - ".join(lines)
        if more > 0:
            message += f"\n  - ... and {more} more"
        row = None if _is_na(first["row"]) else int(first["row"])
        column = None if _is_na(first["column"]) else str(first["column"])
        return cls(
            message,
            file=first["file"],
            row=row,
            column=column,
            reason=str(first["reason"]),
            value=None if _is_na(first["value"]) else first["value"],
            problems=problems,
        )
