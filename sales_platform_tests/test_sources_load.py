"""Loading good order files: the exact `orders` contract, dates, days, row numbers, returns."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sales_platform import tables
from sales_platform.sources import ORDERS_SCHEMA, ColumnMapping, SourceError, load_orders

FIXTURES = Path(__file__).parent / "fixtures" / "orders_files"
GOOD = FIXTURES / "good"
GOOD_ALT = FIXTURES / "good_alt"

EXPECTED_DTYPES = tables.ORDERS_DTYPES


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    """Column -> dtype as EXPECTED_DTYPES spells it (str() of string[pyarrow] is "string")."""
    spelled = {}
    for column, dtype in frame.dtypes.items():
        name = str(dtype)
        if isinstance(dtype, pd.StringDtype):
            name = f"string[{dtype.storage}]"
        spelled[column] = name
    return spelled


def _accounted(result) -> bool:
    c = result.counts
    return c["rows_read"] == c["orders"] + c["returns"] + c["rejected_rows"] + c["out_of_range"]


def test_good_files_load_with_the_exact_contract():
    result = load_orders(GOOD)
    orders = result.orders
    assert list(orders.columns) == list(tables.COLUMNS[tables.ORDERS])
    assert _dtypes(orders) == EXPECTED_DTYPES
    ORDERS_SCHEMA.validate(orders)
    assert result.rejected.empty and list(result.rejected.columns) == [
        "file",
        "row",
        "column",
        "value",
        "reason",
    ]
    assert [p.name for p in result.files] == ["orders_2025-01-01.csv", "orders_2025-01-02.csv"]
    assert result.counts == {
        "files": 2,
        "files_skipped": 0,
        "rows_read": 8,
        "orders": 7,
        "returns": 1,
        "rejected_rows": 0,
        "problems": 0,
        "out_of_range": 0,
    }
    assert orders["order_ts"].is_monotonic_increasing


def test_good_values_are_parsed_and_derived():
    orders = load_orders(GOOD).orders.set_index(["order_id", "line_number"])
    first = orders.loc[("536365", 2)]
    assert first["product_id"] == "71053" and first["quantity"] == 6
    assert first["order_ts"] == pd.Timestamp("2025-01-01 08:26")  # month-first, from 1/1/2025 8:26
    assert first["order_date"] == pd.Timestamp("2025-01-01")
    assert first["amount"] == pytest.approx(6 * 3.39)  # amount = quantity x unit price
    assert orders.loc[("536366", 1), "customer_id"] == "unknown"  # blank CustomerID
    assert orders.loc[("536368", 2), "product_id"] == "22913"  # the line with a quoted comma
    # Line numbers follow the row order within an order in its file.
    assert list(orders.loc["536368"].index) == [1, 2]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (["1/5/25", "12/31/24 8:05"], ["2025-01-05", "2024-12-31 08:05"]),
        (["31.12.2024 10:00", "05.01.2025"], ["2024-12-31 10:00", "2025-01-05"]),
        (["5 Jan 2025", "31 Dec 2024"], ["2025-01-05", "2024-12-31"]),
        (["20250105", "20241231"], ["2025-01-05", "2024-12-31"]),
        (["2025-01-05T10:00:00+02:00", "2024-12-31"], ["2025-01-05 08:00", "2024-12-31"]),
    ],
)
def test_common_date_layouts_are_recognised(tmp_path, written, expected):
    rows = "".join(f"{i},{d},A,1,2.0\n" for i, d in enumerate(written))
    (tmp_path / "export.csv").write_text("order_id,when,sku,qty,price\n" + rows)
    result = load_orders(tmp_path / "export.csv", {"order_ts": "when"})
    by_id = result.orders.set_index("order_id")["order_ts"]
    assert [by_id[str(i)] for i in range(len(written))] == [pd.Timestamp(e) for e in expected]


def test_ambiguous_dates_follow_the_dates_in_the_file_names(tmp_path):
    header = "order_id,date,sku,qty,price\n"
    (tmp_path / "orders_2025-02-01.csv").write_text(header + "1,01/02/2025,A,1,2.0\n")
    (tmp_path / "orders_2025-02-03.csv").write_text(header + "2,03/02/2025,A,1,2.0\n")
    result = load_orders(tmp_path)
    assert result.date_formats == {"order_date": "day-first %d/%m/%Y"}
    assert list(result.orders["order_date"].dt.date) == [date(2025, 2, 1), date(2025, 2, 3)]
    # An explicit format always wins.
    forced = load_orders(tmp_path, {"date_format": "%m/%d/%Y"})
    assert list(forced.orders["order_date"].dt.date) == [date(2025, 1, 2), date(2025, 3, 2)]


def test_offsets_are_converted_to_utc_and_amount_only_exports_get_a_unit_price():
    result = load_orders(GOOD_ALT)
    orders = result.orders.set_index(["order_id", "line_number"])
    # 2025-03-01T23:30:00-02:00 is 2025-03-02 01:30 UTC: that is its order date.
    assert orders.loc[("A-2", 1), "order_ts"] == pd.Timestamp("2025-03-02 01:30")
    assert orders.loc[("A-2", 1), "order_date"] == pd.Timestamp("2025-03-02")
    assert orders.loc[("A-1", 1), "unit_price"] == pytest.approx(9.99)  # 19.98 / 2
    assert set(orders["customer_id"]) == {"unknown"}  # no customer column at all
    assert result.columns[str(GOOD_ALT / "shop_export.csv")]["amount"] == "total_amount"


def test_explicit_mapping_gives_the_same_result_as_detection():
    mapping = {
        "order_id": "InvoiceNo",
        "order_ts": "InvoiceDate",
        "product_id": "StockCode",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
        "customer_id": "CustomerID",
        "date_format": "%m/%d/%Y %H:%M",
    }
    explicit = load_orders(GOOD, mapping)
    pd.testing.assert_frame_equal(explicit.orders, load_orders(GOOD).orders)
    assert explicit.date_formats == {"order_ts": "%m/%d/%Y %H:%M"}
    # Same through the JSON text the lead passes from SALES_SOURCE_MAPPING.
    as_json = load_orders(GOOD, '{"order_id": "InvoiceNo", "quantity": "Quantity"}')
    pd.testing.assert_frame_equal(as_json.orders, explicit.orders)


def test_parquet_loads_like_csv(tmp_path):
    with duckdb.connect() as con:
        for src in GOOD.iterdir():
            con.execute(
                f"COPY (SELECT * REPLACE (strptime(InvoiceDate, '%m/%d/%Y %H:%M') AS InvoiceDate,"
                f" Quantity::INTEGER AS Quantity, UnitPrice::DOUBLE AS UnitPrice) "
                f"FROM read_csv('{src}', all_varchar=true)) TO '{tmp_path / src.stem}.parquet'"
            )
    from_parquet = load_orders(tmp_path)
    pd.testing.assert_frame_equal(from_parquet.orders, load_orders(GOOD).orders)
    assert len(from_parquet.returns) == 1 and from_parquet.returns["row"].iloc[0] == 3


def test_returns_are_kept_out_of_orders():
    result = load_orders(GOOD)
    returns = result.returns
    assert list(returns["order_id"]) == ["C536369"] and returns["quantity"].iloc[0] == -2
    assert returns["reason"].iloc[0] == "negative quantity" and returns["row"].iloc[0] == 4
    assert "C536369" not in set(result.orders["order_id"])
    assert (result.orders["quantity"] > 0).all() and (result.orders["amount"] >= 0).all()


def test_cancelled_status_is_a_return_and_the_statuses_are_configurable():
    result = load_orders(GOOD_ALT)
    assert list(result.returns["order_id"]) == ["A-3"]
    assert result.returns["reason"].iloc[0] == "status cancelled"
    assert result.returns["quantity"].iloc[0] == 3  # kept as written
    everything = load_orders(GOOD_ALT, ColumnMapping(return_statuses=()))
    assert len(everything.orders) == 4 and everything.returns.empty
    shipped = load_orders(GOOD_ALT, {"return_statuses": ["Shipped", "cancelled"]})
    assert set(shipped.returns["order_id"]) == {"A-2", "A-3"}


def test_a_day_reads_only_the_files_around_it(tmp_path):
    header = "order_id,created_at,sku,qty,price\n"
    for day in range(1, 6):
        (tmp_path / f"orders_2025-01-0{day}.csv").write_text(
            header + f"{day},2025-01-0{day} 12:00,A,1,2.0\n"
        )
    # A line just after midnight sits in the previous day's file.
    (tmp_path / "orders_2025-01-02.csv").write_text(
        header + "2,2025-01-02 12:00,A,1,2.0\n9,2025-01-03 00:05,A,1,2.0\n"
    )
    result = load_orders(tmp_path, start=date(2025, 1, 3), end=date(2025, 1, 3))
    assert [p.name for p in result.files] == [
        "orders_2025-01-02.csv",
        "orders_2025-01-03.csv",
        "orders_2025-01-04.csv",
    ]
    assert sorted(result.orders["order_id"]) == ["3", "9"]
    assert set(result.orders["order_date"]) == {pd.Timestamp("2025-01-03")}
    assert result.counts["out_of_range"] == 2 and _accounted(result)
    assert load_orders(tmp_path, start="2025-01-04").counts["orders"] == 2
    assert load_orders(tmp_path, end="2025-01-01").counts["orders"] == 1
    assert load_orders(tmp_path, start="2030-01-01").orders.empty


def test_problems_outside_the_range_do_not_fail_a_day(tmp_path):
    header = "order_id,created_at,sku,qty,price\n"
    (tmp_path / "orders_2025-01-01.csv").write_text(header + "1,2025-01-01 12:00,A,1,2.0\n")
    (tmp_path / "orders_2025-01-02.csv").write_text(header + "2,garbage,A,1,2.0\n")
    assert load_orders(tmp_path, start="2025-01-01", end="2025-01-01").counts["orders"] == 1
    with pytest.raises(SourceError, match="orders_2025-01-02.csv, row 2, column 'created_at'"):
        load_orders(tmp_path, start="2025-01-02", end="2025-01-02")


def test_undated_file_is_filtered_after_reading(tmp_path):
    shutil.copy(GOOD_ALT / "shop_export.csv", tmp_path / "export.csv")
    result = load_orders(tmp_path / "export.csv", start="2025-03-02", end="2025-03-02")
    assert list(result.orders["order_id"]) == ["A-2"] and len(result.returns) == 1
    assert result.counts["out_of_range"] == 2 and _accounted(result)


def test_an_order_split_across_two_files_is_a_duplicate_in_full_and_daily_loads(tmp_path):
    header = "order_id,created_at,sku,qty,price\n"
    (tmp_path / "orders_2025-01-01.csv").write_text(header + "7,2025-01-01 23:00,A,1,2.0\n")
    (tmp_path / "orders_2025-01-02.csv").write_text(header + "7,2025-01-01 23:00,A,1,2.0\n")
    full = load_orders(tmp_path, on_error="quarantine", max_rejected=1.0)
    daily = load_orders(
        tmp_path, on_error="quarantine", max_rejected=1.0, start="2025-01-01", end="2025-01-01"
    )
    for result in (full, daily):
        assert len(result.orders) == 1
        problem = result.rejected.iloc[0]
        assert Path(problem["file"]).name == "orders_2025-01-02.csv" and problem["row"] == 2
        assert problem["reason"].startswith("duplicate order line: first seen at")
        assert problem["column"] == "order_id"  # line numbers are derived: the order id repeats


def test_row_numbers_count_blank_lines_and_multi_line_values(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,date,sku,qty,price,note\n"  # row 1
        "1,2025-01-05,A,1,2.0,x\n"  # row 2
        "\n"  # row 3: blank
        '2,2025-01-05,B,1,2.0,"two\nlines"\n'  # row 4 (one spreadsheet row, two text lines)
        "3,2025-01-05,C,zz,2.0,ok\n"  # row 5
        "4,2025-01-05,D,1,2.0,ok,extra\n"  # row 6
        "5,bad,E,1,2.0,ok\n"  # row 7
    )
    result = load_orders(path, on_error="quarantine", max_rejected=1.0)
    assert list(zip(result.rejected["row"], result.rejected["reason"], strict=True)) == [
        (5, "not a number"),
        (6, "too many fields in the row"),
        (7, "unparseable date"),
    ]
    assert sorted(result.orders["order_id"]) == ["1", "2"] and not result.warnings


def test_files_sharing_a_header_are_read_together_whatever_their_quoting(tmp_path):
    header = "order_id,created_at,sku,name,qty,price\n"
    (tmp_path / "orders_2025-01-01.csv").write_text(header + "1,2025-01-01,A,plain,1,2.0\n")
    (tmp_path / "orders_2025-01-02.csv").write_text(
        header + '2,2025-01-02,B,"with, comma",1,2.0\n3,2025-01-02,C,"say ""hi""",1,2.0\n'
    )
    (tmp_path / "orders_2025-01-03.csv").write_text(
        "order_id;created_at;sku;qty;price\n4;2025-01-03;D;1;2,5\n"
    )
    result = load_orders(tmp_path, on_error="quarantine", max_rejected=1.0)
    names = result.product_attributes.set_index("product_id")["name"]
    assert names["B"] == "with, comma" and names["C"] == 'say "hi"'
    assert sorted(result.orders["order_id"]) == ["1", "2", "3"]
    # "2,5" is not a number: the decimal comma is not guessed at.
    assert result.rejected[["row", "column", "reason"]].values.tolist() == [
        [2, "price", "not a number"]
    ]


