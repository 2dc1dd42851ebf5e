"""Column mapping of file sources: automatic detection, explicit overrides, config parsing."""

from __future__ import annotations

import json

import pytest

from sales_platform.sources import ColumnMapping, SourceError
from sales_platform.sources.mapping import normalize_name

RETAIL = [
    "InvoiceNo",
    "InvoiceDate",
    "StockCode",
    "Description",
    "Quantity",
    "UnitPrice",
    "CustomerID",
    "Category",
]


def test_detects_online_retail_names():
    assert ColumnMapping().resolve(RETAIL) == {
        "order_id": "InvoiceNo",
        "order_ts": "InvoiceDate",
        "product_id": "StockCode",
        "product_name": "Description",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
        "customer_id": "CustomerID",
        "category": "Category",
    }


@pytest.mark.parametrize(
    ("columns", "field", "expected"),
    [
        (["order_id", "date", "sku", "qty", "total_amount"], "order_date", "date"),
        (["order_id", "date", "sku", "qty", "total_amount"], "amount", "total_amount"),
        (["order_id", "date", "sku", "qty", "total_amount"], "quantity", "qty"),
        (["Order ID", "Order Date", "SKU", "Qty", "Revenue"], "order_id", "Order ID"),
        (["Order ID", "Order Date", "SKU", "Qty", "Revenue"], "order_date", "Order Date"),
        (["Order ID", "Order Date", "SKU", "Qty", "Revenue"], "amount", "Revenue"),
        (["invoice", "created_at", "product_id", "QUANTITY", "price"], "order_ts", "created_at"),
        (["invoice", "created_at", "product_id", "QUANTITY", "price"], "unit_price", "price"),
        (["invoice", "created_at", "product_id", "QUANTITY", "price"], "quantity", "QUANTITY"),
        (["id", "order", "ts", "item", "units", "line_total"], "amount", "line_total"),
    ],
)
def test_detects_common_names_case_and_punctuation_insensitively(columns, field, expected):
    assert ColumnMapping().resolve(columns)[field] == expected


def test_normalize_name():
    assert normalize_name("Invoice Date") == normalize_name("invoice_date") == "invoicedate"


def test_optional_fields_are_absent_when_not_found():
    resolved = ColumnMapping().resolve(["order_id", "date", "sku", "qty", "amount"])
    assert {"customer_id", "line_number", "category", "status", "unit_price"}.isdisjoint(resolved)


def test_explicit_names_override_and_are_never_reused_by_detection():
    columns = ["Beleg", "Datum", "Artikel", "Menge", "Preis", "quantity"]
    mapping = ColumnMapping(
        order_id="Beleg",
        order_date="Datum",
        product_id="Artikel",
        quantity="Menge",
        unit_price="Preis",
    )
    resolved = mapping.resolve(columns)
    assert resolved["quantity"] == "Menge"  # not the column literally called "quantity"
    assert resolved["order_id"] == "Beleg"


def test_explicit_names_match_case_insensitively():
    mapping = ColumnMapping(order_id="invoiceno")
    assert mapping.resolve(RETAIL)["order_id"] == "InvoiceNo"


def test_empty_string_switches_detection_off():
    assert "category" not in ColumnMapping(category="").resolve(RETAIL)
    assert "category" not in ColumnMapping.from_config({"category": None}).resolve(RETAIL)


def test_missing_required_column_names_file_fields_and_columns_found():
    with pytest.raises(SourceError) as info:
        ColumnMapping().resolve(["InvoiceNo", "StockCode", "Price"], file="x/orders.csv")
    message = str(info.value)
    assert "x/orders.csv" in message and "row 1" in message
    assert "quantity" in message and "order_ts or order_date" in message
    assert "['InvoiceNo', 'StockCode', 'Price']" in message
    assert info.value.columns_found == ["InvoiceNo", "StockCode", "Price"]


def test_explicit_column_that_is_not_there():
    with pytest.raises(SourceError, match=r"column 'Menge' \(mapped to quantity\) not found"):
        ColumnMapping(quantity="Menge").resolve(RETAIL, file="orders.csv")


def test_from_config_accepts_dict_json_yaml_and_file(tmp_path):
    expected = ColumnMapping(order_id="Beleg", date_format="%d.%m.%Y", return_statuses=("storno",))
    as_dict = {"order_id": "Beleg", "date_format": "%d.%m.%Y", "return_statuses": ["Storno"]}
    assert ColumnMapping.from_config(as_dict) == expected
    assert ColumnMapping.from_config(json.dumps(as_dict)) == expected
    yaml_text = "order_id: Beleg\ndate_format: '%d.%m.%Y'\nreturn_statuses: [Storno]\n"
    assert ColumnMapping.from_config(yaml_text) == expected
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(as_dict))
    assert ColumnMapping.from_config(str(path)) == expected
    assert ColumnMapping.from_config(None) == ColumnMapping() == ColumnMapping.from_config("")
    assert ColumnMapping.from_config(expected) is expected


def test_from_config_rejects_unknown_keys_and_missing_files(tmp_path):
    with pytest.raises(SourceError, match="unknown key"):
        ColumnMapping.from_config({"order": "InvoiceNo"})
    with pytest.raises(SourceError, match="mapping file not found"):
        ColumnMapping.from_config(str(tmp_path / "mapping.yaml"))
    with pytest.raises(SourceError, match="must be a mapping"):
        ColumnMapping.from_config('["InvoiceNo"]')
