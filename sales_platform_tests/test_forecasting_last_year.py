"""Last year's same weekday times the growth since, blended into a forecast."""

import numpy as np
import pandas as pd

from sales_platform.forecasting.features import YEAR
from sales_platform.forecasting.last_year import GROWTH_DAYS, with_last_year


def test_blends_last_year_times_growth_more_on_event_days_but_not_across_a_promotion():
    n_days = YEAR + GROWTH_DAYS + 10
    values = np.ones((n_days, 1))
    values[-GROWTH_DAYS:] = 2.0  # doubled since a year ago
    values[n_days - YEAR + 2] = 5.0  # last year's day of the third target day
    dates = pd.date_range(end="2025-12-22", periods=n_days, freq="D")
    first = dates[-1] + pd.Timedelta(days=1)  # on promotion, a year before not
    promotions = pd.DataFrame({"start_date": [first], "end_date": [first]})
    out = with_last_year(np.zeros((4, 1)), values, dates, ["A"], promotions, "US", 0.25, 0.5)
    # 24 and 25 December are event days: last year weighs more.
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5 * 2.0, 0.5 * 10.0, 0.25 * 2.0])
    # Less than a year and the growth window of history: the forecast unchanged.
    short = with_last_year(
        np.zeros((4, 1)), values[-YEAR:], dates[-YEAR:], ["A"], None, "US", 0.25, 0.5
    )
    np.testing.assert_allclose(short, 0.0)
