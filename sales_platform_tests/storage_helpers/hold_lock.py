"""``python -m ...hold_lock DB MODE SECONDS``: open DB (MODE rw|ro), print "locked", sleep, exit."""

from __future__ import annotations

import sys
import time

import duckdb

if __name__ == "__main__":
    database, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    conn = duckdb.connect(database, read_only=mode == "ro")
    print("locked", flush=True)
    time.sleep(seconds)
    conn.close()
