"""Product forecasts (no Dagster): classes, status rules, methods, coherence, replenishment."""

import numpy as np
import pandas as pd
import pytest

from sales_platform.forecasting import products as fp
from sales_platform.forecasting.products.forecast import choose
from sales_platform.forecasting.products.middle_out import established_share


def daily_frame(units: dict[str, list[float]], category: dict[str, str], end="2025-06-30"):
    """A product_daily_sales frame: each product's units end on `end`, price 10."""
    rows = []
    for product, values in units.items():
        days = pd.date_range(end=end, periods=len(values), freq="D")
        rows.append(
            pd.DataFrame(
                {
                    "category": category[product],
                    "product_id": product,
                    "date": days,
                    "units": values,
                    "revenue": np.asarray(values, dtype=float) * 10.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_demand_classes_follow_syntetos_boylan():
    units = np.array(
        [
            [5, 5, 6, 5, 4, 5, 5, 6] * 10,  # a sale every day, steady sizes
            [1, 30, 1, 25, 2, 1, 40, 1] * 10,  # every day, sizes vary a lot
            [0, 0, 3, 0, 0, 3, 0, 3] * 10,  # a sale every 2.7 days, same size
            [0, 0, 1, 0, 0, 40, 0, 2] * 10,  # rare and uneven
        ],
        dtype=float,
    )
    assert list(fp.demand_class(units)) == ["smooth", "erratic", "intermittent", "lumpy"]


def test_new_and_discontinued_products():
    rng = np.random.default_rng(0)
    panel = fp.to_panel(
        daily_frame(
            {
                "old": list(rng.poisson(2.0, 200)),
                "new": [1.0] * 10,
                "gone": [3.0] * 50 + [0.0] * 90,
            },
            {"old": "A", "new": "A", "gone": "A"},
        )
    )
    status = dict(zip(panel.product_id, panel.status(), strict=True))
    assert status == {"gone": fp.DISCONTINUED, "new": fp.NEW, "old": fp.ESTABLISHED}
    # Before its first sale a product is unknown (NaN), not zero.
    assert np.isnan(panel.units[list(panel.product_id).index("new"), 0])


def test_forecast_covers_active_products_and_flags_new_ones():
    rng = np.random.default_rng(1)
    frame = daily_frame(
        {
            "a1": list(rng.poisson(4.0, 300)),
            "a2": list(rng.poisson(0.3, 300)),
            "a3": list(rng.poisson(1.0, 300)),
            "new": [2.0] * 14,
            "gone": [3.0] * 100 + [0.0] * 120,
        },
        {"a1": "A", "a2": "A", "a3": "A", "new": "A", "gone": "A"},
    )
    cfg = fp.ForestConfig(n_estimators=10, rows_per_tree=5000)
    out = fp.forecast_products(fp.to_panel(frame), 14, fp.Calibration(), config=cfg)
    assert set(out["product_id"]) == {"a1", "a2", "a3", "new"}
    assert out.groupby("product_id").size().eq(14).all()
    new = out[out["product_id"] == "new"]
    assert new["is_new"].all() and (new["method"] == fp.CATEGORY_SHARE).all()
    assert (new["units"] > 0).all()
    values = out[["lower_95", "lower_80", "units", "upper_80", "upper_95"]].to_numpy()
    assert (values >= 0).all()
    assert (values[:, 0] <= values[:, 1]).all() and (values[:, 3] <= values[:, 4]).all()
    # The big seller is forecast well above the rare one.
    mean = out.groupby("product_id")["units"].mean()
    assert mean["a1"] > 5 * mean["a2"]


def test_a_new_product_whose_class_publishes_a_method_no_established_product_uses():
    # A short export: the one established product is intermittent and its class publishes TSB;
    # the new product is smooth, whose class publishes the default forest. Only TSB is computed,
    # and the new product gets its category share (a KeyError 'forest' before).
    rng = np.random.default_rng(2)
    frame = daily_frame(
        {"old": list(rng.poisson(0.3, 120)), "new": [2.0] * 14}, {"old": "A", "new": "A"}
    )
    panel = fp.to_panel(frame)
    classes = dict(zip(panel.product_id, fp.demand_class(panel.units), strict=True))
    assert classes["old"] != classes["new"]
    calibration = fp.Calibration(choice={classes["old"]: "tsb"})
    out = fp.forecast_products(panel, 14, calibration)
    methods = out.groupby("product_id")["method"].first()
    assert methods.to_dict() == {"new": fp.CATEGORY_SHARE, "old": "tsb"}
    assert np.isfinite(out["units"]).all() and (out["units"] >= 0).all()


def test_established_products_add_up_to_their_category_forecast():
    rng = np.random.default_rng(4)
    frame = daily_frame(
        {
            "a1": list(rng.poisson(4.0, 300)),
            "a2": list(rng.poisson(0.5, 300)),
            "b1": list(rng.poisson(2.0, 300)),
            "b_new": [1.0] * 10,
        },
        {"a1": "A", "a2": "A", "b1": "B", "b_new": "B"},
    )
    panel = fp.to_panel(frame)
    cfg = fp.ForestConfig(n_estimators=10, rows_per_tree=5000)
    out = fp.forecast_products(panel, 14, fp.Calibration(), config=cfg)
    targets = fp.category_targets(panel, 14, None, "US")
    assert set(targets) == {"A", "B"}
    established = out[~out["is_new"]].groupby(["category", "horizon"])["units"].sum()
    for category, target in targets.items():
        assert established[category].to_numpy() == pytest.approx(target)
    # The new product comes on top of its category's target.
    assert out.loc[out["category"] == "B", "units"].sum() > targets["B"].sum()


def test_middle_out_share_and_scaling():
    # "young" starts 20 days before the end: new at the origins 14 and 28 days back, so the
    # established products' share of the category's following days is old's 42 of 82 units.
    frame = daily_frame({"old": [1.0] * 200, "young": [2.0] * 20}, {"old": "A", "young": "A"})
    assert established_share(fp.to_panel(frame), 14) == pytest.approx({"A": 42 / 82})
    units = np.array([[1.0, 0.0, 3.0], [3.0, 0.0, 1.0], [5.0, 5.0, 5.0]])
    category = np.array(["A", "A", "B"], dtype=object)
    out = fp.reconcile(units, category, {"A": np.array([8.0, 6.0, 2.0])})
    # Scaled per day to the target, in proportion; a day forecasting nothing stays nothing.
    np.testing.assert_allclose(out, [[2.0, 0.0, 1.5], [6.0, 0.0, 0.5], [5.0, 5.0, 5.0]])


def test_choice_per_class_picks_that_class_method():
    candidates = {"forest": np.full((2, 3), 1.0), "tsb": np.full((2, 3), 2.0)}
    calibration = fp.Calibration(choice={"lumpy": "tsb"})
    values, methods = choose(candidates, np.array(["smooth", "lumpy"]), calibration)
    assert list(methods) == ["forest", "tsb"]
    assert values[0, 0] == 1.0 and values[1, 0] == 2.0


def test_statistical_methods_give_a_rate_for_intermittent_demand():
    units = np.tile([0.0, 0.0, 0.0, 4.0], 50)[None, :]  # one unit a day on average
    out = fp.candidate_forecasts(
        fp.to_panel(daily_frame({"p": list(units[0])}, {"p": "A"})),
        7,
        None,
        "US",
        methods=fp.STATISTICAL_METHODS,
    )
    for method in ("croston_sba", "tsb", "adida"):
        assert 0.6 < out[method].mean() < 1.3, method


def test_revenue_adds_up_to_the_published_category_revenue():
    forecast = pd.DataFrame(
        {
            "category": ["A", "A", "B"],
            "product_id": ["p1", "p2", "p3"],
            "date": pd.to_datetime(["2025-07-01"] * 3),
            "units": [2.0, 1.0, 5.0],
        }
    )
    prices = pd.Series({"p1": 10.0, "p2": 20.0, "p3": 1.0})
    published = pd.DataFrame(
        {
            "series": ["total", "A", "B"],
            "date": pd.to_datetime(["2025-07-01"] * 3),
            "forecast": [150.0, 80.0, 70.0],
        }
    )
    out = fp.allocate_revenue(forecast, prices, published, "total")
    assert out.groupby("category")["revenue"].sum().to_dict() == pytest.approx({"A": 80, "B": 70})
    # Split by units x price: p1 and p2 weigh 20 each.
    assert out["revenue"].iloc[0] == pytest.approx(40.0)


def test_lead_time_quantity_covers_demand_at_the_service_level():
    rng = np.random.default_rng(2)
    n = 20_000
    mean = rng.gamma(0.7, 8.0, n)  # many small, some large lead-time means
    phi = 0.3
    size = 1 / phi
    history = rng.negative_binomial(size, size / (size + mean))
    fitted = fp.fit_dispersion(history, mean)
    assert fitted == pytest.approx(phi, rel=0.1)
    assert fp.fit_dispersion(rng.poisson(mean), mean) < 0.01  # Poisson: (almost) no excess
    future = rng.negative_binomial(size, size / (size + mean))
    for level in (0.8, 0.95):
        quantity = fp.demand_quantile(mean, fitted, level)
        # Whole units: a small mean's quantile covers a little more than asked.
        assert level <= (future <= quantity).mean() <= level + 0.06


def test_replenishment_sums_the_lead_time_and_rejects_bad_settings():
    forecast = pd.DataFrame(
        {
            "category": "A",
            "product_id": "p",
            "horizon": range(1, 11),
            "units": 2.0,
            "method": "forest",
            "demand_class": "smooth",
            "is_new": False,
        }
    )
    calibration = fp.Calibration(dispersion_lead={"smooth": 0.0})
    row = fp.replenishment(forecast, calibration, 7, 0.95).iloc[0]
    assert row["expected_demand"] == pytest.approx(14.0)
    assert row["quantity"] == 20  # Poisson(14): P(X <= 19) = 0.923, P(X <= 20) = 0.952
    with pytest.raises(ValueError, match="service level"):
        fp.replenishment(forecast, calibration, 7, 1.0)


def test_wrmsse_is_zero_for_a_perfect_forecast_and_weights_by_revenue():
    rng = np.random.default_rng(3)
    history = rng.poisson(3.0, (4, 100)).astype(float)
    actual = rng.poisson(3.0, (4, 28)).astype(float)
    cats = np.array(["A", "A", "B", "B"])
    perfect = fp.wrmsse(actual, actual, history, history * 10, cats)
    assert perfect["wrmsse"] == 0.0
    worse = fp.wrmsse(actual, actual + 1, history, history * 10, cats)
    assert worse["wrmsse"] > 0 and worse["total"] > worse["product"]


def test_the_product_forest_does_not_see_where_a_day_falls_in_its_month_or_year():
    """As the sales forest: the weekday and events are features, the day's position is not."""
    from sales_platform.forecasting.features import DATE_POSITION_COLUMNS
    from sales_platform.forecasting.products.forest import forest_forecast

    rng = np.random.default_rng(2)
    names = [f"p{i}" for i in range(4)]
    frame = daily_frame({p: list(rng.poisson(3.0, 300)) for p in names}, dict.fromkeys(names, "A"))
    units, forest = forest_forecast(fp.to_panel(frame), 7, config=fp.ForestConfig(n_estimators=5))
    assert forest.estimator is not None and units.shape == (4, 7)
    assert forest.estimator.n_features_in_ == len(forest.feature_names)
    assert "day_of_week" in forest.feature_names
    assert not set(DATE_POSITION_COLUMNS) & set(forest.feature_names)
