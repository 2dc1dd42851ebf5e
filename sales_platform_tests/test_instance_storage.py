"""The batching SQLite event log stores what Dagster's own does, in far fewer transactions."""

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from sales_platform.instance_storage import BatchingSqliteEventLogStorage

INSTANCE_SETTINGS = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"
DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-02-01")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def daily_rows(context: dg.AssetExecutionContext) -> dg.Output[None]:
    return dg.Output(None, metadata={"days": len(context.partition_keys)})


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[daily_rows])
def daily_totals(context: dg.AssetExecutionContext) -> None:
    if context.run.tags.get("fail") == "yes":
        raise RuntimeError("boom")


@dg.asset_check(asset=daily_rows)
def daily_rows_present() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def run_range(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> bool:
    """A run over January: a batch of planned events with a check's among them, then a batch of
    31 materializations per asset."""
    return dg.materialize(
        [daily_rows, daily_totals, daily_rows_present],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2026-01-01",
            "dagster/asset_partition_range_end": "2026-01-31",
            **(tags or {}),
        },
        raise_on_error=False,
    ).success


def asset_state(instance: dg.DagsterInstance) -> dict[str, object]:
    """What the UI and the partition status read back: per asset, its materialized days, the
    days planned but not materialized (failed or in progress), its planned events and its
    latest materialization's partition."""
    storage = instance.event_log_storage
    state: dict[str, object] = {}
    for key in (daily_rows.key, daily_totals.key):
        planned = [
            entry.dagster_event.partition
            for run in instance.get_runs()
            for entry in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
            )
            if entry.dagster_event.asset_key == key
        ]
        latest = instance.get_latest_materialization_event(key)
        state[key.to_user_string()] = {
            "materialized": sorted(instance.get_materialized_partitions(key)),
            "attempted": sorted(
                storage.get_latest_asset_partition_materialization_attempts_without_materializations(
                    key
                )
            ),
            "planned": sorted(planned),
            "latest": latest.dagster_event.partition if latest else None,
            "checks": sorted(
                (c.status.value, c.key.name)
                for c in storage.get_asset_check_execution_history(
                    dg.AssetCheckKey(key, "daily_rows_present"), limit=100
                )
            ),
        }
    return state


@pytest.fixture
def instances(tmp_path, monkeypatch):
    """A batching instance (the shipped settings) and one with Dagster's default storage."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    batching_home = tmp_path / "batching"
    batching_home.mkdir()
    shutil.copy(INSTANCE_SETTINGS, batching_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(batching_home))
    batching = dg.DagsterInstance.from_config(str(batching_home))
    (tmp_path / "default").mkdir()
    default = dg.DagsterInstance.from_config(str(tmp_path / "default"))
    yield batching, default
    batching.dispose()
    default.dispose()


def test_the_shipped_settings_use_the_batching_storage_in_the_default_place(instances):
    batching, default = instances
    assert isinstance(batching.event_log_storage, BatchingSqliteEventLogStorage)
    assert type(default.event_log_storage) is SqliteEventLogStorage
    home = Path(batching.root_directory)
    assert Path(batching.event_log_storage._base_dir) == home / "history" / "runs"


def test_a_range_run_stores_the_same_records_as_dagsters_own_storage(instances, monkeypatch):
    batching, default = instances
    connects = {"n": 0}
    original = SqliteEventLogStorage._connect

    def counting_connect(self, shard):
        connects["n"] += 1
        return original(self, shard)

    monkeypatch.setattr(SqliteEventLogStorage, "_connect", counting_connect)
    assert run_range(batching)
    batching_connects = connects["n"]
    connects["n"] = 0
    assert run_range(default)
    default_connects = connects["n"]

    state = asset_state(batching)
    assert state == asset_state(default)
    days = [f"2026-01-{d:02d}" for d in range(1, 32)]
    assert state["daily_rows"]["materialized"] == days
    assert state["daily_rows"]["planned"] == days
    assert ("SUCCEEDED", "daily_rows_present") in state["daily_rows"]["checks"]
    # 2 assets x 31 days planned and materialized: 124 asset events, each two files a commit.
    assert default_connects >= 2 * 124
    assert batching_connects * 4 < default_connects


def test_a_failed_range_run_marks_its_days_failed_as_dagster_does(instances):
    batching, default = instances
    assert not run_range(batching, {"fail": "yes"})
    assert not run_range(default, {"fail": "yes"})
    state = asset_state(batching)
    assert state == asset_state(default)
    assert state["daily_rows"]["materialized"] == [f"2026-01-{d:02d}" for d in range(1, 32)]
    assert state["daily_totals"]["materialized"] == []
    assert len(state["daily_totals"]["attempted"]) == 31
