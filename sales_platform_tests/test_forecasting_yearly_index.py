"""The yearly index by which the ``yearly_level`` candidate scales the level x weekday profile."""

import numpy as np

from sales_platform.forecasting.features import YEAR, to_wide
from sales_platform.forecasting.model import fit_forecaster
from sales_platform.forecasting.selection import (
    WEEKDAY_LEVEL,
    YEARLY_LEVEL,
    candidate_values,
)
from sales_platform.forecasting.yearly_index import STRENGTH, WINDOW, yearly_index
from sales_platform_tests.test_forecasting_features import SMALL, toy_daily_sales

LEVEL_WINDOW = 28


def _years_with_a_peak(years: int, peak_by_year: list[float]) -> np.ndarray:
    """``years`` years of 100 a day, each year's days 200-279 at ``peak_by_year[y]`` (the
    history ends on day 150 of the last year, so the horizon falls inside the peak a year back)."""
    day = np.arange(years * YEAR + 151)
    values = np.full(len(day), 100.0)
    for year, peak in enumerate(peak_by_year):
        in_peak = (day // YEAR == year) & (day % YEAR >= 200) & (day % YEAR < 280)
        values[in_peak] = peak
    return values


def test_a_peak_every_year_gives_its_ratio_shrunk_where_the_month_lies_inside_it():
    values = _years_with_a_peak(3, [150.0, 150.0, 150.0])
    index = yearly_index(values[:, None], 90, LEVEL_WINDOW)[:, 0]  # year days 151-240
    reaches_peak = 200 - 151 - WINDOW // 2  # the first target day whose month reaches day 200
    np.testing.assert_allclose(index[:reaches_peak], 1.0)
    assert index[reaches_peak] > 1.0
    assert (np.diff(index) >= 0).all()  # rising as more of the month lies in the peak
    # Year day 240's month (225-255) lies inside the peak: its ratio, shrunk.
    np.testing.assert_allclose(index[-1], 1.5**STRENGTH)


def test_the_years_combine_by_their_geometric_median():
    values = _years_with_a_peak(4, [400.0, 100.0, 200.0, 300.0])  # no peak one year, 2x and 3x
    index = yearly_index(values[:, None], 101, LEVEL_WINDOW)[:, 0]
    # Target day 100 (year day 251) has its whole month inside the peak in every earlier year:
    # the three latest (the fourth is beyond MAX_YEARS) say 3, 2 and 1; the median is 2.
    np.testing.assert_allclose(index[100], 2.0**STRENGTH)


def test_no_year_of_history_or_no_sales_that_year_leave_the_forecast_as_it_is():
    values = np.column_stack([_years_with_a_peak(1, [150.0]), np.zeros(YEAR + 151)])
    short = yearly_index(values[-YEAR:], 30, LEVEL_WINDOW)
    np.testing.assert_array_equal(short, 1.0)
    index = yearly_index(values, 30, LEVEL_WINDOW)
    assert np.isfinite(index).all()
    np.testing.assert_array_equal(index[:, 1], 1.0)  # a series without sales a year ago


def test_the_candidate_is_the_level_x_weekday_profile_times_the_index():
    daily = toy_daily_sales(days=YEAR + 120)
    model = fit_forecaster(daily, SMALL)
    history = to_wide(daily, series=model.series)
    candidates = candidate_values(model, history, 30)
    index = yearly_index(history.values, 30, SMALL.level_window)
    assert not np.allclose(index, 1.0)  # a year of history with a trend: the index says so
    np.testing.assert_allclose(candidates[YEARLY_LEVEL], candidates[WEEKDAY_LEVEL] * index)
