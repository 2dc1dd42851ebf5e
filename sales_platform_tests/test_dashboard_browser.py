"""The dashboard in a real headless browser: `streamlit run` + Playwright driving Debian's Chromium.

Saves screenshots to ``artifacts/dashboard.png`` and ``artifacts/dashboard_products.png``
(repository-relative; CI uploads them).
Never runs ``playwright install``: the browser is the ``chromium`` Debian package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.headless import CHROMIUM, CHROMIUM_ARGS, RENDERED_JS, serve_dashboard
from sales_platform_tests import dashboard_fixtures as fx

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO_ROOT / "artifacts" / "dashboard.png"
PRODUCTS_SCREENSHOT = REPO_ROOT / "artifacts" / "dashboard_products.png"


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


LOCAL = re.compile(r"^(https?://127\.0\.0\.1[:/]|wss?://127\.0\.0\.1[:/]|data:|blob:)")


def metric_shown(value: str) -> str:
    return (
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        f".some(v => v.textContent.trim() === {value!r})"
    )


def test_dashboard_renders_in_chromium(dashboard_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1350})
            # Offline: every request that leaves the machine is refused and recorded.
            external: list[str] = []
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.route(
                lambda url: not LOCAL.match(url),
                lambda route: (external.append(route.request.url), route.abort()),
            )
            page.goto(dashboard_url)
            page.wait_for_function(RENDERED_JS, timeout=60_000)

            assert page.locator('[data-testid="stException"]').count() == 0
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert "$50,835" in values  # revenue of the last 30 days
            assert "$54,330" in values  # forecast of the next 30 days
            assert "$80" in values  # backtest MAE of the published forecast
            assert "forest" in values  # the total's method
            assert page.locator("h4", has_text="Total (all categories)").count() == 1
            chart = page.locator('[data-testid="stVegaLiteChart"]').first
            assert chart.is_visible()
            assert chart.locator("svg.marks .mark-area path").count() >= 2  # 80 % + 95 % bands
            assert chart.locator("svg.marks .mark-line path").count() >= 2  # actual + forecast
            # .streamlit/config.toml: toolbarMode = "viewer" hides Deploy; the icon is an emoji.
            assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
            icon = page.eval_on_selector("link[rel='shortcut icon']", "e => e.href")
            assert icon.startswith("data:image/svg+xml")

            page.wait_for_timeout(300)  # let the sparklines' transitions settle
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

            # Pick a category: the cards follow it.
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
            page.get_by_role("option", name="Home").click()
            page.wait_for_function(metric_shown("$18,945"), timeout=30_000)
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert "$21,732" in values and "$31" in values
            assert page.locator("h4", has_text="Home").count() == 1

            # Model quality: readable names, the pooled row by name, the per-series choice.
            page.get_by_role("tab", name="Model quality").click()
            page.get_by_role("heading", name="Per-series choice").wait_for(timeout=30_000)
            page.locator("svg text", has_text="all series (pooled)").wait_for(timeout=30_000)
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert "__all__" not in main
            assert "level x weekday profile" in main and "AutoETS" in main
            assert page.locator('[data-testid="stException"]').count() == 0

            # Products: the biggest product first, its order quantity, chart and table.
            page.get_by_role("tab", name="Products").click()
            page.get_by_role("heading", name="Product demand and what to order").wait_for(
                timeout=30_000
            )
            page.wait_for_function(metric_shown("42"), timeout=30_000)  # P001 at 95%
            main = page.locator('[data-testid="stMain"]')
            chart = main.locator('[data-testid="stVegaLiteChart"]').first
            chart.locator("svg.marks .mark-area path").first.wait_for(timeout=30_000)
            assert chart.locator("svg.marks .mark-line path").count() >= 2
            assert main.locator('[data-testid="stDataFrame"]').is_visible()
            assert main.locator('[data-testid="stDownloadButton"]').is_visible()
            # Search a product by name: the cards follow it.
            main.locator('[data-testid="stSelectbox"]', has_text="Product").click()
            page.keyboard.type("Phone")
            page.get_by_role("option", name="P002 · Phone Case (Electronics)").click()
            page.wait_for_function(metric_shown("9"), timeout=30_000)  # P002 at 95%
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert "15.0" in values and "3.5" in values and "0.40" in values
            assert page.locator('[data-testid="stException"]').count() == 0
            page.wait_for_timeout(300)
            page.screenshot(path=str(PRODUCTS_SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
    assert PRODUCTS_SCREENSHOT.stat().st_size > 10_000
    assert not external, external  # nothing fetched from the internet
    assert not errors, errors
