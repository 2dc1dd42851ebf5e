"""The production deployment as `make prod-up` starts it, tested as one.

deploy/prod.sh starts a real PostgreSQL cluster (Debian's package) in a temporary folder, the code
location's gRPC server, dagster-webserver, dagster-daemon and the dashboard, each on a free port of
127.0.0.1, with the instance settings of deploy/dagster.production.yaml. The test then shows:
runs launched through the webserver's GraphQL API, by `dagster job launch` and by the daily
schedule (its cron set to every minute) all go through the daemon's queue, one at a time, succeed
and land in the same PostgreSQL run storage; the schedule's run is for yesterday's partition;
restarting the webserver and the daemon loses no run and no schedule state; a SIGKILLed run worker
is marked failed and the next run goes ahead. Every process the script started is stopped by its
recorded pid, also when the test fails.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import psycopg2
import pytest

from sales_platform import tables
from sales_platform.partitions import full_history_tags_json
from sales_platform.storage import read_table
from sales_platform_tests.test_defs_run_queue import run_workers

ROOT = Path(__file__).resolve().parents[1]
PROD = ROOT / "deploy" / "prod.sh"
BIN = Path(sys.executable).parent
LOCATION = {"repositoryLocationName": "sales_platform", "repositoryName": "__repository__"}
SCHEDULE = {**LOCATION, "scheduleName": "daily_sales_schedule"}
DONE = {"SUCCESS", "FAILURE", "CANCELED"}
IN_PROGRESS = {"STARTING", "STARTED", "CANCELING"}


def initdb_found() -> bool:
    return bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Deployment:
    env: dict[str, str]
    prod_dir: Path
    webserver_port: int
    pids: set[int] = field(default_factory=set)

    def prod(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(PROD), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"prod.sh {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        self.pids |= set(self.recorded_pids().values())
        return done.stdout

    def recorded_pids(self) -> dict[str, int]:
        return {p.stem: int(p.read_text()) for p in (self.prod_dir / "run").glob("*.pid")}

    def cli_env(self) -> dict[str, str]:
        """The environment `deploy/prod.sh env` prints: what a `dagster` command needs."""
        env = dict(self.env)
        for line in self.prod("env").splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
        return env

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.webserver_port}/graphql",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def pg(self, sql: str, *params) -> list[tuple]:
        env = self.cli_env()
        with (
            psycopg2.connect(
                host=env["DAGSTER_PG_HOST"],
                port=int(env["DAGSTER_PG_PORT"]),
                user=env["DAGSTER_PG_USER"],
                password=env["DAGSTER_PG_PASSWORD"],
                dbname=env["DAGSTER_PG_DB"],
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        connection.close()
        return rows


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def deployment():
    if not initdb_found():
        pytest.skip("PostgreSQL's initdb not found (apt-get install -y postgresql; .ci/run does)")
    # Not under pytest's tmp_path: its root is private to root, and PostgreSQL runs as `postgres`.
    prod_dir = Path(tempfile.mkdtemp(prefix="sales-prod-"))
    prod_dir.chmod(0o755)
    webserver_port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SALES_", "DAGSTER_", "PROD_"))
    }
    env |= {
        "PROD_DIR": str(prod_dir),
        "PROD_BIN": str(BIN),
        "PROD_PG_PORT": str(free_port()),
        "PROD_GRPC_PORT": str(free_port()),
        "PROD_WEBSERVER_PORT": str(webserver_port),
        "PROD_DASHBOARD_PORT": str(free_port()),
        "PROD_STOP_GRACE": "20",
        # The small synthetic shop over the last three months, up to yesterday (no end), so the
        # newest partition is yesterday's and the schedule has a day to run.
        "SALES_DUCKDB_PATH": str(prod_dir / "data" / "sales.duckdb"),
        "SALES_HISTORY_START": (datetime.now(UTC).date() - timedelta(days=90)).isoformat(),
        "SALES_ORDERS_PER_DAY": "200",
        "SALES_SCHEDULE_CRON": "* * * * *",
    }
    deployment = Deployment(env=env, prod_dir=prod_dir, webserver_port=webserver_port)
    try:
        deployment.prod("up")
        yield deployment
    finally:
        deployment.pids |= set(deployment.recorded_pids().values())
        down = subprocess.run(
            [str(PROD), "down"], env=env, capture_output=True, text=True, timeout=300
        )
        left = sorted(pid for pid in deployment.pids if alive(pid))
        for pid in left:  # a last resort: only the pids the script recorded
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        logs = {p.name: p.read_text()[-3000:] for p in (prod_dir / "logs").glob("*.log")}
        shutil.rmtree(prod_dir, ignore_errors=True)
        assert down.returncode == 0, down.stderr
        assert not left, f"prod.sh down left {left} running; logs: {logs}"


def runs(deployment: Deployment) -> dict[str, dict]:
    data = deployment.graphql(
        """{ runsOrError { ... on Runs { results {
             runId jobName status tags { key value } } } } }"""
    )
    return {run["runId"]: run for run in data["runsOrError"]["results"]}


def wait_for(deployment: Deployment, condition, timeout: float = 240.0) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = runs(deployment)
        in_progress = [r for r in current.values() if r["status"] in IN_PROGRESS]
        assert len(in_progress) <= 1, f"runs in progress at once: {in_progress}"
        if condition(current):
            return current
        time.sleep(1)
    raise AssertionError(f"timed out; runs: {[(r[:8], v['status']) for r, v in current.items()]}")


def launch(deployment: Deployment, job: str, tags: dict[str, str] | None = None) -> str:
    data = deployment.graphql(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename ... on LaunchRunSuccess { run { runId } }
             ... on PythonError { message } } }""",
        params={
            "selector": {**LOCATION, "jobName": job},
            "executionMetadata": {
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]
            },
        },
    )
    assert data["launchRun"]["__typename"] == "LaunchRunSuccess", data
    return data["launchRun"]["run"]["runId"]


