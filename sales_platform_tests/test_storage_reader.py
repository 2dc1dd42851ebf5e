"""read_table/query/table_version: typed errors, retry on the writer's lock, no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from sales_platform.storage import (
    DatabaseBusyError,
    DatabaseNotFoundError,
    TableNotFoundError,
    query,
    read_table,
    table_version,
)
from sales_platform_tests.storage_helpers.hold_lock import hold_lock

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "r.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE sales_forecast AS SELECT DATE '2024-01-01' + i::INTEGER AS date, "
            "CASE WHEN i % 2 = 0 THEN 'total' ELSE 'toys' END AS series, i * 1.5 AS forecast, "
            "TIMESTAMP '2024-01-01 12:00:00' AS created_at FROM range(6) t(i)"
        )
    return path


def test_read_table_selects_filters_orders_and_normalises_dates(db):
    df = read_table(
        db,
        "sales_forecast",
        columns=["date", "forecast"],
        where="series = ? AND forecast >= ?",
        params=["total", 3.0],
        order_by="date DESC",
    )
    assert list(df.columns) == ["date", "forecast"]
    assert df["forecast"].tolist() == [6.0, 3.0]
    assert str(df["date"].dtype) == "datetime64[ns]"
    full = read_table(db, "main.sales_forecast")
    assert len(full) == 6
    assert str(full["created_at"].dtype) == "datetime64[ns]"


def test_query_runs_a_select(db):
    df = query(db, "SELECT series, count(*) AS n FROM sales_forecast GROUP BY 1 ORDER BY 1")
    assert df.to_dict("list") == {"series": ["total", "toys"], "n": [3, 3]}


def test_typed_errors_and_no_side_effects(tmp_path, db):
    missing = tmp_path / "nothing.duckdb"
    with pytest.raises(DatabaseNotFoundError):
        read_table(missing, "sales_forecast")
    with pytest.raises(DatabaseNotFoundError):
        query(missing, "SELECT 1")
    assert not missing.exists()  # a reader never creates the file
    assert table_version(missing, "sales_forecast") is None
    with pytest.raises(TableNotFoundError, match="main.forecast_accuracy"):
        read_table(db, "forecast_accuracy")
    with pytest.raises(TableNotFoundError, match="forecast_accuracy"):
        query(db, "SELECT * FROM forecast_accuracy")


def test_reader_retries_while_a_writer_holds_the_file_then_gives_up_clearly(db):
    writer = hold_lock(db, "rw", 0.8)
    started = time.monotonic()
    df = read_table(db, "sales_forecast", timeout_s=30)  # waits for the writer, then reads
    assert len(df) == 6
    assert time.monotonic() - started > 0.3
    writer.wait(30)

    writer = hold_lock(db, "rw", 30)
    try:
        with pytest.raises(DatabaseBusyError, match="still locked by a writer"):
            read_table(db, "sales_forecast", timeout_s=0.4)
        # the fallback version is the file's stat: no connection needed
        assert table_version(db, "sales_forecast", timeout_s=0.2).startswith("file:")
    finally:
        writer.kill()
        writer.wait(30)


def test_importing_the_reader_does_not_import_dagster():
    code = (
        "import sys; from sales_platform.storage import read_table, query, table_version;"
        "assert 'dagster' not in sys.modules and 'skops' not in sys.modules, 'heavy import'"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_storage_imports_no_other_sales_platform_package():
    storage = REPO / "sales_platform" / "storage"
    for path in storage.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("sales_platform"):
                    assert name == "sales_platform.tables" or name.startswith(
                        "sales_platform.storage"
                    ), f"{path.name} imports {name}"
