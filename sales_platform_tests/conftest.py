"""Shared test set-up.

The order history (and so the daily partitions, part of the definitions) is read from the
environment when `sales_platform.definitions` is imported: pin it to the small CI profile so that
every test sees the same partitions whatever today's date is.
"""

import os

import pytest

SMALL_PROFILE = {
    "SALES_HISTORY_START": "2024-07-01",
    "SALES_HISTORY_END": "2025-10-31",
    "SALES_ORDERS_PER_DAY": "150",
}
for name, value in SMALL_PROFILE.items():
    os.environ.setdefault(name, value)


@pytest.fixture
def fresh_streamlit_cache():
    """The dashboard's st.cache_data emptied before and after a test."""
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(scope="module")
def known_db(tmp_path_factory):
    """The dashboard's fixture database (known values), built once per test module."""
    from sales_platform_tests.dashboard_fixtures import build_dashboard_db

    return build_dashboard_db(tmp_path_factory.mktemp("dashboard") / "sales.duckdb")
