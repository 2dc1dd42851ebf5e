"""Real exports' formats (number formats, no order id, two-digit years) and the refusal of a load
that is mostly bad, at the sources level (no Dagster)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sales_platform.sources import (
    OrdersStream,
    SourceError,
    data_window,
    derive_customers,
    load_orders,
    open_orders,
)
from sales_platform.sources import orders as orders_module

FIXTURES = Path(__file__).parent / "fixtures" / "orders_files"
FORMATS = FIXTURES / "formats"
SAFETY = FIXTURES / "safety"
# Not ours to copy (see its README): tests read it where the project's shared data lives.
SUPERSTORE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "superstore"
    / "superstore_orders.csv.gz"
)


def test_decimal_comma_and_dotted_thousands_are_detected():
    result = load_orders(FORMATS / "decimal_comma.csv")
    assert list(result.orders["unit_price"]) == [1693.12, 2.55, 1234.50]
    assert result.number_format.startswith("1.234,50")
    assert result.date_formats == {"order_date": "day-first %d.%m.%Y"}


def test_currency_signs_and_thousands_separators_parse_whole():
    result = load_orders(FORMATS / "us_thousands.csv")
    assert sorted(result.orders["amount"]) == [12.0, 1234.5, 2000.0]


def test_the_mapping_sets_the_number_format():
    as_written = load_orders(FORMATS / "decimal_comma.csv", {"decimal": ","})
    assert list(as_written.orders["unit_price"]) == [1693.12, 2.55, 1234.50]
    with pytest.raises(SourceError) as info:  # a wrong setting fails as one pattern
        load_orders(FORMATS / "us_thousands.csv", {"decimal": ","})
    assert "column 'amount': not a number, 3 time(s), e.g. '$1,234.50', '$12.00'" in str(info.value)
    with pytest.raises(SourceError, match="decimal must be one of"):
        load_orders(FORMATS / "decimal_comma.csv", {"decimal": ";"})


def test_without_order_ids_each_line_is_its_own_order():
    with pytest.raises(SourceError) as info:
        load_orders(FORMATS / "no_order_id.csv")
    assert '"order_id": null' in str(info.value)
    result = load_orders(FORMATS / "no_order_id.csv", {"order_id": None})
    orders = result.orders
    assert list(orders["order_id"]) == [
        "no_order_id.csv:2",
        "no_order_id.csv:3",
        "no_order_id.csv:4",
    ]
    assert list(orders["line_number"]) == [1, 1, 1]  # two identical purchases stay two lines
    assert list(orders["customer_id"]) == ["c1", "c1", "c2"]  # mapped on its own
    assert list(derive_customers(result)["customer_id"]) == ["c1", "c2"]


@pytest.mark.parametrize(
    ("name", "days", "warned"),
    [
        ("two_digit_years_day_first.csv", ["2025-01-03", "2025-01-13"], False),
        ("two_digit_years_year_first.csv", ["2025-01-03", "2025-01-28"], False),
        ("two_digit_years_ambiguous.csv", ["2025-03-01", "2025-04-01"], True),
    ],
)
def test_two_digit_years_are_read_from_the_values(name, days, warned):
    result = load_orders(FORMATS / name)
    assert [str(d.date()) for d in result.orders["order_date"]] == days
    warning = [w for w in result.warnings if "date_format" in w]
    assert bool(warning) == warned
    if warned:  # nothing settles dd/mm against mm/dd: say so, and name the key that does
        assert "no day above 12 settles it" in warning[0] and "SALES_SOURCE_MAPPING" in warning[0]


def test_a_marketplace_report_loads_without_a_mapping():
    # Month-first dates with dashes; cancelled lines written with no quantity and no amount.
    result = load_orders(FORMATS / "marketplace_report.csv")
    assert result.date_formats == {"order_date": "month-first %m-%d-%Y"}
    orders = result.orders
    assert list(orders["order_id"]) == ["405-1", "405-3"]
    assert [str(d.date()) for d in orders["order_date"]] == ["2022-04-30", "2022-05-13"]
    assert list(orders["amount"]) == [647.62, 1295.24]
    returns = result.returns
    assert list(returns["order_id"]) == ["405-2", "405-4"]
    assert set(returns["reason"]) == {"status cancelled"}
    assert list(returns["quantity"]) == [0, 1] and list(returns["amount"]) == [0.0, 399.0]
    assert result.rejected.empty


SHOPIFY_MAPPING = {
    "order_id": "Name",
    "order_ts": "Created at",
    "product_id": "Lineitem sku",
    "quantity": "Lineitem quantity",
    "unit_price": "Lineitem price",
    "amount": "",  # "Total" is the order's, on its first line only
    "status": "Financial Status",
}


def test_a_line_without_a_date_or_status_takes_its_orders():
    # Order-level fields on an order's first line only, offsets after a space (Shopify's export).
    with pytest.raises(SourceError) as info:
        load_orders(FORMATS / "order_level_fields_once.csv", SHOPIFY_MAPPING)
    assert "row 5, column 'Created at': missing value" in str(info.value)  # #1003 has no date
    result = load_orders(
        FORMATS / "order_level_fields_once.csv",
        SHOPIFY_MAPPING,
        on_error="quarantine",
        max_rejected=0.5,
    )
    orders = result.orders
    assert list(orders["order_id"]) == ["#1001", "#1001", "#1002"]
    assert [str(t) for t in orders["order_ts"]] == [
        "2025-10-08 02:50:26",  # converted to UTC, as every offset is
        "2025-10-08 02:50:26",
        "2025-10-08 07:15:00",
    ]
    assert list(orders["amount"]) == [20.0, 45.0, 12.5]
    assert list(result.rejected["row"]) == [5]
    # The whole of a refunded order is a return, its second line too.
    assert list(result.returns["row"]) == [6, 7]
    assert set(result.returns["reason"]) == {"status refunded"}


def test_a_line_of_no_quantity_and_no_price_is_rejected_not_a_crash(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("order_id,date,sku,qty,amount\n1,2024-01-02,S1,0,10\n2,2024-01-02,S2,1,5\n")
    result = load_orders(export, on_error="quarantine", max_rejected=0.6)
    assert list(result.orders["order_id"]) == ["2"]
    problem = result.rejected.iloc[0]
    assert (problem["row"], problem["column"], problem["reason"]) == (2, "qty", "zero quantity")


@pytest.mark.skipif(not SUPERSTORE.exists(), reason="the shared superstore export is absent")
def test_the_superstore_export_loads_without_a_mapping():
    result = load_orders(SUPERSTORE)
    assert result.counts["orders"] == result.counts["rows_read"] > 10_000
    assert result.date_formats == {"order_date": "day-first %d/%m/%Y"}
    assert result.orders["order_date"].min().date() == date(2019, 1, 3)
    assert data_window(SUPERSTORE) == (date(2019, 1, 3), date(2022, 12, 30))


SHARE_CASES = [
    ("all_prices_bad.csv", "none of the 4 rows read is valid", "'UnitPrice': not a number, 4"),
    (
        "systematic_number_format.csv",
        "3 of 10 rows (30.0%) are bad, more than SALES_SOURCE_MAX_REJECTED=0.01 allows",
        "'UnitPrice': not a number, 3 time(s), e.g. '1.234,50'",
    ),
    (
        "duplicated_export.csv",
        "4 of 8 rows (50.0%) are bad",
        "'LineNo': duplicate order line, 4 time(s)",
    ),
    ("header_only.csv", "the file(s) read hold no data row", "whole file: no data row"),
]


@pytest.mark.parametrize(("name", "why", "pattern"), SHARE_CASES)
def test_quarantine_refuses_a_mostly_bad_load_naming_its_pattern(name, why, pattern):
    with pytest.raises(SourceError) as info:
        load_orders(SAFETY / name, on_error="quarantine")
    message = str(info.value)
    assert message.startswith(f"load refused: {why}") and pattern in message
    assert "nothing was loaded" in message and name in message


def test_a_few_bad_rows_under_the_share_are_quarantined(tmp_path):
    lines = "".join(f"{i},2025-01-01,A,1,2.50\n" for i in range(199))
    (tmp_path / "export.csv").write_text("order_id,date,sku,qty,price\n" + lines + "x,nope,A,1,1\n")
    result = load_orders(tmp_path, on_error="quarantine")  # 1 bad row of 200: 0.5%
    assert len(result.orders) == 199 and list(result.rejected["row"]) == [201]
    with pytest.raises(SourceError, match="SALES_SOURCE_MAX_REJECTED=0.001"):
        load_orders(tmp_path, on_error="quarantine", max_rejected=0.001)


def test_the_fail_message_names_the_environment_variables():
    with pytest.raises(SourceError) as info:
        load_orders(FIXTURES / "bad" / "negative_price.csv")
    message = str(info.value)
    assert "SALES_SOURCE_ON_ERROR=quarantine" in message and "on_error='" not in message
    assert "SALES_SOURCE_MAX_REJECTED" in message


def test_the_missing_column_message_lists_every_name_looked_for():
    with pytest.raises(SourceError) as info:
        load_orders(FIXTURES / "bad" / "missing_column.csv")
    assert "'quantityordered', 'pieces'" in str(info.value)  # the last of the quantity aliases


def test_load_metadata_stays_small_whatever_the_load(tmp_path):
    """Stored with every day's event: its size must not grow with the problems or the files."""
    for day in range(1, 29):
        rows = "".join(
            f"{day}-{i},2025-02-{day:02d},A,1,{'x' * 200 if i < 4 else 2}\n" for i in range(5)
        )
        (tmp_path / f"orders_2025-02-{day:02d}.csv").write_text(
            "order_id,date,sku,qty,price\n" + rows
        )
    result = load_orders(tmp_path, on_error="quarantine", max_rejected=1.0)
    assert result.counts["rejected_rows"] == 112
    assert len(json.dumps(result.metadata())) < 4_000


