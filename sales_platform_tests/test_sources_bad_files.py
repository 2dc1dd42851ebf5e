"""Every deliberately bad file: a clear error naming file, row and column (on_error="fail"),
or the bad rows set aside with their reason and the good rows loaded (on_error="quarantine", with
`max_rejected` raised: each fixture is a few rows, so its one bad row is far above the default 1%).

Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sales_platform.sources import ORDERS_SCHEMA, SourceError, load_orders

BAD = Path(__file__).parent / "fixtures" / "orders_files" / "bad"
GOOD = Path(__file__).parent / "fixtures" / "orders_files" / "good"

# file, row, column (the file's own column name, None when the row itself is broken),
# a fragment of the reason, and how many lines load in quarantine.
ROW_CASES = [
    ("bad_date.csv", 4, "InvoiceDate", "unparseable date", 3),
    ("non_numeric_quantity.csv", 3, "Quantity", "not a number", 2),
    ("zero_quantity.csv", 5, "Quantity", "zero quantity", 3),
    ("negative_price.csv", 2, "UnitPrice", "negative unit price", 1),
    ("duplicate_line.csv", 5, "LineNo", "duplicate order line: first seen at", 3),
    ("non_utf8.csv", 3, "Description", "invalid UTF-8", 2),
    ("wrong_field_count.csv", 3, None, "too many fields", 2),
]
# Problems with the whole file: no row or column to name.
FILE_CASES = [
    ("empty.csv", "empty file"),
    ("not_csv.csv", "not a CSV or Parquet file: it is a PNG image"),
    ("not_parquet.parquet", "not a Parquet file"),
]


# One bad row in four is far above the default share; these tests are about the mechanics.
ANY_SHARE = 1.0


def _assert_accounted(result):
    c = result.counts
    assert c["rows_read"] == c["orders"] + c["returns"] + c["rejected_rows"] + c["out_of_range"]


@pytest.mark.parametrize(("name", "row", "column", "reason", "loaded"), ROW_CASES)
def test_fail_names_file_row_and_column(name, row, column, reason, loaded):
    with pytest.raises(SourceError) as info:
        load_orders(BAD / name)
    error, message = info.value, str(info.value)
    assert name in message and f"row {row}" in message and reason in message
    if column is not None:
        assert f"column '{column}'" in message
    assert (Path(error.file).name, error.row, error.column) == (name, row, column)
    assert reason in error.reason
    assert list(error.problems.columns) == ["file", "row", "column", "value", "reason"]


@pytest.mark.parametrize(("name", "row", "column", "reason", "loaded"), ROW_CASES)
def test_quarantine_sets_bad_row_aside_and_loads_the_rest(name, row, column, reason, loaded):
    result = load_orders(BAD / name, on_error="quarantine", max_rejected=ANY_SHARE)
    rejected = result.rejected
    assert len(rejected) == 1
    problem = rejected.iloc[0]
    assert Path(problem["file"]).name == name and problem["row"] == row
    assert (column is None and pd.isna(problem["column"])) or problem["column"] == column
    assert reason in problem["reason"]
    assert len(result.orders) == loaded and result.counts["rejected_rows"] == 1
    ORDERS_SCHEMA.validate(result.orders)
    _assert_accounted(result)


def test_quarantined_values_are_the_text_as_written():
    values = {
        name: load_orders(BAD / name, on_error="quarantine", max_rejected=ANY_SHARE)
        .rejected["value"]
        .iloc[0]
        for name in (
            "bad_date.csv",
            "non_numeric_quantity.csv",
            "zero_quantity.csv",
            "negative_price.csv",
        )
    }
    assert values == {
        "bad_date.csv": "yesterday",
        "non_numeric_quantity.csv": "two",
        "zero_quantity.csv": "0",
        "negative_price.csv": "-9.99",
    }


@pytest.mark.parametrize(("name", "reason"), FILE_CASES)
def test_fail_on_a_file_that_is_not_a_table(name, reason):
    with pytest.raises(SourceError) as info:
        load_orders(BAD / name)
    assert name in str(info.value) and reason in str(info.value)
    assert Path(info.value.file).name == name and info.value.row is None


@pytest.mark.parametrize("on_error", ["fail", "quarantine"])
@pytest.mark.parametrize(("name", "reason"), FILE_CASES)
def test_a_file_that_is_not_a_table_refuses_the_load_under_either_policy(
    tmp_path, name, reason, on_error
):
    for good in GOOD.iterdir():
        shutil.copy(good, tmp_path / good.name)
    shutil.copy(BAD / name, tmp_path / name)
    with pytest.raises(SourceError) as info:
        load_orders(tmp_path, on_error=on_error, max_rejected=ANY_SHARE)
    message = str(info.value)
    assert message.startswith("load refused: 1 file(s) cannot be read as a table")
    assert "SALES_SOURCE_ON_ERROR" in message and name in message and reason in message
    problem = info.value.problems.iloc[0]
    assert Path(problem["file"]).name == name and reason in problem["reason"]
    assert pd.isna(problem["row"]) and pd.isna(problem["column"])


@pytest.mark.parametrize("on_error", ["fail", "quarantine"])
def test_missing_required_column_always_fails(on_error):
    with pytest.raises(SourceError) as info:
        load_orders(BAD / "missing_column.csv", on_error=on_error)
    message = str(info.value)
    assert "missing_column.csv" in message and "row 1" in message
    assert "required column(s) missing: quantity" in message
    assert (
        "Columns found: ['InvoiceNo', 'InvoiceDate', 'StockCode', 'UnitPrice', 'CustomerID']"
        in (message)
    )
    assert info.value.columns_found == [
        "InvoiceNo",
        "InvoiceDate",
        "StockCode",
        "UnitPrice",
        "CustomerID",
    ]


def test_a_folder_of_bad_files_reports_every_problem(tmp_path):
    for name, *_ in ROW_CASES:
        shutil.copy(BAD / name, tmp_path / name)
    with pytest.raises(SourceError) as info:
        load_orders(tmp_path)
    files = {Path(f).name for f in info.value.problems["file"]}
    assert files == {name for name, *_ in ROW_CASES}
    assert "... and" in str(info.value)  # the message lists the first few, then counts the rest
    result = load_orders(tmp_path, on_error="quarantine", max_rejected=ANY_SHARE)
    rejected = result.rejected
    found = {(Path(f).name, r) for f, r in zip(rejected["file"], rejected["row"], strict=True)}
    assert {(name, row) for name, row, *_ in ROW_CASES} <= found
    # The files reuse order ids 1001, 1002...: across files those are duplicate order lines too.
    assert result.rejected_by_reason["duplicate order line"] > 1
    _assert_accounted(result)


def test_latin1_file_loads_when_the_encoding_is_set():
    result = load_orders(BAD / "non_utf8.csv", {"encoding": "latin-1"})
    assert len(result.orders) == 3 and result.rejected.empty
    assert result.product_attributes.set_index("product_id").loc["A2", "name"] == "Café cup"


def test_loading_never_writes(tmp_path):
    for good in GOOD.iterdir():
        shutil.copy(good, tmp_path / good.name)
    shutil.copy(BAD / "bad_date.csv", tmp_path / "bad_date.csv")
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    load_orders(tmp_path, on_error="quarantine", max_rejected=ANY_SHARE)
    with pytest.raises(SourceError):
        load_orders(tmp_path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
