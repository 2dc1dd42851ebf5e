"""``FrameStream``: a table written as a sequence of DataFrames, so that memory holds one at a time.

An asset returns one when its output is too large to hold whole (the order lines of a long
history): the pandas type handler writes the frames one after the other inside one transaction,
exactly as it writes one DataFrame (same columns checks, partition bounds, normalisation), so a
killed run still leaves the previous committed table. Why DataFrames and not a
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
