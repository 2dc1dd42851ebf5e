"""Configuration of the forecaster: features, target, strategy, forest and reconciliation.

One frozen dataclass, :class:`ForecastConfig`, holds every knob; :data:`FeatureConfig` is the same
class under the name the feature step uses. How the defaults were chosen is documented in the
package docstring (:mod:`sales_platform.forecasting`) and the README: by rolling-origin backtests
averaged over the development data sets, never one set alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

STRATEGIES = ("direct", "recursive")
TARGET_TRANSFORMS = ("ratio", "log_ratio", "none")
RECONCILIATIONS = ("bottom_up", "top_down", "wls", "none")


@dataclass(frozen=True)
class ForecastConfig:
    """Every setting of feature building, model fitting and forecasting.

    Features (the ``sales_features`` table and the model's rows)
      - ``lags``: revenue lags in days; ``windows``: rolling mean / std windows over the days
        *before* a day; ``use_lags``: whether the model sees the lags (the table always has them).
      - ``level_window`` / ``clean_level``: the *level* is the mean of the last ``level_window``
        days; with ``clean_level``, of the last ``level_window`` days that were not event days
        (promotions, holidays, Black Friday weeks, Christmas), so that a promotion does not
        inflate the next weeks.
      - ``profile_weeks``: the weekday profile of each series over that many weeks (event days
        skipped), ``0`` to disable.
      - ``seasonal_lags``: most recent same-weekday values of the target day (useful for
        ``direct``; for ``recursive`` they repeat ``lag_7``/``lag_14``...).
      - ``yearly``: last year's value, level growth and seasonal change at the target day (NaN
        where history is shorter than a year; the forest handles NaN natively).
      - ``country``: whose public holidays (``calendar_features``).

    Target
      - ``target_transform``: ``ratio`` (revenue / base), ``log_ratio`` (log of it) or ``none``
        (raw revenue, only for comparison: trees cannot extrapolate a trend).
      - ``profile_in_target``: the base is level x weekday profile of the target day (a seasonal
        baseline) instead of the level alone.

    Strategy
      - ``strategy``: ``recursive`` (a one-step forest iterated, its predictions becoming the
        lags and level of later steps) or ``direct`` (one forest for all horizons, the horizon a
        feature, every step sees only the origin's state); ``horizon``: days ahead;
        ``origin_stride``: use every n-th origin for the direct model's training rows.
      - ``max_train_days``: only target days in the last ``max_train_days`` days are training rows,
        so the daily fit costs the same on 4 years of history as on 2.

    Forest: ``n_estimators``, ``max_depth``, ``min_samples_leaf``, ``max_features``,
    ``max_samples``, ``bootstrap``, ``random_state``, ``n_jobs`` (RandomForestRegressor's).

    ``reconciliation``: how the published categories are made to add up to the total:
    ``top_down`` (default: the total keeps the forecast its backtest chose and the categories are
    scaled to it, so a lumpy category cannot pull the total), ``wls`` (MinT with a diagonal
    covariance proportional to each forecast), ``bottom_up`` or ``none``.
    """

    horizon: int = 30
    lags: tuple[int, ...] = (1, 7, 14, 28)
    windows: tuple[int, ...] = (7, 28)
    seasonal_lags: int = 0
    yearly: bool = True
    country: str = "US"
    target_transform: str = "ratio"
    level_window: int = 28
    clean_level: bool = True
    profile_weeks: int = 26
    profile_in_target: bool = True
    use_lags: bool = True
    strategy: str = "recursive"
    max_train_days: int = 730
    origin_stride: int = 1
    n_estimators: int = 100
    max_depth: int | None = None
    min_samples_leaf: int = 2
    max_features: float = 0.5
    max_samples: float | None = None
    bootstrap: bool = True
    random_state: int = 42
    n_jobs: int = -1
    reconciliation: str = "top_down"

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.target_transform not in TARGET_TRANSFORMS:
            raise ValueError(
                f"target_transform must be one of {TARGET_TRANSFORMS}, "
                f"got {self.target_transform!r}"
            )
        if self.reconciliation not in RECONCILIATIONS:
            raise ValueError(
                f"reconciliation must be one of {RECONCILIATIONS}, got {self.reconciliation!r}"
            )
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon!r}")
        if not self.lags or min(self.lags) < 1:
            raise ValueError(f"lags must be non-empty and >= 1, got {self.lags!r}")
        if not self.windows or min(self.windows) < 2:
            raise ValueError(f"windows must be non-empty and >= 2, got {self.windows!r}")
        if self.level_window < 1:
            raise ValueError(f"level_window must be >= 1, got {self.level_window!r}")
        if self.max_train_days < 60:
            raise ValueError(f"max_train_days must be >= 60, got {self.max_train_days!r}")
        object.__setattr__(self, "lags", tuple(int(v) for v in self.lags))
        object.__setattr__(self, "windows", tuple(int(v) for v in self.windows))

    @property
    def warmup_days(self) -> int:
        """Days of history a state (lags, windows, level) needs before it is complete."""
        return max(max(self.lags), max(self.windows), self.level_window, 7 * self.seasonal_lags)

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


FeatureConfig = ForecastConfig
"""The feature step's name for :class:`ForecastConfig` (one config drives features and model)."""
