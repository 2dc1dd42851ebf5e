"""Time to first complete render of the dashboard in a real browser.

Starts ``streamlit run dashboard/app.py`` headless on 127.0.0.1 against a DuckDB file, waits until
the server answers ``/_stcore/health``, then opens the app in Debian's Chromium (Playwright, never
``playwright install``) and measures, from navigation start, how long until the render is complete:
the script has finished running, the KPI metrics are shown and the forecast chart has drawn its
marks. The first page load is the figure that counts (the server's data cache is cold, so it
includes reading the tables); later loads, with the cache warm, are reported next to it.

Usage (from the repository root)::

    SALES_DUCKDB_PATH=data/sales.duckdb python benchmarks/dashboard_render.py [--runs 5]
        [--screenshot artifacts/dashboard.png] [--chromium /usr/bin/chromium]

Prints one line per load and a summary; exits non-zero if the page never rendered or showed an
exception.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "dashboard" / "app.py"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_S = 3.0

# True once the app is idle, at least 4 KPI metrics show a value and the first chart has marks.
# Records the moment (ms since navigation start) in window.__renderedAt.
RENDERED_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const values = [...document.querySelectorAll('[data-testid="stMetricValue"]')]
    .filter(v => v.textContent.trim().length > 0);
  if (values.length < 4) return false;
  const marks = document.querySelector(
    '[data-testid="stVegaLiteChart"] svg.marks .mark-line path, '
    + '[data-testid="stVegaLiteChart"] canvas');
  if (!marks) return false;
  if (window.__renderedAt === undefined) window.__renderedAt = performance.now();
  return true;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "SALES_DUCKDB_PATH": str(database)}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    log = log_path.open("wb")
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(port: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> float:
    """Seconds until /_stcore/health answered ok."""
    t0 = time.perf_counter()
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.perf_counter() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"streamlit not healthy on port {port} after {timeout_s} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(
    url: str, runs: int, chromium: str, screenshot: Path | None, timeout_s: float
) -> list[float]:
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for i in range(runs):
                context = browser.new_context(viewport={"width": 1440, "height": 1100})
                page = context.new_page()
                page.goto(url, wait_until="commit")
                page.wait_for_function(RENDERED_JS, timeout=timeout_s * 1000, polling="raf")
                rendered_ms = page.evaluate("window.__renderedAt")
                if page.locator('[data-testid="stException"]').count():
                    raise RuntimeError("the app shows an exception")
                times.append(rendered_ms / 1000.0)
                label = "cold cache" if i == 0 else "warm cache"
                print(f"load {i + 1}: complete render {rendered_ms / 1000:.3f} s ({label})")
                if screenshot is not None and i == 0:
                    page.wait_for_timeout(500)
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
                context.close()
        finally:
            browser.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("SALES_DUCKDB_PATH", "data/sales.duckdb"),
        help="DuckDB file (default: $SALES_DUCKDB_PATH or data/sales.duckdb)",
    )
    parser.add_argument("--runs", type=int, default=5, help="page loads (first one is cold)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshot", type=Path, default=None, help="save the first load as PNG")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait per load")
    args = parser.parse_args(argv)

    database = Path(args.db).resolve()
    if not database.exists():
        print(f"no database at {database}: run `make run` first", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no chromium at {args.chromium}: apt-get install chromium", file=sys.stderr)
        return 2
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"dashboard_render_{port}.log"
    proc = start_server(database, port, log_path)
    try:
        ready_s = wait_healthy(port, proc)
        print(f"database: {database} ({database.stat().st_size / 1e6:,.1f} MB)")
        print(f"server ready after {ready_s:.2f} s (not counted)")
        times = measure(
            f"http://127.0.0.1:{port}/", args.runs, args.chromium, args.screenshot, args.timeout
        )
    except Exception:
        print(f"streamlit log: {log_path}", file=sys.stderr)
        raise
    finally:
        stop_server(proc)
    first = times[0]
    warm = times[1:]
    verdict = "OK" if first <= TARGET_S else "SLOWER THAN TARGET"
    print(
        f"time to first complete render: {first:.2f} s after the server was ready "
        f"(target <= {TARGET_S:g} s: {verdict})"
    )
    if warm:
        print(f"warm-cache loads: median {statistics.median(warm):.2f} s over {len(warm)} loads")
    if args.screenshot:
        print(f"screenshot: {args.screenshot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
