"""Metrics on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sales_platform.forecasting import metrics

ACTUAL = [10.0, 20.0, 30.0, 40.0]
FORECAST = [12.0, 18.0, 33.0, 40.0]


def test_mae_rmse_bias() -> None:
    assert metrics.mae(ACTUAL, FORECAST) == pytest.approx(7 / 4)
    assert metrics.rmse(ACTUAL, FORECAST) == pytest.approx(math.sqrt(17 / 4))
    assert metrics.bias(ACTUAL, FORECAST) == pytest.approx(3 / 4)  # forecast - actual


def test_smape_in_percent_and_zero_over_zero() -> None:
    expected = (200 * 2 / 22 + 200 * 2 / 38 + 200 * 3 / 63 + 0) / 4
    assert metrics.smape(ACTUAL, FORECAST) == pytest.approx(expected)
    assert metrics.smape([0.0, 10.0], [0.0, 10.0]) == 0.0
    assert metrics.smape([0.0], [5.0]) == pytest.approx(200.0)


def test_mape_skips_zero_actuals() -> None:
    assert metrics.mape([0.0, 10.0], [1.0, 12.0]) == pytest.approx(20.0)
    assert math.isnan(metrics.mape([0.0], [1.0]))


def test_mase_scales_by_in_sample_seasonal_naive() -> None:
    history = np.arange(1.0, 11.0)  # |h[t] - h[t-7]| = 7 for every t
    assert metrics.seasonal_naive_scale(history, 7) == pytest.approx(7.0)
    assert metrics.mase(ACTUAL, FORECAST, history) == pytest.approx(1.75 / 7)
    assert metrics.mase(ACTUAL, FORECAST, scale=0.5) == pytest.approx(3.5)
    assert math.isnan(metrics.mase(ACTUAL, FORECAST, scale=0.0))
    assert math.isnan(metrics.seasonal_naive_scale([1.0, 2.0], 7))


def test_coverage_and_width() -> None:
    actual = [1.0, 2.0, 3.0, 4.0]
    lower = [0.0, 2.0, 4.0, 0.0]
    upper = [1.0, 3.0, 5.0, 3.0]
    # 1 in [0, 1] and 2 in [2, 3] (bounds included); 3 and 4 outside.
    assert metrics.coverage(actual, lower, upper) == pytest.approx(0.5)
    assert metrics.width(lower, upper) == pytest.approx(1.5)
    assert math.isnan(metrics.coverage(actual, [np.nan] * 4, upper))


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        metrics.mae([1.0, 2.0], [1.0])
