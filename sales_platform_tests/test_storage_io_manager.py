"""SalesDuckDBIOManager: transactional writes, schema evolution, empty frames, partitions, TZ."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pandas as pd
import pytest

from sales_platform.storage import (
    DUCKDB_POOL,
    DatabaseLockTimeoutError,
    DuckDBDatabase,
    FrameStream,
    PartitionBoundsError,
    PartitionSchemaChangeError,
    SalesDuckDBIOManager,
    pandas_handler,
    read_table,
    table_version,
)
from sales_platform_tests.storage_helpers import forkserver, partition_scenario, workers
from sales_platform_tests.storage_helpers.hold_lock import hold_lock

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def materialize(assets, db, instance, **kwargs):
    return dg.materialize(
        assets,
        resources={"io_manager": SalesDuckDBIOManager(database=str(db))},
        instance=instance,
        run_config=QUIET,
        **kwargs,
    )


def stored_types(db, table: str) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
    return dict(rows)


def frame_asset(name: str, holder: dict, **kwargs):
    @dg.asset(name=name, **kwargs)
    def _asset() -> pd.DataFrame:
        return holder["df"]

    return _asset


def test_roundtrip_types_and_default_schema_main(tmp_path, instance):
    db = tmp_path / "new_dir" / "x.duckdb"  # the parent directory is created on first write
    df = pd.DataFrame(
        {
            "order_id": pd.array(["o-1", "o-2", None], dtype="string[pyarrow]"),
            "order_ts": pd.to_datetime(
                ["2024-01-01 10:00:00.123456", "2024-01-02", "2024-01-03"], format="ISO8601"
            ),
            "order_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), None],
            "utc_ts": pd.to_datetime(["2024-06-01 12:00"] * 3).tz_localize("Europe/Berlin"),
            "quantity": pd.Series([1, 2, 3], dtype="int32"),
            "amount": [1.5, None, 3.0],
            "category": pd.Categorical(["a", "b", "a"]),
            "nothing": [None, None, None],
        }
    )
    holder = {"df": df}
    seen = {}

    @dg.asset
    def downstream(roundtrip: pd.DataFrame) -> pd.DataFrame:
        seen["df"] = roundtrip
        return roundtrip.head(0)

    result = materialize([frame_asset("roundtrip", holder), downstream], db, instance)
    assert result.success
    assert stored_types(db, "roundtrip") == {
        "order_id": "VARCHAR",
        "order_ts": "TIMESTAMP",
        "order_date": "DATE",
        "utc_ts": "TIMESTAMP",
        "quantity": "INTEGER",
        "amount": "DOUBLE",
        "category": "VARCHAR",
        "nothing": "VARCHAR",
    }
    with duckdb.connect(str(db), read_only=True) as conn:  # plain SQL, default schema main
        assert conn.execute("SELECT count(*) FROM roundtrip").fetchone() == (3,)
    for loaded in (seen["df"], read_table(db, "roundtrip")):
        assert str(loaded["order_ts"].dtype) == "datetime64[ns]"
        assert str(loaded["order_date"].dtype) == "datetime64[ns]"
        assert loaded["order_id"].tolist()[:2] == ["o-1", "o-2"]
        assert pd.isna(loaded["order_id"].iloc[2])
        assert loaded["order_ts"].tolist() == df["order_ts"].tolist()
        assert loaded["order_date"].iloc[0] == pd.Timestamp("2024-01-01")
        # tz-aware values are stored as naive UTC (12:00 Berlin summer time = 10:00 UTC)
        assert loaded["utc_ts"].iloc[0] == pd.Timestamp("2024-06-01 10:00")
        assert loaded["quantity"].tolist() == [1, 2, 3]
        assert loaded["category"].tolist() == ["a", "b", "a"]
    meta = result.asset_materializations_for_node("roundtrip")[0].metadata
    assert meta["dagster/row_count"].value == 3
    assert meta["storage_action"].value == "created"


@pytest.mark.parametrize(
    ("change", "expected_types", "action"),
    [
        (lambda df: df.assign(c=1.5), {"a": "BIGINT", "b": "VARCHAR", "c": "DOUBLE"}, "added"),
        (lambda df: df.drop(columns=["b"]), {"a": "BIGINT"}, "dropped"),
        (lambda df: df.assign(a=df["a"].astype(str)), {"a": "VARCHAR", "b": "VARCHAR"}, "retyped"),
    ],
    ids=["add", "drop", "retype"],
)
def test_unpartitioned_schema_change_replaces_table(
    tmp_path, instance, change, expected_types, action
):
    db = tmp_path / "x.duckdb"
    holder = {"df": pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})}
    asset = frame_asset("evolving", holder)
    assert materialize([asset], db, instance).success
    version = table_version(db, "evolving")
    holder["df"] = change(pd.DataFrame({"a": [4, 5], "b": ["u", "v"]}))
    result = materialize([asset], db, instance)
    assert result.success
    assert table_version(db, "evolving") not in (None, version)
    assert stored_types(db, "evolving") == expected_types
    assert len(read_table(db, "evolving")) == 2
    assert (
        action
        in result.asset_materializations_for_node("evolving")[0].metadata["storage_action"].value
    )


def _fail_after_write(*args, **kwargs):
    raise RuntimeError("injected failure after the table was replaced/deleted, before COMMIT")


def test_failure_inside_the_transaction_keeps_previous_version(tmp_path, instance, monkeypatch):
    db = tmp_path / "x.duckdb"
    holder = {"df": pd.DataFrame({"a": [1, 2, 3]})}
    asset = frame_asset("fragile", holder)
    assert materialize([asset], db, instance).success
    before = table_version(db, "fragile")
    # The failure comes after CREATE OR REPLACE TABLE has run inside the transaction.
    monkeypatch.setattr(pandas_handler, "record_table_version", _fail_after_write)
    holder["df"] = pd.DataFrame({"a": [9], "new_col": ["x"]})
    with pytest.raises(RuntimeError, match="injected failure"):
        materialize([asset], db, instance)
    assert read_table(db, "fragile").to_dict("list") == {"a": [1, 2, 3]}
    assert table_version(db, "fragile") == before


def test_failure_inside_a_partition_write_keeps_the_partition(tmp_path, instance, monkeypatch):
    db = tmp_path / "x.duckdb"
    holder = {"make": _day_frame}
    before = _seed_days(db, instance, holder)
    # The failure comes after DELETE of the slice and INSERT of the new rows.
    monkeypatch.setattr(pandas_handler, "record_table_version", _fail_after_write)
    holder["make"] = lambda day: _day_frame(day, version=2)
    with pytest.raises(RuntimeError, match="injected failure"):
        materialize([daily_asset(holder)], db, instance, partition_key="2024-01-03")
    pd.testing.assert_frame_equal(read_table(db, "daily", order_by="day, line"), before)


def test_empty_frame_writes_empty_table_with_columns(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    holder = {"df": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})}
    asset = frame_asset("maybe_empty", holder)
    assert materialize([asset], db, instance).success
    holder["df"] = pd.DataFrame(
        {
            "a": pd.Series([], dtype="int64"),
            "b": pd.Series([], dtype="string[pyarrow]"),
            "ts": pd.Series([], dtype="datetime64[ns]"),
        }
    )
    result = materialize([asset], db, instance)
    assert result.success
    assert stored_types(db, "maybe_empty") == {"a": "BIGINT", "b": "VARCHAR", "ts": "TIMESTAMP"}
    empty = read_table(db, "maybe_empty")
    assert len(empty) == 0
    assert list(empty.columns) == ["a", "b", "ts"]
    # a brand-new table from an empty frame is created too
    fresh = frame_asset("fresh_empty", holder)
    assert materialize([fresh], db, instance).success
    assert len(read_table(db, "fresh_empty")) == 0


DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")


def daily_asset(holder: dict):
    @dg.asset(name="daily", partitions_def=DAYS, metadata={"partition_expr": "day"})
    def daily(context) -> pd.DataFrame:
        return holder["make"](dt.date.fromisoformat(context.partition_key))

    return daily


def _day_frame(day: dt.date, version: int = 1) -> pd.DataFrame:
    return pd.DataFrame({"day": [day] * 3, "line": [0, 1, 2], "version": [version] * 3})


def _seed_days(db, instance, holder) -> pd.DataFrame:
    asset = daily_asset(holder)
    for key in DAYS.get_partition_keys():
        assert materialize([asset], db, instance, partition_key=key).success
    return read_table(db, "daily", order_by="day, line")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda df: df.assign(extra=1), ["added", "extra"]),
        (lambda df: df.drop(columns=["line"]), ["dropped", "line"]),
        (lambda df: df.assign(line=df["line"].astype(float) + 0.5), ["retyped", "line", "DOUBLE"]),
    ],
    ids=["add", "drop", "retype"],
)
def test_partitioned_schema_change_is_refused_and_nothing_deleted(
    tmp_path, instance, change, words
):
    db = tmp_path / "x.duckdb"
    holder = {"make": _day_frame}
    before = _seed_days(db, instance, holder)
    holder["make"] = lambda day: change(_day_frame(day, version=2))
    with pytest.raises(PartitionSchemaChangeError) as err:
        materialize([daily_asset(holder)], db, instance, partition_key="2024-01-03")
    message = str(err.value)
    for word in [*words, "main.daily", "2024-01-03", "re-materialize all partitions", "DROP TABLE"]:
        assert word in message
    pd.testing.assert_frame_equal(read_table(db, "daily", order_by="day, line"), before)


def test_partition_accepts_lossless_widening(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    holder = {"make": lambda day: _day_frame(day).astype({"line": "int32"})}
    _seed_days(db, instance, holder)
    assert stored_types(db, "daily")["line"] == "INTEGER"
    holder["make"] = lambda day: _day_frame(day, version=2).astype({"line": "int16"})
    assert materialize([daily_asset(holder)], db, instance, partition_key="2024-01-02").success


def test_empty_first_partition_creates_no_table(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    # pandas types these columns float64: creating the table from them would fix day as DOUBLE
    holder = {"make": lambda day: pd.DataFrame({"day": [], "line": [], "version": []})}
    assert materialize([daily_asset(holder)], db, instance, partition_key="2024-01-02").success
    with pytest.raises(LookupError):
        read_table(db, "daily")
    holder["make"] = _day_frame
    assert materialize([daily_asset(holder)], db, instance, partition_key="2024-01-03").success
    assert stored_types(db, "daily") == {"day": "DATE", "line": "BIGINT", "version": "BIGINT"}


def test_partition_rows_outside_the_partition_are_refused(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    holder = {"make": _day_frame}
    before = _seed_days(db, instance, holder)
    holder["make"] = lambda day: _day_frame(day + dt.timedelta(days=1), version=2)
    with pytest.raises(PartitionBoundsError, match="lie outside the partition"):
        materialize([daily_asset(holder)], db, instance, partition_key="2024-01-02")
    pd.testing.assert_frame_equal(read_table(db, "daily", order_by="day, line"), before)


def _expected_scenario():
    days = [f"2024-03-{d:02d}" for d in range(8, 14)]

    def state(versions: dict[str, int]) -> dict:
        out = {}
        for day in days:
            if versions.get(day) is None:
                continue
            n = partition_scenario.rows_for(dt.date.fromisoformat(day), versions[day])
            out[day] = [[versions[day]], n, n]
        return {"orders_by_date": out, "orders_by_ts": out}

    v = dict.fromkeys(days, 1)
    backfill = state(v)
    v["2024-03-10"] = 2
    rerun_one = state(v)
    v["2024-03-11"] = v["2024-03-12"] = 3
    rerun_range = state(v)
    v["2024-03-13"] = None
    empty = state(v)
    loaded = [
        "2024-03-10",
        "datetime64[ns]",
        str(partition_scenario.rows_for(dt.date(2024, 3, 10), 4)),
    ]
    return {
        "backfill": backfill,
        "rerun_one": rerun_one,
        "rerun_range": rerun_range,
        "empty_partition": empty,
        "loaded_slice": loaded,
    }


def test_partition_reruns_under_non_utc_timezone(tmp_path):
    """Backfill range, re-run one day (the DST switch), a range, an empty day, load a slice.

    Runs in a worker process whose local timezone is America/Los_Angeles (Python and DuckDB).
    """
    ctx = forkserver.context()
    results = ctx.Queue()
    worker = ctx.Process(
        target=workers.run_partition_scenario_in_tz,
        args=(str(tmp_path / "tz.duckdb"), "America/Los_Angeles", results),
        daemon=True,
    )
    worker.start()
    try:
        report = results.get(timeout=300)
    finally:
        worker.join(30)
    assert report["ok"], report.get("error")
    result = report["result"]
    assert result["env_tz"] == "America/Los_Angeles"
    assert "PST" in result["python_tz"]
    assert result["duckdb_tz"] == "America/Los_Angeles"
    assert result["steps"] == _expected_scenario()


def test_writer_waits_for_a_reader_and_times_out_clearly(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    holder = {"df": pd.DataFrame({"a": [1]})}
    asset = frame_asset("locked", holder)
    assert materialize([asset], db, instance).success

    # a reader holding the file for ~0.7 s: the run waits and succeeds
    reader = hold_lock(db, "ro", 0.7)
    holder["df"] = pd.DataFrame({"a": [1, 2]})
    assert materialize([asset], db, instance).success
    reader.wait(30)
    assert len(read_table(db, "locked")) == 2

    # a reader that never lets go: a clear timeout error, previous data intact
    reader = hold_lock(db, "ro", 30)
    try:
        with pytest.raises(DatabaseLockTimeoutError, match="could not lock DuckDB database"):
            dg.materialize(
                [asset],
                resources={
                    "io_manager": SalesDuckDBIOManager(database=str(db), lock_timeout_s=0.5)
                },
                instance=instance,
                run_config=QUIET,
            )
    finally:
        reader.kill()
        reader.wait(30)
    assert len(read_table(db, "locked")) == 2


def test_duckdb_database_resource_runs_sql_and_releases_the_file(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    holder = {"df": pd.DataFrame({"cat": ["a", "a", "b"], "amount": [1.0, 2.0, 5.0]})}
    source = frame_asset("lines", holder)

    @dg.asset(deps=[source], pool=DUCKDB_POOL)
    def totals(duckdb_db: DuckDBDatabase) -> pd.DataFrame:
        with duckdb_db.get_connection() as conn:
            return conn.execute(
                "SELECT cat, sum(amount) AS amount FROM lines GROUP BY cat ORDER BY cat"
            ).df()

    @dg.asset(deps=[source])
    def broken(duckdb_db: DuckDBDatabase) -> pd.DataFrame:
        with duckdb_db.get_connection() as conn:
            conn.execute("SELECT * FROM no_such_table")
        return pd.DataFrame()

    resources = {
        "io_manager": SalesDuckDBIOManager(database=str(db)),
        "duckdb_db": DuckDBDatabase(database=str(db)),
    }
    result = dg.materialize(
        [source, totals], resources=resources, instance=instance, run_config=QUIET
    )
    assert result.success
    assert read_table(db, "totals")["amount"].tolist() == [3.0, 5.0]
    result = dg.materialize(
        [source, broken],
        resources=resources,
        instance=instance,
        run_config=QUIET,
        raise_on_error=False,
        selection=[broken.key],
    )
    assert not result.success
    # the failed asset's connection was closed: a read-only connection (another configuration)
    # in this same process would be refused if it were still open
    duckdb.connect(str(db), read_only=True).close()


def test_contract_types_are_stored_and_an_older_timestamp_table_keeps_loading(tmp_path, instance):
    """`column_types` stores a pandas timestamp day as DATE; a partitioned table stored before
    with TIMESTAMP there takes the DATE rows (no schema-change error, nothing lost)."""
    db = tmp_path / "x.duckdb"
    holder = {"make": lambda day: _day_frame(day).assign(day=pd.Timestamp(day))}
    before = _seed_days(db, instance, holder)  # no contract: the days are stored as TIMESTAMP
    assert stored_types(db, "daily")["day"] == "TIMESTAMP"
    contract = SalesDuckDBIOManager(
        database=str(db), column_types={"daily": {"day": "DATE", "line": "INTEGER"}}
    )
    result = dg.materialize(
        [daily_asset(holder)],
        resources={"io_manager": contract},
        instance=instance,
        run_config=QUIET,
        partition_key="2024-01-02",
    )
    assert result.success
    after = read_table(db, "daily", order_by="day, line")
    pd.testing.assert_frame_equal(after, before, check_dtype=False)
    fresh = tmp_path / "fresh.duckdb"
    for key in DAYS.get_partition_keys()[:2]:
        fresh_contract = SalesDuckDBIOManager(
            database=str(fresh), column_types={"daily": {"day": "DATE", "line": "INTEGER"}}
        )
        assert dg.materialize(
            [daily_asset(holder)],
            resources={"io_manager": fresh_contract},
            instance=instance,
            run_config=QUIET,
            partition_key=key,
        ).success
    assert stored_types(fresh, "daily") == {"day": "DATE", "line": "INTEGER", "version": "BIGINT"}
    assert len(read_table(fresh, "daily")) == 6


def stream_asset(name: str, holder: dict, **kwargs):
    @dg.asset(name=name, **kwargs)
    def _asset(context) -> FrameStream:
        return FrameStream(holder["frames"](context), metadata=lambda: {"frames_seen": "all"})

    return _asset


def test_a_frame_stream_replaces_the_table_with_all_its_frames(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    holder = {
        "frames": lambda context: iter([pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [3]})])
    }
    result = materialize([stream_asset("streamed", holder)], db, instance)
    assert read_table(db, "streamed").to_dict("list") == {"a": [1, 2, 3]}
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["storage_action"].value == "created in 2 frames"
    assert metadata["dagster/row_count"].value == 3
    assert metadata["frames_seen"].value == "all"
    holder["frames"] = lambda context: iter([])
    with pytest.raises(ValueError, match="yielded no frame"):
        materialize([stream_asset("streamed", holder)], db, instance)
    assert read_table(db, "streamed").to_dict("list") == {"a": [1, 2, 3]}


def test_a_frame_stream_writes_a_partition_in_one_transaction(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    before = _seed_days(db, instance, {"make": _day_frame})
    day = dt.date(2024, 1, 3)
    new = _day_frame(day, version=2)
    holder = {"frames": lambda context: (new.iloc[[i]] for i in range(3))}
    daily = stream_asset("daily", holder, partitions_def=DAYS, metadata={"partition_expr": "day"})
    result = materialize([daily], db, instance, partition_key=day.isoformat())
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["storage_action"].value == (
        "replaced partition (3 rows deleted, 3 inserted in 3 frames)"
    )
    expected = pd.concat([before[before["day"] != pd.Timestamp(day)], new.astype(before.dtypes)])
    pd.testing.assert_frame_equal(
        read_table(db, "daily", order_by="day, line"),
        expected.sort_values(["day", "line"]).reset_index(drop=True),
    )


def _fails_after_one_frame(day: dt.date):
    yield _day_frame(day, version=3)
    raise RuntimeError("injected failure while producing the next frame")


@pytest.mark.parametrize(
    ("later_frame", "error", "match"),
    [
        (_fails_after_one_frame, RuntimeError, "injected failure"),
        (
            lambda day: iter([_day_frame(day, 3), _day_frame(day + dt.timedelta(days=1), 3)]),
            PartitionBoundsError,
            "lie outside the partition",
        ),
    ],
    ids=["producer-raises", "later-frame-outside"],
)
def test_a_frame_stream_failing_midway_keeps_the_partition(
    tmp_path, instance, later_frame, error, match
):
    db = tmp_path / "x.duckdb"
    before = _seed_days(db, instance, {"make": _day_frame})
    holder = {"frames": lambda context: later_frame(dt.date.fromisoformat(context.partition_key))}
    daily = stream_asset("daily", holder, partitions_def=DAYS, metadata={"partition_expr": "day"})
    with pytest.raises(error, match=match):
        materialize([daily], db, instance, partition_key="2024-01-02")
    pd.testing.assert_frame_equal(read_table(db, "daily", order_by="day, line"), before)
    assert workers.staging_tables(str(db)) == []


def test_a_stray_staging_table_is_never_read_and_the_next_stream_drops_it(tmp_path, instance):
    """What a run killed while staging leaves: a ``_staging_`` table beside the stored one."""
    db = tmp_path / "x.duckdb"
    before = _seed_days(db, instance, {"make": _day_frame})
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "CREATE TABLE _staging_daily AS SELECT DATE '2024-01-03' AS day, 7 AS line, "
            "99 AS version, 'junk' AS extra"
        )
        conn.execute("CREATE TABLE _staging_streamed AS SELECT 'junk' AS b")
    pd.testing.assert_frame_equal(read_table(db, "daily", order_by="day, line"), before)
    day = dt.date(2024, 1, 3)
    new = _day_frame(day, version=2)
    holder = {"frames": lambda context: (new.iloc[[i]] for i in range(3))}
    daily = stream_asset("daily", holder, partitions_def=DAYS, metadata={"partition_expr": "day"})
    assert materialize([daily], db, instance, partition_key=day.isoformat()).success
    stored = read_table(db, "daily", order_by="day, line")
    assert stored.loc[stored["day"] == pd.Timestamp(day), "version"].tolist() == [2, 2, 2]
    assert 99 not in stored["version"].tolist()
    holder["frames"] = lambda context: iter([pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]})])
    assert materialize([stream_asset("streamed", holder)], db, instance).success
    assert read_table(db, "streamed").to_dict("list") == {"a": [1, 2]}
    assert workers.staging_tables(str(db)) == []


def test_a_frame_stream_of_empty_frames_empties_the_partition(tmp_path, instance):
    db = tmp_path / "x.duckdb"
    empty = pd.DataFrame({"day": [], "line": [], "version": []})
    holder = {"frames": lambda context: iter([empty, empty])}
    daily = stream_asset("daily", holder, partitions_def=DAYS, metadata={"partition_expr": "day"})
    result = materialize([daily], db, instance, partition_key="2024-01-02")
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["storage_action"].value == "skipped (empty partition, table not created yet)"
    before = _seed_days(db, instance, {"make": _day_frame})
    result = materialize([daily], db, instance, partition_key="2024-01-02")
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["storage_action"].value == (
        "replaced partition (3 rows deleted, 0 inserted in 2 frames)"
    )
    pd.testing.assert_frame_equal(
        read_table(db, "daily", order_by="day, line"),
        before[before["day"] != pd.Timestamp("2024-01-02")].reset_index(drop=True),
    )
    assert stored_types(db, "daily") == {"day": "DATE", "line": "BIGINT", "version": "BIGINT"}
