"""The example export under examples/ loads with no rejects; only its returns are set aside."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sales_platform.sources import derive_products, list_source_days, load_orders

ROOT = Path(__file__).resolve().parents[1]


def _example_module():
    spec = importlib.util.spec_from_file_location(
        "make_example_orders", ROOT / "examples" / "make_example_orders.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "orders"
    summary = _example_module().main(["--out", str(out)])
    return out, summary


def test_example_is_a_year_of_daily_files_with_a_few_thousand_lines(example):
    out, summary = example
    days = list_source_days(out)
    assert days[0] == date(2024, 1, 1) and days[-1] == date(2024, 12, 31) and len(days) == 366
    assert 2_000 <= summary["lines"] <= 10_000 and 5 <= summary["returns"] <= 100
    header = (out / "orders_2024-03-01.csv").read_text().splitlines()[0]
    assert header == (
        "InvoiceNo,InvoiceDate,StockCode,Description,Quantity,UnitPrice,CustomerID,Category"
    )


def test_example_loads_with_zero_rejects_except_the_deliberate_returns(example):
    out, summary = example
    result = load_orders(out, on_error="fail")  # would raise on any problem
    assert result.rejected.empty and result.counts["rejected_rows"] == 0
    assert len(result.returns) == summary["returns"]
    assert len(result.orders) + len(result.returns) == summary["lines"]
    assert result.returns["order_id"].str.startswith("C").all()
    assert result.date_formats == {"order_ts": "month-first %m/%d/%Y"}
    assert set(derive_products(result)["category"]) == {
        "Home",
        "Kitchen",
        "Gifts",
        "Christmas",
        "Party",
        "Bags",
    }


def test_example_day_by_day_matches_the_full_load(example):
    out, _ = example
    full = load_orders(out).orders
    day = date(2024, 11, 29)
    one = load_orders(out, start=day, end=day).orders
    expected = full[full["order_date"] == str(day)].reset_index(drop=True)
    assert len(one) > 0 and one.equals(expected)


def test_example_is_deterministic(tmp_path, example):
    out, _ = example
    _example_module().main(["--out", str(tmp_path), "--days", "3"])
    for name in ("orders_2024-01-01.csv", "orders_2024-01-03.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_sources_package_does_not_import_dagster():
    code = "import sys, sales_platform.sources; assert 'dagster' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
