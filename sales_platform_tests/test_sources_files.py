"""Finding a source's files: dates in file names, skipped files, cursors for a sensor."""

from __future__ import annotations

import os
from datetime import date

import pytest

from sales_platform.sources import SourceError, day_from_name, list_source_days, source_cursor
from sales_platform.sources.files import discover


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders_2025-01-31.csv", date(2025, 1, 31)),
        ("2025_01_31.parquet", date(2025, 1, 31)),
        ("sales20250131.csv", date(2025, 1, 31)),
        ("date=2025-01-31/part-0.parquet", date(2025, 1, 31)),
        ("2025/01/31.csv", date(2025, 1, 31)),
        ("export_v2_2024-12-01.csv.gz", date(2024, 12, 1)),
        ("orders.csv", None),
        ("orders_2025-13-45.csv", None),  # not a date
        ("batch_123456789.csv", None),  # a longer number is not a date
    ],
)
def test_day_from_name(name, expected):
    assert day_from_name(name) == expected


def _folder(tmp_path):
    (tmp_path / "orders_2025-01-02.csv").write_text("a\n")
    (tmp_path / "orders_2025-01-01.csv").write_text("a\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "2025-01-03.parquet").write_bytes(b"PAR1")
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / ".hidden_2025-01-09.csv").write_text("a\n")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "all_history.csv").write_text("a\n")
    return tmp_path


def test_discover_lists_order_files_sorted_and_skips_the_rest(tmp_path):
    files, skipped = discover(_folder(tmp_path))
    assert [f.relpath for f in files] == [
        "all_history.csv",
        "orders_2025-01-01.csv",
        "orders_2025-01-02.csv",
        "sub/2025-01-03.parquet",
    ]
    assert [p.name for p in skipped] == ["README.md"]


def test_a_dated_file_of_another_format_is_an_order_file(tmp_path):
    (tmp_path / "orders_2025-01-05.xlsx").write_bytes(b"PK\x03\x04...")
    files, skipped = discover(tmp_path)
    assert [f.relpath for f in files] == ["orders_2025-01-05.xlsx"] and not skipped


def test_list_source_days(tmp_path):
    assert list_source_days(_folder(tmp_path)) == [
        date(2025, 1, 1),
        date(2025, 1, 2),
        date(2025, 1, 3),
    ]
    assert list_source_days(tmp_path / "orders_2025-01-02.csv") == [date(2025, 1, 2)]
    assert list_source_days(tmp_path / "all_history.csv") == []


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        list_source_days(tmp_path / "nope")


def test_cursor_changes_with_files_and_per_day_cursor_only_with_that_day(tmp_path):
    folder = _folder(tmp_path)
    whole, day1, day2 = (
        source_cursor(folder),
        source_cursor(folder, day=date(2025, 1, 1)),
        source_cursor(folder, day=date(2025, 1, 2)),
    )
    assert whole == source_cursor(folder)  # stable
    (folder / "orders_2025-01-04.csv").write_text("a\n")
    assert source_cursor(folder) != whole
    assert source_cursor(folder, day=date(2025, 1, 1)) == day1
    stat = (folder / "orders_2025-01-02.csv").stat()
    os.utime(folder / "orders_2025-01-02.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert source_cursor(folder, day=date(2025, 1, 2)) != day2
    assert source_cursor(folder, day=date(2025, 1, 1)) == day1
