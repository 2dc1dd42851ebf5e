"""The file-source sensor: a new or changed daily file asks for a run of that day only."""

import shutil
from pathlib import Path

import dagster as dg

from sales_platform.definitions import defs
from sales_platform.defs.jobs import orders_files_sensor
from sales_platform.resources import ShopSettings

GOOD = Path(__file__).parent / "fixtures" / "orders_files" / "good"


def tick(folder: Path, cursor: str | None) -> tuple[list[str], str | None]:
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"shop": ShopSettings(source="file", source_path=str(folder))},
        definitions=defs,
    )
    result = orders_files_sensor.evaluate_tick(context)
    return [request.partition_key for request in result.run_requests or []], result.cursor


def test_sensor_requests_new_and_changed_days_only(tmp_path):
    shutil.copytree(GOOD, tmp_path / "orders")
    folder = tmp_path / "orders"
    days, cursor = tick(folder, None)
    assert days == ["2025-01-02"]  # the history itself is the main job's to load
    assert tick(folder, cursor)[0] == []

    new_day = folder / "orders_2025-01-03.csv"
    new_day.write_text(
        (folder / "orders_2025-01-02.csv").read_text().replace("1/2/2025", "1/3/2025")
    )
    days, cursor = tick(folder, cursor)
    assert days == ["2025-01-03"]

    with (folder / "orders_2025-01-01.csv").open("a") as changed:
        changed.write("536999,1/1/2025 9:00,22960,JAM MAKING SET,1,4.25,13047,Kitchen\n")
    assert tick(folder, cursor)[0] == ["2025-01-01"]


def test_sensor_skips_for_the_synthetic_shop():
    context = dg.build_sensor_context(resources={"shop": ShopSettings(source="synthetic")})
    result = orders_files_sensor.evaluate_tick(context)
    assert not result.run_requests and "synthetic" in result.skip_message
