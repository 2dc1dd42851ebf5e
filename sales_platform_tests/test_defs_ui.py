"""What a user does in the Dagster UI, driven through the same APIs.

"Materialize all" on the global asset graph: the graph mixes unpartitioned assets, the daily
partitions of `orders` and the category partitions of the product assets, so the UI offers only
"All partitions" and sends one GraphQL `launchPartitionBackfill` with the whole asset selection
and `allPartitions: true`. The test sends that mutation, then runs the daemon's backfill loop and
its run queue (the shipped instance settings: one run at a time) until the backfill ends.
"""

import logging
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster_graphql.client.query import (
    LAUNCH_PARTITION_BACKFILL_MUTATION,
)
from dagster_graphql.test.utils import execute_dagster_graphql

from sales_platform import tables
from sales_platform.definitions import defs
from sales_platform.storage import read_table
from sales_platform.synthetic import CATEGORIES

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
INSTANCE_SETTINGS = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"
ASSET_KEYS_QUERY = "{ assetNodes { assetKey { path } isMaterializable } }"
TERMINAL = {
    BulkActionStatus.COMPLETED,
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}
# A few months of a small shop: enough history for the backtests, short runs.
SMALL_SHOP = {
    "SALES_HISTORY_START": "2025-04-01",
    "SALES_HISTORY_END": "2025-07-31",
    "SALES_ORDERS_PER_DAY": "200",
}


@pytest.fixture
def ui_workspace(tmp_path, monkeypatch):
    """A fresh database and DAGSTER_HOME, and the code location as `dagster dev` loads it."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(INSTANCE_SETTINGS, home / "dagster.yaml")
    database = tmp_path / "sales.duckdb"
    for name, value in {**SMALL_SHOP, "SALES_DUCKDB_PATH": str(database)}.items():
        monkeypatch.setenv(name, value)  # read by the code server and the runs it starts
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.from_config(str(home))
    target = ModuleTarget(
        module_name="sales_platform.definitions",
        attribute=None,
        working_directory=str(Path(__file__).resolve().parents[1]),
        location_name="sales_platform",
    )
    with WorkspaceProcessContext(instance, target) as context:
        yield context, database
    instance.dispose()


def run_daemon_until_done(context: WorkspaceProcessContext, backfill_id: str, timeout: float):
    """The daemon's backfill loop and run queue, ticking every second instead of every 30."""
    instance = context.instance
    queue = QueuedRunCoordinatorDaemon(interval_seconds=1)
    logger = logging.getLogger("test_defs_ui")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        list(execute_backfill_iteration(context, logger))
        list(queue.run_iteration(context))
        backfill = instance.get_backfill(backfill_id)
        if backfill.status in TERMINAL:
            return backfill
        time.sleep(1)
    runs = [(r.run_id[:8], r.status) for r in instance.get_runs()]
    raise AssertionError(f"backfill still {backfill.status} after {timeout} s; runs: {runs}")


@pytest.mark.slow
def test_materialize_all_from_the_ui_is_one_green_backfill(ui_workspace):
    context, database = ui_workspace
    request = context.create_request_context()
    nodes = execute_dagster_graphql(request, ASSET_KEYS_QUERY).data["assetNodes"]
    every_asset = [{"path": n["assetKey"]["path"]} for n in nodes if n["isMaterializable"]]
    assert {tables.ORDERS, tables.PRODUCT_FORECAST, tables.SALES_FORECAST} <= {
        key["path"][-1] for key in every_asset
    }

    # What the UI's "Materialize all" -> "Launch backfill" sends for this graph.
    launched = execute_dagster_graphql(
        request,
        LAUNCH_PARTITION_BACKFILL_MUTATION,
        {"backfillParams": {"assetSelection": every_asset, "allPartitions": True, "tags": []}},
    ).data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    backfill = run_daemon_until_done(context, launched["backfillId"], timeout=170)

    runs = context.instance.get_runs()
    assert runs, "the backfill launched no run"
    assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    # Five runs, one at a time: the catalog; the whole order history in one run (orders'
    # single-run backfill policy); daily sales to forecast; the products of every category in
    # two runs (product_forecast is a multi-asset of its own).
    assert len(runs) == 5, [sorted(k.to_user_string() for k in r.asset_selection) for r in runs]
    [orders_run] = [r for r in runs if dg.AssetKey(tables.ORDERS) in r.asset_selection]
    assert orders_run.tags[RANGE_START] == SMALL_SHOP["SALES_HISTORY_START"]
    assert orders_run.tags[RANGE_END] == SMALL_SHOP["SALES_HISTORY_END"]
    product_runs = [r for r in runs if RANGE_START in r.tags and r is not orders_run]
    assert len(product_runs) == 2
    categories = sorted(CATEGORIES)
    assert {(r.tags[RANGE_START], r.tags[RANGE_END]) for r in product_runs} == {
        (categories[0], categories[-1])
    }
    # And the database holds the forecasts, of the shop and of its products.
    assert len(read_table(str(database), tables.SALES_FORECAST))
    assert set(read_table(str(database), tables.PRODUCT_FORECAST)["category"]) == set(CATEGORIES)


@pytest.mark.slow
def test_materialize_all_on_the_main_job_requests_the_whole_history_now(ui_workspace):
    """The job page's "Materialize all": the range is the partitions' at launch, not a range
    fixed when the definitions loaded (the job carries none)."""
    context, _ = ui_workspace
    request = context.create_request_context()
    job_assets = defs.resolve_job_def("sales_forecast_job").asset_layer.executable_asset_keys
    assert not {k for k in defs.resolve_job_def("sales_forecast_job").tags if "range" in k}
    launched = execute_dagster_graphql(
        request,
        LAUNCH_PARTITION_BACKFILL_MUTATION,
        {
            "backfillParams": {
                "assetSelection": [{"path": key.path} for key in job_assets],
                "allPartitions": True,
                "tags": [],
            }
        },
    ).data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    target = context.instance.get_backfill(launched["backfillId"]).asset_backfill_data
    orders_days = target.target_subset.get_partitions_subset(dg.AssetKey(tables.ORDERS))
    days = sorted(orders_days.get_partition_keys())
    assert (days[0], days[-1]) == (
        SMALL_SHOP["SALES_HISTORY_START"],
        SMALL_SHOP["SALES_HISTORY_END"],
    )
    assert len(days) == 122  # every day of April..July 2025
    assert dg.AssetKey(tables.PRODUCT_FORECAST) not in target.target_subset.asset_keys
