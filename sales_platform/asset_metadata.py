"""Metadata a user reads in the Dagster UI: row counts, markdown previews, embedded plots."""

from __future__ import annotations

import base64
import io
from typing import Any

import dagster as dg
import pandas as pd

OWNERS = ["team:data-platform"]
"""Who answers for every asset (Dagster's owners: a team or an email)."""


def table_metadata(df: pd.DataFrame, preview_rows: int = 10) -> dict[str, Any]:
    """The row count and a preview of the first `preview_rows` rows; `preview_rows=0` for an
    asset whose metadata shows its rows otherwise (no preview then, not an empty one)."""
    metadata: dict[str, Any] = {"dagster/row_count": len(df)}
    if preview_rows > 0:
        metadata["preview"] = dg.MetadataValue.md(markdown_table(df.head(preview_rows)))
    return metadata


def markdown_table(df: pd.DataFrame, float_format: str = ",.2f") -> str:
    if df.empty:
        return "_no rows_"
    return df.to_markdown(index=False, floatfmt=float_format)


def figure_markdown(figure: Any, title: str) -> dg.MetadataValue:
    """A matplotlib figure as a PNG embedded in markdown (the UI renders data URIs)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")
