"""Streamlit dashboard of the sales forecast (see app.py)."""
