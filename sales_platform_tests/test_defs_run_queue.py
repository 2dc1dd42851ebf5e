"""The shipped instance settings (deploy/dagster.yaml) with a real daemon, as `make dev` runs them.

Runs launched while another is in progress wait in the queue (every run writes the one DuckDB
file), and a run whose process is killed is marked failed and frees the queue for the next one.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus

from sales_platform import tables
from sales_platform.partitions import full_history_tags_json
from sales_platform.storage import read_table

BIN = Path(sys.executable).parent
INSTANCE_SETTINGS = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"
IN_PROGRESS = {DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING}
DONE = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def launch(env: dict[str, str]) -> None:
    command = [str(BIN / "dagster"), "job", "launch", "-m", "sales_platform.definitions"]
    command += ["-j", "sales_forecast_job", "--tags", full_history_tags_json(env)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def run_workers(daemon_pid: int) -> list[int]:
    """The daemon's run worker processes (multiprocessing children of its code servers)."""
    workers = []
    for pid in descendants(daemon_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            workers.append(pid)
    return workers


def wait_for(instance: DagsterInstance, condition, timeout: float = 300.0) -> int:
    """Poll the runs until ``condition(runs)``; return the most runs ever in progress at once."""
    deadline, most = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        runs = instance.get_runs()
        most = max(most, sum(r.status in IN_PROGRESS for r in runs))
        if condition(runs):
            return most
        time.sleep(0.5)
    raise AssertionError(f"timed out; runs: {[(r.run_id[:8], r.status) for r in runs]}")


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(INSTANCE_SETTINGS, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # where the instance keeps its event logs
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SALES_DUCKDB_PATH": str(tmp_path / "sales.duckdb"),
        "SALES_HISTORY_START": "2024-07-01",
        "SALES_HISTORY_END": "2025-10-31",
        "SALES_ORDERS_PER_DAY": "150",
    }
    # Create the instance's SQLite storages before any other process opens them: the daemon and
    # a CLI creating them at once race on their alembic version tables.
    instance = DagsterInstance.from_config(str(home))
    log = (tmp_path / "daemon.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-m", "sales_platform.definitions"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield env, instance, process.pid
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()
        instance.dispose()


@pytest.mark.slow
def test_runs_queue_one_at_a_time_and_a_killed_run_frees_the_queue(daemon):
    env, instance, daemon_pid = daemon

    launch(env)
    launch(env)
    most = wait_for(instance, lambda runs: len(runs) == 2 and all(r.status in DONE for r in runs))
    assert most == 1
    assert [r.status for r in instance.get_runs()] == [DagsterRunStatus.SUCCESS] * 2

    launch(env)
    wait_for(
        instance,
        lambda runs: runs[0].status == DagsterRunStatus.STARTED and run_workers(daemon_pid),
    )
    killed = instance.get_runs()[0].run_id
    for pid in run_workers(daemon_pid):
        os.kill(pid, signal.SIGKILL)
    launch(env)
    wait_for(instance, lambda runs: len(runs) == 4 and runs[0].status in DONE)
    runs = {r.run_id: r.status for r in instance.get_runs()}
    assert runs[killed] == DagsterRunStatus.FAILURE
    last = instance.get_runs()[0]
    assert last.status == DagsterRunStatus.SUCCESS
    published = read_table(env["SALES_DUCKDB_PATH"], tables.SALES_FORECAST)
    assert set(published["run_id"]) == {last.run_id}
