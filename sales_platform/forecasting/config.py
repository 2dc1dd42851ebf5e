"""Configuration of the forecaster: its features and its forest.

One frozen dataclass, :class:`ForecastConfig`, holds the forecaster's settings; how far ahead to
forecast is not one of them: it is an argument where a forecast is made (``run_backtest``,
``forecast_to_publish``), as in mlforecast's ``predict(h)``. How the defaults were chosen is in
the package docstring (:mod:`sales_platform.forecasting`) and the README: by rolling-origin
backtests averaged over the development data sets, never one set alone. The variants that lost
(other targets, the direct strategy, other reconciliations) live in the git history and the
README's figures, not as switches here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class ForecastConfig:
    """Every setting of feature building and model fitting.

    Features (the ``sales_features`` table and the model's rows)
      - ``lags``: revenue lags in days; ``windows``: rolling mean / std windows over the days
        *before* a day.
      - ``level_window``: the *level* is the mean of the last ``level_window`` days that were not
        event days (promotions, holidays, Black Friday weeks, Christmas), so that a promotion does
        not inflate the next weeks.
      - ``profile_weeks``: the weekday profile of each series over that many weeks (event days
        skipped).
      - ``yearly``: last year's value, level growth and seasonal change at the target day (NaN
        where history is shorter than a year; the forest handles NaN natively).
      - ``country``: whose public holidays and retail days (``calendar_features``).
      - ``max_train_days``: only target days in the last ``max_train_days`` days are training rows,
        so the daily fit costs the same on 4 years of history as on 2.

    Forest: ``n_estimators``, ``max_depth``, ``min_samples_leaf``, ``max_features``,
    ``max_samples``, ``bootstrap``, ``random_state``, ``n_jobs`` (RandomForestRegressor's).
    """

    lags: tuple[int, ...] = (1, 7, 14, 28)
    windows: tuple[int, ...] = (7, 28)
    yearly: bool = True
    country: str = "US"
    level_window: int = 28
    profile_weeks: int = 26
    max_train_days: int = 730
    n_estimators: int = 100
    max_depth: int | None = None
    min_samples_leaf: int = 2
    max_features: float = 0.5
    max_samples: float | None = None
    bootstrap: bool = True
    random_state: int = 42
    n_jobs: int = -1

    def __post_init__(self) -> None:
        if not self.lags or min(self.lags) < 1:
            raise ValueError(f"lags must be non-empty and >= 1, got {self.lags!r}")
        if not self.windows or min(self.windows) < 2:
            raise ValueError(f"windows must be non-empty and >= 2, got {self.windows!r}")
        if self.level_window < 2:
            raise ValueError(f"level_window must be >= 2, got {self.level_window!r}")
        if self.profile_weeks < 1:
            raise ValueError(f"profile_weeks must be >= 1, got {self.profile_weeks!r}")
        if self.max_train_days < 60:
            raise ValueError(f"max_train_days must be >= 60, got {self.max_train_days!r}")
        object.__setattr__(self, "lags", tuple(int(v) for v in self.lags))
        object.__setattr__(self, "windows", tuple(int(v) for v in self.windows))

    @property
    def warmup_days(self) -> int:
        """Days of history a state (lags, windows, level) needs before it is complete."""
        return max(max(self.lags), max(self.windows), self.level_window)

    def to_dict(self) -> dict[str, Any]:
        """Plain builtins only (tuples become lists): storable in a skops file or as metadata."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ForecastConfig:
        names = {f.name for f in fields(cls)}
        kwargs = {
            k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names
        }
        return cls(**kwargs)

    def with_(self, **changes: Any) -> ForecastConfig:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)
