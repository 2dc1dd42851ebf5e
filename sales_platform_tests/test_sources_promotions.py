"""The user's promotions file: header detection, date layouts, errors naming file, row, column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sales_platform.sources import SourceError
from sales_platform.sources.promotions import PROMOTION_COLUMNS, load_promotions


def write(tmp_path: Path, text: str, name: str = "promotions.csv", **kwargs) -> Path:
    path = tmp_path / name
    path.write_text(text, **kwargs)
    return path


def test_the_documented_format_loads(tmp_path):
    path = write(
        tmp_path,
        "start_date,end_date,scope,name\n"
        "2025-07-08,2025-07-10,Electronics,Tech days\n"
        "2025-03-10,2025-03-16,,Spring sale\n",
    )
    table = load_promotions(path)
    assert list(table.columns) == list(PROMOTION_COLUMNS)
    assert str(table["start_date"].dtype) == "datetime64[ns]"
    assert str(table["end_date"].dtype) == "datetime64[ns]"
    assert table["start_date"].tolist() == [pd.Timestamp("2025-03-10"), pd.Timestamp("2025-07-08")]
    assert table["end_date"].tolist() == [pd.Timestamp("2025-03-16"), pd.Timestamp("2025-07-10")]
    assert table["scope"].tolist() == [None, "Electronics"]  # sorted by start date
    assert table["name"].tolist() == ["Spring sale", "Tech days"]


@pytest.mark.parametrize(
    "header",
    [
        "Start,End,Category,Promotion",
        "FROM;TO;Scope;Description",
        "Start Date\tEnd Date\tcategory\tName",
        "begin|until|Product Category|Campaign",
        "start-date,end_date,SCOPE,title",
    ],
)
def test_common_header_names_are_detected_case_insensitively(tmp_path, header):
    delimiter = next(d for d in (",", ";", "\t", "|") if d in header)
    row = delimiter.join(["2025-11-28", "2025-12-01", "Toys", "Black week"])
    table = load_promotions(write(tmp_path, f"{header}\n{row}\n"))
    assert table.iloc[0].to_dict() == {
        "start_date": pd.Timestamp("2025-11-28"),
        "end_date": pd.Timestamp("2025-12-01"),
        "scope": "Toys",
        "name": "Black week",
    }


def test_scope_and_name_are_optional_and_a_whole_shop_scope_is_none(tmp_path):
    only_dates = load_promotions(write(tmp_path, "start,end\n2025-01-02,2025-01-02\n"))
    assert only_dates["scope"].tolist() == [None] and only_dates["name"].tolist() == [None]
    whole = load_promotions(
        write(
            tmp_path,
            "start,end,scope\n2025-01-02,2025-01-03,All\n2025-02-02,2025-02-03,*\n"
            "2025-03-02,2025-03-03,  \n2025-04-02,2025-04-03,total\n",
            name="whole.csv",
        )
    )
    assert whole["scope"].isna().all()


def test_a_header_without_rows_is_an_empty_table_and_blank_lines_are_skipped(tmp_path):
    empty = load_promotions(write(tmp_path, "start_date,end_date,scope,name\n"))
    assert empty.empty and list(empty.columns) == list(PROMOTION_COLUMNS)
    assert str(empty["start_date"].dtype) == "datetime64[ns]"
    blank = load_promotions(write(tmp_path, "start,end\n\n2025-01-02,2025-01-05\n\n", "b.csv"))
    assert len(blank) == 1


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        ("2025-03-10 00:00:00", "2025-03-16T23:59", "2025-03-10", "2025-03-16"),
        ("03/10/2025", "03/16/2025", "2025-03-10", "2025-03-16"),  # month-first (day > 12)
        ("10/03/2025", "16/03/2025", "2025-03-10", "2025-03-16"),  # day-first (day > 12)
        ("28/11/25", "01/12/25", "2025-11-28", "2025-12-01"),  # Superstore-like dd/mm/yy
        ("10.03.2025", "16.03.2025", "2025-03-10", "2025-03-16"),
        ("10 Mar 2025", "16 March 2025", "2025-03-10", "2025-03-16"),
        ("20250310", "20250316", "2025-03-10", "2025-03-16"),
    ],
)
def test_iso_and_common_date_layouts(tmp_path, start, end, first, last):
    table = load_promotions(write(tmp_path, f'start,end\n"{start}","{end}"\n'))
    assert table.iloc[0]["start_date"] == pd.Timestamp(first)
    assert table.iloc[0]["end_date"] == pd.Timestamp(last)


def test_a_utf8_bom_and_windows_1252_text_are_read(tmp_path):
    bom = write(tmp_path, "Start,End,Name\n2025-01-02,2025-01-03,Soldes\n", encoding="utf-8-sig")
    assert load_promotions(bom)["start_date"].tolist() == [pd.Timestamp("2025-01-02")]
    latin = write(
        tmp_path, "start,end,name\n2025-01-02,2025-01-03,Été\n", "l.csv", encoding="cp1252"
    )
    assert load_promotions(latin)["name"].tolist() == ["Été"]


def raised(path: Path) -> SourceError:
    with pytest.raises(SourceError) as error:
        load_promotions(path)
    return error.value


def test_an_end_before_the_start_names_file_row_and_column(tmp_path):
    path = write(
        tmp_path,
        "start,end,name\n2025-03-10,2025-03-16,ok\n2025-07-10,2025-07-08,backwards\n",
    )
    error = raised(path)
    assert (error.file, error.row, error.column) == (str(path), 3, "end")
    assert error.reason.startswith("end date before start date")
    message = str(error)
    assert str(path) in message and "row 3" in message and "column 'end'" in message
    assert "'2025-07-08'" in message and "2025-07-10" in message


def test_unparseable_and_missing_dates_are_each_named(tmp_path):
    path = write(
        tmp_path,
        "Start Date,End Date\n2025-03-10,2025-03-16\n2025-02-30,2025-03-01\n"
        "soon,2025-04-01\n2025-05-01,\n",
    )
    error = raised(path)
    assert (error.row, error.column, error.reason) == (3, "Start Date", "unparseable date")
    message = str(error)
    assert "3 problem(s)" in message
    assert "row 3, column 'Start Date': unparseable date (value '2025-02-30')" in message
    assert "row 4, column 'Start Date': unparseable date (value 'soon')" in message
    assert "row 5, column 'End Date': missing value" in message
    assert list(error.problems.columns) == ["file", "row", "column", "value", "reason"]
    assert error.problems["row"].tolist() == [3, 4, 5]


def test_ambiguous_day_and_month_ask_for_iso_dates(tmp_path):
    error = raised(write(tmp_path, "start,end\n03/04/2025,05/04/2025\n"))
    assert "ambiguous dates" in str(error) and "YYYY-MM-DD" in str(error)


def test_a_missing_column_or_file_is_a_clear_error(tmp_path):
    error = raised(write(tmp_path, "day,discount\n2025-01-01,10%\n"))
    assert error.row == 1 and "no start date column" in str(error)
    assert error.columns_found == ["day", "discount"]
    assert "start_date,end_date,scope,name" in str(error)
    missing = raised(tmp_path / "nope.csv")
    assert "promotions file not found" in str(missing) and "nope.csv" in str(missing)
    assert "empty file" in str(raised(write(tmp_path, "", "empty.csv")))
    assert "not a file" in str(raised(tmp_path))