def schedule_state(deployment: Deployment) -> dict:
    data = deployment.graphql(
        """query($selector: ScheduleSelector!) { scheduleOrError(scheduleSelector: $selector) {
             ... on Schedule { scheduleState { status
               ticks(limit: 100) { tickId status timestamp runIds } } } } }""",
        selector=SCHEDULE,
    )
    return data["scheduleOrError"]["scheduleState"]


def tag(run: dict, key: str) -> str | None:
    return {t["key"]: t["value"] for t in run["tags"]}.get(key)


def scheduled(current: dict[str, dict]) -> list[dict]:
    return [r for r in current.values() if tag(r, "dagster/schedule_name")]


def tick_of(deployment: Deployment, run_id: str) -> dict:
    (tick,) = [t for t in schedule_state(deployment)["ticks"] if run_id in t["runIds"]]
    return tick


@pytest.mark.slow
def test_production_deployment(deployment):
    # A run launched through the webserver's GraphQL API (what the UI does) ...
    # The whole history, computed now as `make run` does (the job carries no range of its own).
    history = json.loads(full_history_tags_json(deployment.cli_env()))
    ui_run = launch(deployment, "sales_forecast_job", history)
    # ... the daily schedule, turned on through GraphQL too; it fires every minute here ...
    started = deployment.graphql(
        """mutation($selector: ScheduleSelector!) { startSchedule(scheduleSelector: $selector) {
             __typename ... on ScheduleStateResult { scheduleState { status } } } }""",
        selector=SCHEDULE,
    )
    assert started["startSchedule"]["scheduleState"]["status"] == "RUNNING", started
    schedule_on = time.time()
    # ... and one by the CLI, against the same instance and code location.
    cli = subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-w", str(ROOT / "deploy" / "workspace.yaml")]
        + ["-j", "sales_forecast_job", "--tags", json.dumps(history)],
        env=deployment.cli_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]

    current = wait_for(
        deployment,
        lambda current: (
            len(current) >= 3
            and all(r["status"] in DONE for r in current.values())
            and scheduled(current)
        ),
    )
    assert {r["status"] for r in current.values()} == {"SUCCESS"}, current
    first = min(scheduled(current), key=lambda r: tick_of(deployment, r["runId"])["timestamp"])
    (cli_run,) = set(current) - {ui_run} - {r["runId"] for r in scheduled(current)}

    # The schedule fired by itself within two minutes, for the day before its tick (UTC).
    tick = tick_of(deployment, first["runId"])
    assert tick["timestamp"] - schedule_on < 120
    tick_day = datetime.fromtimestamp(tick["timestamp"], UTC).date()
    yesterday = (tick_day - timedelta(days=1)).isoformat()
    assert first["jobName"] == "daily_sales_job"
    assert tag(first, "dagster/partition") == yesterday

    # Every run is a row of PostgreSQL's run storage, went through the daemon's queue, and none
    # overlapped another.
    stored = deployment.pg("SELECT run_id, status, start_time, end_time FROM runs")
    assert {row[0] for row in stored} == set(current)
    assert {ui_run, cli_run, first["runId"]} <= set(current)
    for run_id in current:
        events = {
            row[0]
            for row in deployment.pg(
                "SELECT dagster_event_type FROM event_logs WHERE run_id = %s", run_id
            )
        }
        assert {"PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_SUCCESS"} <= events
    spans = sorted((row[2], row[3]) for row in stored)
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(spans))

    # Restarting the webserver and the daemon loses no run and no schedule state ...
    before = {run_id: run["status"] for run_id, run in runs(deployment).items()}
    ticks_before = {t["tickId"] for t in schedule_state(deployment)["ticks"]}
    deployment.prod("stop", "webserver", "daemon")
    restarted = time.time()
    deployment.prod("start", "webserver", "daemon")
    after = {run_id: run["status"] for run_id, run in runs(deployment).items()}
    assert set(before) <= set(after)
    # (A run the schedule had just created may have moved on meanwhile.)
    assert {r: after[r] for r, status in before.items() if status in DONE} == {
        r: status for r, status in before.items() if status in DONE
    }
    state = schedule_state(deployment)
    assert state["status"] == "RUNNING"
    assert ticks_before <= {t["tickId"] for t in state["ticks"]}
    # ... and the schedule goes on firing: a tick after the restart runs yesterday again.
    current = wait_for(
        deployment,
        lambda current: any(
            r["status"] == "SUCCESS" and tick_of(deployment, r["runId"])["timestamp"] > restarted
            for r in scheduled(current)
        ),
        timeout=150,
    )
    stopped = deployment.graphql(
        """mutation($selector: ScheduleSelector!) { resetSchedule(scheduleSelector: $selector) {
             __typename ... on ScheduleStateResult { scheduleState { status } } } }""",
        selector=SCHEDULE,
    )
    assert stopped["resetSchedule"]["scheduleState"]["status"] == "STOPPED", stopped
    assert {tag(r, "dagster/partition") for r in scheduled(current)} == {yesterday}

    # A SIGKILLed run worker: its run is marked failed and frees the queue for the next one.
    wait_for(deployment, lambda current: all(r["status"] in DONE for r in current.values()))
    killed = launch(deployment, "sales_forecast_job", history)
    code_pid = deployment.recorded_pids()["code"]
    wait_for(
        deployment,
        lambda current: current[killed]["status"] == "STARTED" and run_workers(code_pid),
    )
    for pid in run_workers(code_pid):
        os.kill(pid, signal.SIGKILL)
    last = launch(deployment, "daily_sales_job", {"dagster/partition": yesterday})
    current = wait_for(
        deployment, lambda current: all(r["status"] in DONE for r in current.values())
    )
    assert current[killed]["status"] == "FAILURE"
    assert current[last]["status"] == "SUCCESS"
    assert [r for r in current.values() if r["status"] != "SUCCESS"] == [current[killed]]
    published = read_table(deployment.env["SALES_DUCKDB_PATH"], tables.SALES_FORECAST)
    assert set(published["run_id"]) == {last}
