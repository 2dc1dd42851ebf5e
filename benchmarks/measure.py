"""Wall time and peak memory of a command, run as a child process of a benchmark, and the
DAGSTER_HOME the benchmarks run their jobs in.

Peak RSS is the child's own high-water mark (``VmHWM``), read from ``/proc`` every 50 ms while it
runs. ``getrusage(RUSAGE_CHILDREN)`` would also count the memory this process held when it
started the child (Linux keeps the high-water mark of the image that ``exec`` replaces): a
benchmark that generated 20 million lines before starting the job reported their memory as the
job's (4.59 GiB where the job itself peaked at 2.82 GiB).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

INSTANCE_SETTINGS = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"


def dagster_home(folder: Path, *, instance_settings: bool = True) -> str:
    """A DAGSTER_HOME in `folder` with the settings of `make run` (deploy/dagster.yaml), or with
    Dagster's defaults (the empty job a reference is measured with carries nothing of ours)."""
    home = folder / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if instance_settings:
        shutil.copy(INSTANCE_SETTINGS, home / "dagster.yaml")
    return str(home)


def run_measured(command: list[str], env: Mapping[str, str], cwd: Path) -> tuple[float, float]:
    """Runs `command`; returns (wall seconds, peak RSS in GiB). Exits with its output on failure."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=output, stderr=subprocess.STDOUT, text=True
        )
        status = Path(f"/proc/{child.pid}/status")
        peak_kib = 0
        while child.poll() is None:
            with contextlib.suppress(OSError, IndexError, ValueError):
                peak_kib = max(peak_kib, int(status.read_text().split("VmHWM:")[1].split()[0]))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        if child.returncode:
            output.seek(0)
            sys.stderr.write(output.read()[-8000:])
            raise SystemExit(f"{' '.join(command[:6])} ... failed ({child.returncode})")
    return wall, peak_kib / 1024**2
