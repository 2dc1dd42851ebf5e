"""Crash safety and reader/writer concurrency of the DuckDB storage (issue 4).

Both tests run their writers (and readers) in child processes forked from a forkserver that has
preloaded Dagster, so a child starts in milliseconds. Knobs for a longer run by hand:

    STORAGE_KILLS=50 STORAGE_CONCURRENCY_SECONDS=60 \
        .venv/bin/python -m pytest sales_platform_tests/test_storage_crash.py -s

``-s`` prints the observed counts.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import time

import pytest

from sales_platform_tests.storage_helpers import forkserver, workers

KILLS = int(os.environ.get("STORAGE_KILLS", "10"))
CONCURRENCY_SECONDS = float(os.environ.get("STORAGE_CONCURRENCY_SECONDS", "4"))
# Even kills: uniform(0, KILL_SPREAD x one run's duration) after the child's first run.
# Odd kills: aimed at the DuckDB write: once the IO manager's handle_output has started,
# uniform(0, 1.2 x its last duration) later (connect, transaction, commit, checkpoint, close).
KILL_SPREAD = float(os.environ.get("STORAGE_KILL_SPREAD", "1.5"))


@pytest.fixture(scope="module")
def mp():
    return forkserver.context()


def test_sigkill_at_random_moments_leaves_last_committed_version(tmp_path, mp):
    db = str(tmp_path / "kill.duckdb")
    assert workers.write_version(db, 0)
    seed = int(os.environ.get("STORAGE_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    in_table = 0  # the version the table holds (the last committed one)
    kept_old = got_new = writes = inside_write = left_staging = 0
    for kill in range(KILLS):
        next_version = in_table + 1
        attempting = mp.Value("q", in_table)
        committed = mp.Value("q", in_table)
        started = mp.Event()
        run_seconds = mp.Value("d", 0.0)
        in_write = mp.Value("i", 0)
        write_seconds = mp.Value("d", 0.0)
        child = mp.Process(
            target=workers.writer_forever,
            args=(
                db,
                next_version,
                attempting,
                committed,
                started,
                run_seconds,
                in_write,
                write_seconds,
            ),
            daemon=True,
        )
        child.start()
        assert started.wait(120), "writer child did not complete its first run"
        if kill % 2 == 0:
            time.sleep(rng.uniform(0.0, KILL_SPREAD * run_seconds.value))
        else:
            deadline = time.monotonic() + 60
            while not in_write.value and time.monotonic() < deadline:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0.0, 1.2 * write_seconds.value))
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
        inside_write += in_write.value
        assert child.exitcode == -signal.SIGKILL, (
            f"kill {kill}: the writer exited by itself ({child.exitcode}): a write failed"
        )

        # Read-only first (replays the WAL the killed writer left behind), like the dashboard.
        result = workers.check_tables(db, timeout_s=30)
        assert not result["problems"], f"kill {kill} (seed {seed}): {result['problems']}"
        seen = result["snapshot_version"]
        assert seen in {committed.value, attempting.value}, (
            f"kill {kill} (seed {seed}): snapshot at v{seen}, last committed "
            f"v{committed.value}, in flight v{attempting.value}"
        )
        daily = result["daily_versions"]
        assert max(daily.values()) <= attempting.value, f"kill {kill}: {daily}"
        left_staging += bool(result["staging_tables"])
        in_flight = attempting.value != committed.value
        day = workers.DAY_KEYS[attempting.value % len(workers.DAY_KEYS)]
        new_seen = seen == attempting.value or daily.get(day) == attempting.value
        got_new += in_flight and new_seen
        kept_old += not (in_flight and new_seen)
        writes += committed.value - in_table
        in_table = seen
    # A write after the kills drops any staging table they left behind.
    assert workers.write_version(db, in_table + 1)
    assert workers.staging_tables(db) == []
    print(
        f"\n[storage] {KILLS} SIGKILLs (seed {seed}): tables intact "
        f"after every kill; {inside_write} kills landed inside the IO manager's write (connect, "
        f"transaction, checkpoint); {writes} runs completed; {kept_old} kills left only previous "
        f"versions, {got_new} left a table of the run being killed committed; 0 empty/partial; "
        f"{left_staging} left a staging table (never read, dropped by the next write)"
    )


def test_concurrent_readers_and_writer_never_fail(tmp_path, mp):
    db = str(tmp_path / "busy.duckdb")
    assert workers.write_version(db, 0)
    results: queue.Queue = mp.Queue()
    stop = mp.Event()
    seconds = CONCURRENCY_SECONDS
    procs = [
        mp.Process(target=workers.writer_for, args=(db, 1, seconds, 3, results, stop), daemon=True),
        # a dashboard polling fast, one polling every 100 ms, and a slow reader that holds its
        # read-only connection for 300 ms at a time (blocking the writer meanwhile)
        mp.Process(target=workers.reader_for, args=(db, 0.02, 0.0, results, stop), daemon=True),
        mp.Process(target=workers.reader_for, args=(db, 0.1, 0.0, results, stop), daemon=True),
        mp.Process(target=workers.reader_for, args=(db, 0.2, 0.3, results, stop), daemon=True),
    ]
    for proc in procs:
        proc.start()
    try:
        reports = [results.get(timeout=seconds + 180) for _ in procs]
    finally:
        stop.set()
        for proc in procs:
            proc.join(30)
    writer = next(r for r in reports if r["role"] == "writer")
    readers = [r for r in reports if r["role"] == "reader"]
    assert writer["failed"] == 0, writer["errors"]
    assert writer["ok"] >= 3, writer
    for reader in readers:
        assert reader["failed"] == 0, reader["errors"]
        assert reader["bad"] == 0, reader["errors"]
        assert reader["reads"] > 0
    fast = [r for r in readers if r["versions"]]
    assert any(len(r["versions"]) >= 2 for r in fast), "no reader saw a new version"
    print(
        f"\n[storage] {seconds:g}s+ concurrent load: writer {writer['ok']} runs ok / "
        f"{writer['failed']} failed; readers "
        + ", ".join(
            f"{r['reads']} reads ({r['failed']} failed, {r['bad']} bad, slowest "
            f"{r['slowest_s']:.2f}s)"
            for r in readers
        )
    )
