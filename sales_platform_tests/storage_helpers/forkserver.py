"""The multiprocessing context the storage tests start their worker processes from.

A forkserver that has imported and warmed up Dagster (``preload``): a worker forks from it in
milliseconds instead of spending seconds importing Dagster, so the tests fit their time budget
on a busy 2-core machine.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext


def context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sales_platform_tests.storage_helpers.preload"])
    return ctx
