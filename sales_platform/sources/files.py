"""Finding the order files of a source, the day each one holds, and what kind of file it is.

Nothing here parses a file: it lists files, reads their names and stats, and looks at the first
bytes to tell CSV, Parquet and "not a table at all" apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from .errors import SourceError

#: File names (lower case) that a folder scan takes as order files. A file whose name carries a
#: date (`orders_2025-01-31.xlsx`) is taken too, so that a misexported day fails loudly instead of
#: being skipped; anything else in the folder (README, notes) is skipped and listed.
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".csv.zst", ".tsv.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")

# YYYY-MM-DD, YYYY_MM_DD, YYYYMMDD or YYYY/MM/DD, not inside a longer number.
_DAY_RE = re.compile(r"(?<!\d)(\d{4})([-_/]?)(\d{2})\2(\d{2})(?!\d)")

_CONTROL = bytes([*range(0, 9), *range(14, 32)])  # bytes that plain text does not contain
_MAGIC_HINTS = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one): export it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file: export it as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One file of a source: where it is, the day its name carries (if any), its stats."""

    path: Path
    relpath: str
    day: date | None
    size: int
    mtime_ns: int


def day_from_name(name: str) -> date | None:
    """The date a file name (or relative path) carries, or ``None``.

    ``orders_2025-01-31.csv``, ``2025_01_31.parquet``, ``sales20250131.csv`` and
    ``date=2025-01-31/part-0.parquet`` all give 2025-01-31; the last valid date in the name wins.
    """
    found = None
    for match in _DAY_RE.finditer(name):
        try:
            found = date(int(match[1]), int(match[3]), int(match[4]))
        except ValueError:
            continue
    return found


def _is_hidden(rel: Path) -> bool:
    return any(part.startswith((".", "_")) for part in rel.parts)


def _is_order_file(rel: Path) -> bool:
    name = rel.name.lower()
    return (
        name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES) or day_from_name(rel.as_posix()) is not None
    )


def discover(path: str | Path) -> tuple[list[SourceFile], list[Path]]:
    """The order files under `path` (a file or a folder, searched recursively) and the skipped ones.

    Hidden files and folders (names starting with ``.`` or ``_``, e.g. ``_SUCCESS``) are ignored.
    Files are sorted by the day in their name (undated ones first), then by path.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise SourceError.single(root, "source path does not exist")
    if root.is_file():
        return [_stat(root, root.name)], []
    found: list[SourceFile] = []
    skipped: list[Path] = []
    for item in sorted(root.rglob("*")):
        rel = item.relative_to(root)
        if not item.is_file() or _is_hidden(rel):
            continue
        if _is_order_file(rel):
            found.append(_stat(item, rel.as_posix()))
        else:
            skipped.append(item)
    found.sort(key=lambda f: (f.day or date.min, f.relpath))
    return found, skipped


def _stat(path: Path, rel: str) -> SourceFile:
    st = path.stat()
    return SourceFile(path, rel, day_from_name(rel), st.st_size, st.st_mtime_ns)


def list_source_days(path: str | Path) -> list[date]:
    """The days for which `path` has a file, from the file names, sorted (cheap: no file is read).

    For a Dagster sensor: each day is a partition key to request. Files whose names carry no date
    are not listed (a single undated file is re-read whole by each load; watch it with
    `source_cursor`).
    """
    files, _ = discover(path)
    return sorted({f.day for f in files if f.day is not None})


def source_cursor(path: str | Path, *, day: date | None = None) -> str:
    """A short stable fingerprint of the source (or of one day's files): changes when a file is
    added, removed, renamed, resized or touched; never reads file contents.

    Use it as a sensor cursor or as the data version of a daily partition.
    """
    files, _ = discover(path)
    if day is not None:
        files = [f for f in files if f.day == day]
    return fingerprint(files)


def fingerprint(files: Iterable[SourceFile]) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.relpath):
        digest.update(f"{f.relpath}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class FileKind:
    """What the first bytes of a file say: ``csv`` (with a detected encoding) or ``parquet``."""

    kind: str
    encoding: str | None = None


def sniff_kind(sf: SourceFile) -> FileKind:
    """Tell CSV from Parquet from anything else by the first bytes (and the name for Parquet).

    Raises `SourceError` for an empty file and for a file that is neither CSV nor Parquet.
    """
    with open(sf.path, "rb") as fh:
        head = fh.read(8192)
    name = sf.path.name.lower()
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise SourceError.single(
            sf.path, "empty file", hint="expected a header row and one row per order line"
        )
    if head.startswith(b"PAR1"):
        return FileKind("parquet")
    if name.endswith(PARQUET_SUFFIXES):
        raise SourceError.single(
            sf.path, "not a Parquet file", hint="it does not start with the Parquet magic bytes"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return FileKind("csv", "utf-16")
    if head.startswith(b"\x1f\x8b") and name.endswith((".gz", ".gzip")):
        return FileKind("csv")
    if head.startswith(b"\x28\xb5\x2f\xfd") and name.endswith(".zst"):
        return FileKind("csv")
    for magic, what in _MAGIC_HINTS:
        if head.startswith(magic):
            raise SourceError.single(sf.path, f"not a CSV or Parquet file: it is {what}")
    control = len(head) - len(head.translate(None, _CONTROL))
    if b"\x00" in head or control > max(2, len(head) // 100):
        raise SourceError.single(
            sf.path, "not a CSV or Parquet file: binary content", value=head[:16].hex(" ")
        )
    return FileKind("csv")
