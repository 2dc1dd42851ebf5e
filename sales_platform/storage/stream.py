"""``FrameStream``: a table written as a sequence of DataFrames, so that memory holds one at a time.

An asset returns one when its output is too large to hold whole (the order lines of a long
history): the pandas type handler checks each frame exactly as it checks one DataFrame (columns,
partition bounds, normalisation), commits it into a staging table, and replaces the table by the
staged rows in one last transaction, so a killed run still leaves the previous committed table
(see :mod:`sales_platform.storage.pandas_handler`). Why DataFrames and not a
``pyarrow.RecordBatchReader``: each frame is checked (columns, partition bounds) before it is
inserted, which needs to read it twice; a reader can be read once, and every producer here
(the synthetic shop, the file source) makes pandas frames anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["FrameStream"]


@dataclass(frozen=True)
class FrameStream:
    """``frames``: at least one, all with the same columns (an empty one is fine), consumed once.

    ``metadata``: called once every frame is written; its entries join the output's metadata
    (e.g. totals the asset counted as the frames went by).
    """

    frames: Iterable[pd.DataFrame]
    metadata: Callable[[], Mapping[str, Any]] | None = None
