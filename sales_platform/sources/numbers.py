"""Number formats of an export: decimal point or comma, thousands separators, currency signs.

Like the date format, the number format is detected from the values (or set in the mapping with
``"decimal"`` / ``"thousands"``), once for all the number columns of a load: an export is written in
one locale. A value then parses only when it fits that format as a whole (``1,234.50`` with a
decimal point; ``1.234,50`` or ``1693,12`` with a decimal comma), so a half-parsing column cannot
slip through as wrong numbers.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from .mapping import ColumnMapping

#: Currency signs accepted before or after a number (``$4.00``, ``-$4.00``, ``4,00 €``).
CURRENCY_SIGNS = "$€£¥"
#: Thousands separators accepted besides the decimal separator's counterpart.
_SPACES = " '\u00a0\u202f"

_SIGN_AND_SPACES = re.compile(r"[+\-\s" + CURRENCY_SIGNS + "]")
_GROUPED = re.compile(r"\d{1,3}[.,]\d{3}")  # "1,234" / "1.234": either separator fits


@dataclasses.dataclass(frozen=True)
class NumberFormat:
    """How numbers are written: the decimal separator and the accepted thousands separators."""

    decimal: str = "."
    thousands: str = "," + _SPACES
    detected: bool = True

    @property
    def label(self) -> str:
        grouping = (self.thousands or "")[:1]
        example = f"1{grouping}234{self.decimal}50" if grouping else f"1234{self.decimal}50"
        return f"{example} ({'detected' if self.detected else 'from the mapping'})"

    @staticmethod
    def strip_sql(value: str) -> str:
        """A DuckDB expression: text `value` without a leading or trailing currency sign."""
        return (
            f"regexp_replace(regexp_replace({value}, '^([+-]?)\\s*[{CURRENCY_SIGNS}]\\s*', "
            f"'\\1'), '\\s*[{CURRENCY_SIGNS}]$', '')"
        )

    def parse_sql(self, stripped: str) -> str:
        """A DuckDB expression: the DOUBLE that `stripped` (see `strip_sql`) holds, NULL when it
        does not fit this format as a whole."""
        dec = re.escape(self.decimal)
        integer = "\\d+"
        plain = stripped
        if self.thousands:
            # RE2 escapes: an apostrophe as \x27 keeps the SQL literal free of quotes.
            group = "[" + "".join(_re2_char(c) for c in self.thousands) + "]"
            integer = f"(\\d{{1,3}}({group}\\d{{3}})+|\\d+)"
            plain = f"regexp_replace({stripped}, '{group}', '', 'g')"
        if self.decimal != ".":
            plain = f"replace({plain}, '{self.decimal}', '.')"
        pattern = f"^[+-]?({integer}({dec}\\d*)?|{dec}\\d+)([eE][+-]?\\d+)?$"
        return (
            f"CASE WHEN regexp_full_match({stripped}, '{pattern}') "
            f"THEN TRY_CAST({plain} AS DOUBLE) END"
        )


def _re2_char(char: str) -> str:
    return "\\x27" if char == "'" else re.escape(char)


def decimal_vote(value: str) -> str | None:
    """The decimal separator one value shows, or None when it fits both (``1,234``) or neither."""
    text = _SIGN_AND_SPACES.sub("", value)
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        return "," if text.rfind(",") > text.rfind(".") else "."
    if commas > 1:
        return "."  # 1,234,567: commas group thousands
    if dots > 1:
        return ","  # 1.234.567: dots group thousands
    if commas or dots:
        return None if _GROUPED.fullmatch(text) else ("," if commas else ".")
    return None


def number_format(mapping: ColumnMapping, samples: Iterable[str]) -> NumberFormat:
    """The mapping's number format, else the one most sample values show (a tie: decimal point)."""
    if mapping.decimal is not None or mapping.thousands is not None:
        decimal = mapping.decimal or ("," if mapping.thousands == "." else ".")
        thousands = mapping.thousands
        if thousands is None:
            thousands = ("." if decimal == "," else ",") + _SPACES
        return NumberFormat(decimal, thousands, detected=False)
    votes = {".": 0, ",": 0}
    for value in samples:
        vote = decimal_vote(value)
        if vote:
            votes[vote] += 1
    if votes[","] > votes["."]:
        return NumberFormat(",", "." + _SPACES)
    return NumberFormat()
