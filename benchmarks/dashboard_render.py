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
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, only benchmarks/ is on sys.path: put the repository root there for `dashboard`.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from dashboard.headless import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    RENDERED_JS,
    free_port,
    serve_dashboard,
)
from sales_platform import settings  # noqa: E402

TARGET_S = 3.0


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
        default=settings.database_path(),
        help="DuckDB file (default: $SALES_DUCKDB_PATH or data/sales.duckdb)",
    )
    parser.add_argument("--runs", type=int, default=5, help="page loads (first one is cold)")
    parser.add_argument("--chromium", default=str(CHROMIUM))
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
    t0 = time.perf_counter()
    try:
        with serve_dashboard(database, log_path, port=port) as url:
            ready_s = time.perf_counter() - t0
            print(f"database: {database} ({database.stat().st_size / 1e6:,.1f} MB)")
            print(f"server ready after {ready_s:.2f} s (not counted)")
            times = measure(url, args.runs, args.chromium, args.screenshot, args.timeout)
    except Exception:
        print(f"streamlit log: {log_path}", file=sys.stderr)
        raise
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
