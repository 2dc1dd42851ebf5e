"""A shop's own data is never wiped, never silently dropped, and never bloats the instance.

Each bad export runs against a copy of a database that already holds a good load, under both
policies; the stored tables (row counts and a content hash) must be the same afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sales_platform import summary, tables
from sales_platform.defs.raw import customers, orders, products
from sales_platform.defs.sales import daily_sales
from sales_platform.partitions import full_history_tags_json
from sales_platform.settings import HistoryWindow, file_source_window_from_env
from sales_platform_tests.test_defs_assets import resources

FIXTURES = Path(__file__).parent / "fixtures" / "orders_files"
GOOD_DAYS = ("2025-01-01", "2025-01-02")
RAW_AND_SALES = [products, customers, orders, daily_sales]
BAD_EXPORTS = [
    FIXTURES / "bad" / "empty.csv",
    FIXTURES / "bad" / "not_csv.csv",
    FIXTURES / "safety" / "all_prices_bad.csv",
    FIXTURES / "safety" / "systematic_number_format.csv",
    FIXTURES / "safety" / "duplicated_export.csv",
    FIXTURES / "safety" / "header_only.csv",
]
sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
from make_example_orders import write_example  # noqa: E402


def stored_tables(database: Path) -> dict[str, tuple[int, str]]:
    """Every stored table: its row count and a hash of its sorted rows."""
    with duckdb.connect(str(database), read_only=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                "AND NOT starts_with(table_name, '_') ORDER BY 1"
            ).fetchall()
        ]
        return {
            name: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' "
                f"ORDER BY CAST(t AS VARCHAR)), '')) FROM {name} t"
            ).fetchone()
            for name in names
        }


@pytest.fixture(scope="module")
def good_database(tmp_path_factory) -> Path:
    database = tmp_path_factory.mktemp("good") / "sales.duckdb"
    good = resources(database, source="file", source_path=str(FIXTURES / "good"))
    for day in GOOD_DAYS:
        assert dg.materialize(RAW_AND_SALES, partition_key=day, resources=good).success
    return database


def test_the_good_load_is_what_the_bad_ones_are_measured_against(good_database):
    stored = stored_tables(good_database)
    assert stored[tables.ORDERS][0] == 7 and stored[tables.PRODUCTS][0] == 7
    with duckdb.connect(str(good_database), read_only=True) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                [tables.CUSTOMERS],
            ).fetchall()
        )
    assert types["signup_date"] == tables.COLUMNS[tables.CUSTOMERS]["signup_date"] == "DATE"


@pytest.mark.parametrize("on_error", ["fail", "quarantine"])
@pytest.mark.parametrize("export", BAD_EXPORTS, ids=lambda p: p.name)
def test_a_bad_export_changes_no_stored_row(good_database, tmp_path, export, on_error):
    database = tmp_path / "sales.duckdb"
    shutil.copy(good_database, database)
    before = stored_tables(database)
    bad = resources(database, source="file", source_path=str(export), on_error=on_error)
    result = dg.materialize(
        RAW_AND_SALES, partition_key=GOOD_DAYS[0], resources=bad, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "SALES_SOURCE" in failure.step_failure_data.error.to_string()
    assert stored_tables(database) == before  # 0 rows lost, nothing replaced


def materialize_day(database: Path, source: Path, day: str) -> dg.ExecuteInProcessResult:
    shop = resources(database, source="file", source_path=str(source))
    return dg.materialize(RAW_AND_SALES, partition_key=day, resources=shop, raise_on_error=False)


def check_passed(result: dg.ExecuteInProcessResult) -> bool:
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "no_day_emptied"
    return evaluation.passed


def test_a_day_that_lost_every_line_blocks_downstream(good_database, tmp_path):
    database = tmp_path / "sales.duckdb"
    shutil.copy(good_database, database)
    daily_before = stored_tables(database)[tables.DAILY_SALES]
    # An export without 2025-01-01 (its lines are in March): that day had 4 lines.
    result = materialize_day(database, FIXTURES / "good_alt", GOOD_DAYS[0])
    assert not check_passed(result)
    assert stored_tables(database)[tables.DAILY_SALES] == daily_before  # not refreshed


def test_a_day_the_source_says_is_empty_passes(good_database, tmp_path):
    database = tmp_path / "sales.duckdb"
    shutil.copy(good_database, database)
    source = tmp_path / "orders"
    source.mkdir()
    shutil.copy(FIXTURES / "good" / "orders_2025-01-02.csv", source)
    (source / "orders_2025-01-01.csv").write_text(
        (FIXTURES / "good" / "orders_2025-01-01.csv").read_text().splitlines()[0] + "\n"
    )
    result = materialize_day(database, source, GOOD_DAYS[0])
    assert result.success and check_passed(result)


def test_one_category_is_not_a_second_total(tmp_path):
    database = tmp_path / "sales.duckdb"
    mapping = '{"category": null}'  # the export's categories ignored: every product uncategorized
    shop = resources(
        database, source="file", source_path=str(FIXTURES / "good"), source_mapping=mapping
    )
    for day in GOOD_DAYS:
        assert dg.materialize(RAW_AND_SALES, partition_key=day, resources=shop).success
    with duckdb.connect(str(database), read_only=True) as conn:
        series = {
            row[0] for row in conn.execute("SELECT DISTINCT series FROM daily_sales").fetchall()
        }
    assert series == {tables.TOTAL_SERIES}


@pytest.mark.slow
def test_the_full_job_on_19k_quarantined_duplicates_keeps_the_event_log_small(tmp_path):
    """The issue's case: a two-year export appended to itself, quarantined (one duplicate per
    line). The whole job through the CLI, its window from the data; the instance stays small."""
    export = tmp_path / "export.csv"
    written = write_example(
        export, date(2024, 1, 1), days=731, scale=1.6, copies=2, line_numbers=True
    )
    assert written["lines"] > 38_000
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SALES_HISTORY_")}
    env.update(
        DAGSTER_HOME=str(home),
        SALES_DUCKDB_PATH=str(tmp_path / "sales.duckdb"),
        SALES_SOURCE="file",
        SALES_SOURCE_PATH=str(export),
        SALES_SOURCE_ON_ERROR="quarantine",
        SALES_SOURCE_MAX_REJECTED="0.6",
        SALES_FORECAST_HORIZON="14",
    )
    command = [
        str(Path(sys.executable).with_name("dagster")),
        *("job", "execute", "-m", "sales_platform.definitions", "-j", "sales_forecast_job"),
        *("--tags", full_history_tags_json(env)),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rejected = stored_tables(env["SALES_DUCKDB_PATH"])[tables.ORDERS_REJECTED][0]
    assert rejected > 19_000
    size = sum(f.stat().st_size for f in home.rglob("*") if f.is_file())
    print(f"DAGSTER_HOME after the job: {size / 1e6:.1f} MB for {rejected} quarantined rows")
    assert size <= 20e6


def test_lines_outside_the_history_are_a_warning_in_metadata_and_summary(tmp_path):
    export = tmp_path / "export.csv"
    # conftest's history ends 2025-10-31: two of the lines lie after it.
    export.write_text(
        "order_id,date,sku,qty,price\n1,2025-01-01,A,1,2\n2,2025-11-02,A,1,2\n3,2026-01-05,A,1,2\n"
    )
    shop = resources(tmp_path / "sales.duckdb", source="file", source_path=str(export))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [orders], partition_key=GOOD_DAYS[0], resources=shop, instance=instance
        )
        warning = summary.outside_history_warning(instance)
    metadata = result.asset_materializations_for_node("orders")[0].metadata
    assert metadata["lines_outside_history"].value == 2
    assert metadata["outside_history_first_day"].value == "2025-11-02"
    assert "WARNING: 2 order line(s) from 2025-11-02 to 2026-01-05" in "\n".join(warning)


@pytest.mark.parametrize(
    ("source", "start_env", "window"),
    [
        # One export: its first to last order date.
        (FIXTURES / "formats" / "us_thousands.csv", "", (date(2025, 1, 1), date(2025, 1, 2))),
        (
            FIXTURES / "formats" / "us_thousands.csv",
            "2024-12-01",
            (date(2024, 12, 1), date(2025, 1, 2)),
        ),
        # Dated daily files are a feed: open up to yesterday, so each new day is a partition.
        (FIXTURES / "good", "", (date(2025, 1, 1), date(2026, 11, 27))),
    ],
)
def test_a_file_source_history_is_the_data_s_own_window(monkeypatch, source, start_env, window):
    monkeypatch.setenv("SALES_SOURCE", "file")
    monkeypatch.setenv("SALES_SOURCE_PATH", str(source))
    monkeypatch.setenv("SALES_HISTORY_START", start_env)
    monkeypatch.setenv("SALES_HISTORY_END", "")
    found = HistoryWindow.from_env(
        today=date(2026, 11, 28), data_window=file_source_window_from_env
    )
    assert (found.start, found.last_day(today=date(2026, 11, 28))) == window


@pytest.mark.parametrize("source", ["synthetic", "file"])
def test_every_run_materializes_both_outputs_of_orders(tmp_path, source):
    """A partition left without orders_rejected counts as failed in a backfill of the graph."""
    shop = resources(tmp_path / "sales.duckdb", source=source, source_path=str(FIXTURES / "good"))
    result = dg.materialize([orders], partition_key=GOOD_DAYS[0], resources=shop)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {tables.ORDERS, tables.ORDERS_REJECTED}
