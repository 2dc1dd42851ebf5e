"""The dashboard in a real headless browser: `streamlit run` + Playwright driving Debian's Chromium.

Saves a screenshot to ``artifacts/dashboard.png`` (repository-relative; CI uploads it).
Never runs ``playwright install``: the browser is the ``chromium`` Debian package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.headless import CHROMIUM, CHROMIUM_ARGS, RENDERED_JS, serve_dashboard
from sales_platform_tests import dashboard_fixtures as fx

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO_ROOT / "artifacts" / "dashboard.png"


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
    with serve_dashboard(db, tmp / "streamlit.log") as url:
        yield url


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