def test_data_window_is_the_first_to_last_order_date(tmp_path):
    assert data_window(FIXTURES / "good") == (date(2025, 1, 1), date(2025, 1, 2))
    shutil.copy(FIXTURES / "bad" / "empty.csv", tmp_path / "empty.csv")
    assert data_window(tmp_path) is None  # cannot be loaded: the load itself says why


def test_data_window_counts_a_line_whose_only_problem_is_not_its_date(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("order_id,date,sku,qty,price\n1,2025-03-01,A,0,2\n2,2025-03-02,A,1,2\n")
    assert data_window(export) == (date(2025, 3, 1), date(2025, 3, 2))


def test_data_window_is_read_once_per_version_of_the_files(tmp_path, monkeypatch):
    export = tmp_path / "export.csv"
    export.write_text("order_id,date,sku,qty,price\n1,2025-03-01,A,1,2\n")
    cache = tmp_path / "cache"
    assert data_window(export, cache_dir=cache) == (date(2025, 3, 1), date(2025, 3, 1))
    reads = []
    original = OrdersStream.window
    monkeypatch.setattr(OrdersStream, "window", lambda self: reads.append(1) or original(self))
    assert data_window(export, cache_dir=cache) == (date(2025, 3, 1), date(2025, 3, 1))
    assert reads == []
    export.write_text("order_id,date,sku,qty,price\n1,2025-03-01,A,1,2\n2,2025-04-30,A,1,2\n")
    assert data_window(export, cache_dir=cache) == (date(2025, 3, 1), date(2025, 4, 30))
    # Another mapping is another key.
    assert data_window(export, {"order_date": "date"}, cache_dir=cache) is not None
    assert reads == [1, 1]


def test_products_and_customers_of_one_run_read_the_load_once(tmp_path, monkeypatch):
    export = tmp_path / "export.csv"
    export.write_text("order_id,date,sku,qty,price\n1,2025-03-01,A,1,2\n")
    first = open_orders(export).summary()
    monkeypatch.setattr(OrdersStream, "sales", lambda self: pytest.fail("read again"))
    assert open_orders(export).summary() is first
    export.write_text("order_id,date,sku,qty,price\n1,2025-03-01,A,1,2\n2,2025-03-02,B,1,2\n")
    with pytest.raises(pytest.fail.Exception, match="read again"):
        open_orders(export).summary()  # another version of the file is read


def test_orders_of_a_summarized_load_stream_its_lines_without_reading_the_files(
    tmp_path, monkeypatch
):
    export = tmp_path / "export.csv"
    lines = [f"{i},2025-03-{1 + i % 5:02d},{'AB'[i % 2]},{1 + i % 3},{2.5 + i}\n" for i in range(7)]
    export.write_text("order_id,date,sku,qty,price\n" + "".join(lines))
    fresh = list(open_orders(export, chunk_rows=3).sales())
    summarized = open_orders(export, chunk_rows=3)
    result = summarized.summary()
    monkeypatch.setattr(OrdersStream, "_parse", lambda self, con: pytest.fail("read again"))
    again = open_orders(export, chunk_rows=3)
    streamed = list(again.sales())
    assert [len(f) for f in streamed] == [len(f) for f in fresh] == [3, 3, 1]
    for ours, theirs in zip(streamed, fresh, strict=True):
        pd.testing.assert_frame_equal(ours, theirs)
    assert again.result is result
    # Other days are another load: read from the files.
    with pytest.raises(pytest.fail.Exception, match="read again"):
        list(open_orders(export, chunk_rows=3, start="2025-03-02").sales())


def test_a_new_summary_deletes_the_last_ones_lines(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("order_id,date,sku,qty,price\n1,2025-03-01,A,1,2\n")
    open_orders(export).summary()
    first_lines = orders_module._last_summary.lines
    assert first_lines.exists()
    open_orders(export, start="2025-03-01").summary()
    assert not first_lines.exists() and orders_module._last_summary.lines.exists()
