"""``python -m ...hold_lock DB MODE SECONDS``: open DB (MODE rw|ro), print "locked", sleep, exit."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]


def hold_lock(database: Path, mode: str, seconds: float) -> subprocess.Popen:
    """Another process holding `database` open (`rw` or `ro`) for `seconds`, once it holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", __spec__.name, str(database), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


if __name__ == "__main__":
    database, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    conn = duckdb.connect(database, read_only=mode == "ro")
    print("locked", flush=True)
    time.sleep(seconds)
    conn.close()
