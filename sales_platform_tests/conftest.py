"""Shared test set-up.

The order history (and so the daily partitions, part of the definitions) is read from the
environment when `sales_platform.definitions` is imported: pin it to the small CI profile so that
every test sees the same partitions whatever today's date is.
"""

import os

SMALL_PROFILE = {
    "SALES_HISTORY_START": "2024-07-01",
    "SALES_HISTORY_END": "2025-10-31",
    "SALES_ORDERS_PER_DAY": "150",
}
for name, value in SMALL_PROFILE.items():
    os.environ.setdefault(name, value)
