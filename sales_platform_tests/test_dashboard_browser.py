"""The dashboard in a real headless browser: `streamlit run` + Playwright driving Debian's Chromium.

Saves a screenshot to ``artifacts/dashboard.png`` (repository-relative; CI uploads it).
Never runs ``playwright install``: the browser is the ``chromium`` Debian package.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sales_platform_tests import dashboard_fixtures as fx

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "dashboard" / "app.py"
SCREENSHOT = REPO_ROOT / "artifacts" / "dashboard.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The app is idle (script finished), >= 4 KPI metrics show a value, and the first chart drew marks.
RENDERED_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const values = [...document.querySelectorAll('[data-testid="stMetricValue"]')]
    .filter(v => v.textContent.trim().length > 0);
  if (values.length < 4) return false;
  return !!document.querySelector(
    '[data-testid="stVegaLiteChart"] svg.marks .mark-line path, '
    + '[data-testid="stVegaLiteChart"] canvas');
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium "
            "(apt-get install chromium; CI installs it)"
        )
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is missing")
    tmp = tmp_path_factory.mktemp("dash_browser")
    db = fx.build_dashboard_db(tmp / "sales.duckdb")
    port = _free_port()
    log = (tmp / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "minimal",
        ],  # fmt: skip
        cwd=REPO_ROOT,
        env={**os.environ, "SALES_DUCKDB_PATH": str(db)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "streamlit.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("streamlit did not become healthy within 60 s")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_dashboard_renders_in_chromium(dashboard_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1350})
            page.goto(dashboard_url)
            page.wait_for_function(RENDERED_JS, timeout=60_000)

            assert page.locator('[data-testid="stException"]').count() == 0
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert "$50,835" in values  # revenue of the last 30 days
            assert "$54,330" in values  # forecast of the next 30 days
            assert "$80" in values  # backtest MAE
            chart = page.locator('[data-testid="stVegaLiteChart"]').first
            assert chart.is_visible()
            assert chart.locator("svg.marks .mark-area path").count() >= 2  # 80 % + 95 % bands
            assert chart.locator("svg.marks .mark-line path").count() >= 2  # actual + forecast

            page.wait_for_timeout(300)  # let the sparklines' transitions settle
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
