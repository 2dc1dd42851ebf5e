"""Drive the dashboard in headless Debian Chromium: used by the browser test and render benchmark.

:func:`serve_dashboard` runs ``streamlit run dashboard/app.py`` headless on 127.0.0.1 against a
DuckDB file and yields its URL once ``/_stcore/health`` answers; :data:`CHROMIUM`,
:data:`CHROMIUM_ARGS` and :data:`RENDERED_JS` are what the callers hand to Playwright. The browser
is the ``chromium`` Debian package: never ``playwright install``. Imports neither pytest nor
Playwright.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sales_platform import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "dashboard" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# True once the app is idle (script finished), >= 4 KPI metrics show a value and the first chart
# drew marks. Records that moment (ms since navigation start) in window.__renderedAt.
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

_LOG_TAIL_LINES = 40


class DashboardServerError(RuntimeError):
    """The streamlit server exited early or never became healthy."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(cannot read {log_path}: {exc})"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(empty)"


@contextmanager
def serve_dashboard(
    database: Path,
    log_path: Path,
    *,
    port: int | None = None,
    ready_timeout_s: float = 60.0,
) -> Iterator[str]:
    """Serve the dashboard on ``database``; yield ``http://127.0.0.1:<port>/`` once healthy.

    The server's stdout and stderr go to ``log_path``. Raises :class:`DashboardServerError`, with
    the tail of that log, if the server exits early or is not healthy within ``ready_timeout_s``.
    The server is terminated (killed after 10 s) on exit.
    """
    port = free_port() if port is None else port
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # No --client.* flags: the repository's .streamlit/config.toml (read from the working
    # directory, the repository root) sets them as for `make dashboard`.
    env = {**os.environ, settings.DUCKDB_PATH_ENV: str(database)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(proc, port, log_path, ready_timeout_s)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(proc: subprocess.Popen, port: int, log_path: Path, timeout_s: float) -> None:
    url = f"http://127.0.0.1:{port}/_stcore/health"
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise DashboardServerError(
                f"streamlit exited early with code {proc.returncode}; "
                f"log {log_path} ends with:\n{_log_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise DashboardServerError(
                f"streamlit not healthy on port {port} after {timeout_s:g} s; "
                f"log {log_path} ends with:\n{_log_tail(log_path)}"
            )
        time.sleep(0.1)