def test_no_order_files_is_an_error(tmp_path):
    (tmp_path / "README.md").write_text("nothing here")
    with pytest.raises(SourceError, match="no CSV or Parquet order files found"):
        load_orders(tmp_path)


def test_header_only_file_is_an_empty_day(tmp_path):
    (tmp_path / "orders_2025-01-01.csv").write_text("order_id,date,sku,qty,price\n")
    result = load_orders(tmp_path)
    assert result.orders.empty and result.rejected.empty
    assert _dtypes(result.orders) == EXPECTED_DTYPES
    assert result.empty_days == [date(2025, 1, 1)]  # the source says: nothing sold that day


def test_on_error_must_be_known():
    with pytest.raises(ValueError, match="on_error"):
        load_orders(GOOD, on_error="ignore")


LINE = st.fixed_dictionaries(
    {
        "qty": st.sampled_from(["1", "3", "-2", "0", "x", "1.5", ""]),
        "price": st.sampled_from(["2.50", "0", "-1", "abc", "$4.00"]),
        "date": st.sampled_from(["2025-01-05 10:00", "2025-01-06", "1/7/2025", "nope", ""]),
        "order": st.sampled_from(["1", "2", "3", ""]),
    }
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(LINE, max_size=12), day=st.sampled_from([None, date(2025, 1, 6)]))
def test_every_row_is_accounted_for(tmp_path_factory, lines, day):
    """Whatever the mix of good and bad rows, each row is an order, a return, a rejected row or
    out of range -- never silently dropped -- and the orders always meet the contract."""
    path = tmp_path_factory.mktemp("mix") / "export.csv"
    body = "".join(
        f"{x['order']},{x['date']},P{i % 3},{x['qty']},{x['price']}\n" for i, x in enumerate(lines)
    )
    path.write_text("order_id,created_at,sku,qty,price\n" + body)
    try:
        result = load_orders(path, on_error="quarantine", max_rejected=1.0, start=day, end=day)
    except SourceError as refused:  # at any share, a load without one valid row is refused
        assert ("rows read is valid" if lines else "hold no data row") in str(refused)
        return
    assert _accounted(result) and result.counts["rows_read"] == len(lines)
    ORDERS_SCHEMA.validate(result.orders)
    assert result.orders["amount"].ge(0).all() and (result.returns["quantity"] < 0).all()
    if result.counts["rejected_rows"]:
        with pytest.raises(SourceError):
            load_orders(path, start=day, end=day)
