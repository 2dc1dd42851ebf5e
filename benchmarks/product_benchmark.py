"""Product benchmark (issue #12): product forecasts scored like M5 against the usual peers.

    python benchmarks/product_benchmark.py                          # synthetic, 2,000 products
    python benchmarks/product_benchmark.py --seeds 42 1 2 --products 500
    python benchmarks/product_benchmark.py --dataset superstore     # ../shared/data/superstore
    python benchmarks/product_benchmark.py --scale                  # 10,000 products, two years

Folds: 5 rolling origins of 28 days ending on the data's last day, the ``product_backtest``
asset's (``run_product_backtest``, the function the asset calls). A product is scored in a fold
when it was established at the origin (neither new nor discontinued), as in the platform.

- Ours: ``run_product_backtest``'s ``published`` forecast (each demand class's method chosen on
  the earlier folds only, then scaled to each category's middle-out target); its candidates
  follow as extra rows, unscaled (summed bottom-up). Seconds: the whole backtest.
- Peers, refit per fold on each product's history up to the origin: statsforecast's
  SeasonalNaive(7), AutoETS (season 7, per product: M5's bottom-up ES benchmark), CrostonSBA and
  TSB (alpha 0.1 as ours), each on a product's last year, and mlforecast's LightGBM
  (``peers.lightgbm_forecaster``: one global model over every product's whole history with the
  public-holiday and category-promotion flags).
- Oracle (synthetic only): the generator's expected units per product and day.

Columns: WRMSSE (M5: RMSSE per series weighted by its revenue over the 28 days before the origin,
averaged over the levels total / category / product, then over the folds), WRMSSE / seasonal
naive's, mean per-product scaled MAE (MAE / in-sample one-step naive MAE), WRMSSE / the oracle's,
coverage of the 95% service-level quantity of the 7-day lead time (share of product-lead-times
whose demand stayed at or under it; folds 2-5, each calibrated on the folds before it), seconds.

``--scale``: 10,000 products over two years. In a child process each (so peak RSS is that
process's high-water mark): the ``product_forecast`` asset's path (``to_panel``,
``forecast_products`` with the calibration of the ``product_backtest`` table, ``allocate_revenue``)
plus ``replenishment``; the ``product_backtest`` asset's ``run_product_backtest``; and the
reference: the same frame to a panel and statsforecast's CrostonSBA over every product.

mlforecast and lightgbm are benchmark-only (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402

from sales_platform import synthetic  # noqa: E402
from sales_platform.forecasting import products as fp  # noqa: E402
from sales_platform.forecasting.products.methods import (  # noqa: E402
    MAX_HISTORY_DAYS,
    TSB_ALPHA,
)
from sales_platform.tables import TOTAL_SERIES  # noqa: E402

SUPERSTORE = ROOT.parent / "shared" / "data" / "superstore" / "superstore_orders.csv.gz"
HORIZON = 28  # the product_backtest asset's folds
FOLDS = 5
FORECAST_HORIZON = 30  # SALES_FORECAST_HORIZON's default: the product_forecast asset's
LEAD_TIME = 7
SERVICE_LEVEL = 0.95
COUNTRY = "US"
SYNTHETIC_END = dt.date(2026, 11, 30)
HISTORY_DAYS = 730
SYNTHETIC_PRODUCTS = 2_000
SCALE_PRODUCTS = 10_000
DEFAULT_SEED = 42

TARGET_NAIVE_RATIO = 0.85
TARGET_ORACLE_RATIO = 1.15
TARGET_COVERAGE = (0.92, 0.97)
TARGET_SCALE_SECONDS = 300.0
TARGET_SCALE_GIB = 8.0

SEASONAL_NAIVE = peers.SEASONAL_NAIVE
ORACLE = "oracle (expected units)"
T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - T0:6.0f} s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- data


def product_daily_sales(orders: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The ``product_daily_sales`` table as the asset builds it: its SQL in DuckDB."""
    import duckdb

    from sales_platform import tables
    from sales_platform.defs.products import PRODUCT_DAILY_SALES_SQL

    con = duckdb.connect(":memory:")
    try:
        con.register(tables.ORDERS, orders)
        con.register(tables.PRODUCTS, products)
        categories = sorted(products["category"].dropna().astype(str).unique())
        frame = con.execute(PRODUCT_DAILY_SALES_SQL, [categories]).df()
    finally:
        con.close()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def synthetic_shop(seed: int, n_products: int):
    """Two years of the synthetic shop: (product_daily_sales, promotions, shop, first day)."""
    shop = synthetic.ShopConfig(seed=seed, n_products=n_products)
    start = SYNTHETIC_END - dt.timedelta(days=HISTORY_DAYS - 1)
    orders = synthetic.generate_orders(start, SYNTHETIC_END, shop)
    frame = product_daily_sales(orders, synthetic.generate_products(shop))
    # The promotions table is published a year past the history, as the asset does.
    promotions = synthetic.promotions(start, SYNTHETIC_END + dt.timedelta(days=365), shop)
    return frame, promotions, shop, start


def superstore_sales() -> tuple[pd.DataFrame, str]:
    """Superstore's ``product_daily_sales`` through the pipeline's file source (never copied)."""
    from sales_platform import sources

    loaded = sources.load_orders(
        SUPERSTORE, sources.ColumnMapping.from_config(None), on_error="fail", start=None, end=None
    )
    frame = product_daily_sales(loaded.orders, sources.derive_products(loaded))
    note = f"{len(loaded.orders):,} order lines, {len(loaded.returns):,} returns set aside"
    return frame, note


def oracle_units(panel: fp.ProductPanel, shop: synthetic.ShopConfig, start: dt.date) -> np.ndarray:
    """The generator's expected units ``[n_products, n_days]`` in the panel's order."""
    expected = synthetic.expected_product_units(start, SYNTHETIC_END, shop)
    wide = expected.pivot(index="product_id", columns="date", values="expected_units")
    return wide.reindex(index=panel.product_id, columns=panel.dates).to_numpy(dtype=np.float64)


# -------------------------------------------------------------------------------------- peers


def history_frame(units: np.ndarray, product_id: np.ndarray, dates: pd.DatetimeIndex):
    """statsforecast's long frame of ``units [P, D]``: each product from its first sale."""
    known = ~np.isnan(units)
    rows, days = np.nonzero(known)
    return pd.DataFrame(
        {"unique_id": product_id[rows], "ds": dates[days], "y": units[rows, days]}
    ).sort_values(["unique_id", "ds"], kind="stable")


def to_matrix(out: pd.DataFrame, column: str, product_id: np.ndarray, horizon: int) -> np.ndarray:
    wide = out.pivot(index="unique_id", columns="ds", values=column).reindex(product_id)
    return np.maximum(np.nan_to_num(wide.to_numpy(dtype=np.float64)[:, :horizon]), 0.0)


def statsforecast_peers(folds: list, dates: pd.DatetimeIndex) -> dict[str, tuple[list, float]]:
    """Per peer: its forecast of every fold's scored products, and its seconds over the folds.

    Each sees a product's last year (``MAX_HISTORY_DAYS``, the window of our statistical
    candidates): AutoETS on two years costs twice as much for the same forecast.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonSBA, SeasonalNaive

    factories = {
        SEASONAL_NAIVE: lambda: SeasonalNaive(season_length=7),
        "AutoETS (bottom-up)": lambda: AutoETS(season_length=7),
        "CrostonSBA": CrostonSBA,
        "TSB": lambda: TSB(alpha_d=TSB_ALPHA, alpha_p=TSB_ALPHA),
    }
    out = {}
    for name, factory in factories.items():
        log(name)
        start = time.perf_counter()
        forecasts = []
        for fold in folds:
            window = fold.history[:, -MAX_HISTORY_DAYS:]
            days = dates[fold.history.shape[1] - window.shape[1] : fold.history.shape[1]]
            history = history_frame(window, fold.product_id, days)
            model = factory()
            sf = StatsForecast(models=[model], freq="D", n_jobs=1)
            predicted = sf.forecast(h=HORIZON, df=history)
            forecasts.append(to_matrix(predicted, model.alias, fold.product_id, HORIZON))
        out[name] = (forecasts, time.perf_counter() - start)
    return out


def category_flags(categories: np.ndarray, future: pd.DatetimeIndex, promotions) -> pd.DataFrame:
    """Public-holiday and promotion flags per category and day (``peers.known_in_advance``)."""
    frames = [
        peers.known_in_advance(
            future, str(c), country=COUNTRY, promotions=promotions, total=TOTAL_SERIES
        )
        .rename_axis("ds")
        .reset_index()
        .assign(category=str(c))
        for c in np.unique(categories.astype(str))
    ]
    return pd.concat(frames, ignore_index=True)


def lightgbm_peer(panel: fp.ProductPanel, folds: list, promotions) -> tuple[list, float]:
    """``peers.lightgbm_forecaster``: one model over every product sold before the origin."""
    start = time.perf_counter()
    future = pd.date_range(panel.dates[0], periods=panel.n_days + HORIZON, freq="D")
    flags = category_flags(panel.category, future, promotions)
    forecasts = []
    for fold in folds:
        cut = panel.cut(panel.dates.get_loc(fold.origin))
        category = pd.Series(cut.category.astype(str), index=cut.product_id, name="category")
        exog = flags.merge(category.rename_axis("unique_id").reset_index(), on="category")
        exog = exog.drop(columns="category")
        train = history_frame(cut.units, cut.product_id, cut.dates)
        train = train.merge(exog, on=["unique_id", "ds"], how="left")
        days = pd.date_range(fold.origin + pd.Timedelta(days=1), periods=HORIZON, freq="D")
        forecaster = peers.lightgbm_forecaster()
        forecaster.fit(train, static_features=[])
        predicted = forecaster.predict(h=HORIZON, X_df=exog[exog["ds"].isin(days)])
        forecasts.append(to_matrix(predicted, "lgbm", fold.product_id, HORIZON))
    return forecasts, time.perf_counter() - start


# ------------------------------------------------------------------------------------ scoring


def scores(folds: list, forecasts: list[np.ndarray]) -> dict[str, float]:
    """WRMSSE (levels total / category / product, mean over folds), mean per-product scaled MAE."""
    wrmsse, smae = [], []
    for fold, forecast in zip(folds, forecasts, strict=True):
        levels = fp.wrmsse(fold.actual, forecast, fold.history, fold.history_revenue, fold.category)
        wrmsse.append(levels["wrmsse"])
        smae.append(fp.scaled_errors(fold.actual, forecast, fold.history)[0])
    return {"wrmsse": float(np.mean(wrmsse)), "smae": float(np.nanmean(np.concatenate(smae)))}


def oracle_forecasts(panel: fp.ProductPanel, folds: list, oracle: np.ndarray) -> list:
    rows = {p: i for i, p in enumerate(panel.product_id)}
    out = []
    for fold in folds:
        origin = panel.dates.get_loc(fold.origin)
        index = [rows[p] for p in fold.product_id]
        out.append(oracle[index, origin + 1 : origin + 1 + HORIZON])
    return out


def pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def evaluate(name: str, frame: pd.DataFrame, promotions, oracle_of, with_peers: bool) -> dict:
    """Backtest ours, the peers and the oracle on one data set; print its table."""
    panel = fp.to_panel(frame)
    log(f"{name}: our backtest ({len(panel.product_id):,} products)")
    start = time.perf_counter()
    result = fp.run_product_backtest(
        panel, HORIZON, FOLDS, LEAD_TIME, SERVICE_LEVEL, promotions, COUNTRY
    )
    ours_seconds = time.perf_counter() - start
    folds = result.folds
    rows = [("ours: published", fp.PUBLISHED, ours_seconds, result.coverage, "every candidate")]
    methods = {fp.PUBLISHED: [f.forecasts[fp.PUBLISHED] for f in folds]}
    for candidate in fp.CANDIDATES:
        methods[f"  ours: {candidate}"] = [f.forecasts[candidate] for f in folds]
        rows.append((f"  ours: {candidate}", f"  ours: {candidate}", None, np.nan, ""))
    if with_peers:
        peer_runs = statsforecast_peers(folds, panel.dates)
        log("LightGBM (mlforecast)")
        try:
            peer_runs[peers.LIGHTGBM] = lightgbm_peer(panel, folds, promotions)
        except ImportError as exc:
            rows.append((peers.LIGHTGBM, None, None, np.nan, f"not installed ({exc.name})"))
    else:
        # Our seasonal_naive_7 candidate is statsforecast's SeasonalNaive(7): the M5 baseline.
        peer_runs = {SEASONAL_NAIVE: ([f.forecasts["seasonal_naive_7"] for f in folds], np.nan)}
    for peer, (forecasts, seconds) in peer_runs.items():
        methods[peer] = forecasts
        rows.append((peer, peer, seconds, np.nan, ""))
    if oracle_of is not None:
        methods[ORACLE] = oracle_forecasts(panel, folds, oracle_of(panel))
        rows.append((ORACLE, ORACLE, None, np.nan, "the generator's mean"))
    scored = {m: scores(folds, f) for m, f in methods.items()}
    naive = scored[SEASONAL_NAIVE]["wrmsse"]
    oracle = scored[ORACLE]["wrmsse"] if ORACLE in scored else np.nan

    scored_products = sorted({p for f in folds for p in f.product_id})
    print(
        f"\n== {name}: {len(panel.product_id):,} products, {panel.n_days} days "
        f"{panel.dates[0].date()} .. {panel.dates[-1].date()}; {len(folds)} folds x {HORIZON} "
        f"days, {len(scored_products):,} products scored (established at an origin)"
    )
    head = ["WRMSSE", "/ naive", "sMAE", "/ oracle", "cov 95%", "seconds"]
    print(f"  {'method':30s} " + " ".join(f"{h:>9s}" for h in head) + "  note")
    for label, key, seconds, coverage, note in rows:
        if key is None:
            print(f"  {label:30s} {'-':>9s}" + " " * 50 + f"  {note}")
            continue
        s = scored[key]
        cells = [
            f"{s['wrmsse']:9.3f}",
            f"{s['wrmsse'] / naive:9.3f}",
            f"{s['smae']:9.3f}",
            f"{s['wrmsse'] / oracle:9.3f}" if np.isfinite(oracle) else f"{'':9s}",
            f"{pct(coverage):>9s}" if np.isfinite(coverage) else f"{'':9s}",
            f"{seconds:9.1f}" if seconds is not None and np.isfinite(seconds) else f"{'':9s}",
        ]
        print(f"  {label:30s} " + " ".join(cells) + (f"  {note}" if note else ""))
    print(f"  the choice per demand class after these folds: {result.calibration.choice}")
    ours = scored[fp.PUBLISHED]["wrmsse"]
    peer_scores = {p: scored[p]["wrmsse"] for p in peer_runs}
    return {
        "name": name,
        "ours": ours,
        "naive_ratio": ours / naive,
        "oracle_ratio": ours / oracle,
        "best_peer": min(peer_scores, key=peer_scores.get),
        "ahead": all(ours < v for v in peer_scores.values()),
        "peers": len(peer_scores),
        "coverage": result.coverage,
    }


def print_targets(results: list[dict], synthetic_data: bool) -> None:
    print("\ntargets:")
    lo, hi = TARGET_COVERAGE
    for r in results:
        line = (
            f"  {r['name']}: WRMSSE / seasonal naive {r['naive_ratio']:.3f} (<= "
            f"{TARGET_NAIVE_RATIO:.2f}: {met(r['naive_ratio'] <= TARGET_NAIVE_RATIO)}); "
            f"ahead of every peer ({r['peers']} run; best {r['best_peer']}): {met(r['ahead'])}; "
            f"95% coverage {pct(r['coverage'])} ({lo:.0%}-{hi:.0%}: "
            f"{met(lo <= r['coverage'] <= hi)})"
        )
        if synthetic_data:
            line += (
                f"; ours / oracle {r['oracle_ratio']:.3f} (<= {TARGET_ORACLE_RATIO:.2f}: "
                f"{met(r['oracle_ratio'] <= TARGET_ORACLE_RATIO)})"
            )
        print(line)
    if len(results) > 1:
        mean = {k: float(np.mean([r[k] for r in results])) for k in ("naive_ratio", "coverage")}
        line = f"  mean over {len(results)} sets: / naive {mean['naive_ratio']:.3f}"
        if synthetic_data:
            line += f", / oracle {np.mean([r['oracle_ratio'] for r in results]):.3f}"
        print(line + f", 95% coverage {pct(mean['coverage'])}")


# -------------------------------------------------------------------------------------- scale


def scale_child(role: str, folder: Path) -> None:
    """One measured role in this process; prints its seconds and peak RSS as JSON."""
    frame = pd.read_parquet(folder / "product_daily_sales.parquet")
    promotions = pd.read_parquet(folder / "promotions.parquet")
    start = time.perf_counter()
    panel = fp.to_panel(frame)
    if role == "backtest":
        result = fp.run_product_backtest(
            panel, HORIZON, FOLDS, LEAD_TIME, SERVICE_LEVEL, promotions, COUNTRY
        )
        result.metrics.to_parquet(folder / "product_backtest.parquet")
        detail = f"{len(result.folds)} folds, choice {result.calibration.choice}"
    elif role == "forecast":
        # The product_forecast asset's body, then the replenishment asset's.
        table = pd.read_parquet(folder / "product_backtest.parquet")
        calibration = fp.calibration_from_table(table, LEAD_TIME)
        sales_forecast = pd.read_parquet(folder / "sales_forecast.parquet")
        forecast = fp.forecast_products(panel, FORECAST_HORIZON, calibration, promotions, COUNTRY)
        prices = pd.Series(panel.unit_price(), index=panel.product_id)
        forecast = fp.allocate_revenue(forecast, prices, sales_forecast, TOTAL_SERIES)
        orders = fp.replenishment(forecast, calibration, LEAD_TIME, SERVICE_LEVEL)
        methods = forecast.groupby("method")["product_id"].nunique().to_dict()
        detail = f"{len(orders):,} products forecast, methods {methods}"
    else:
        from statsforecast import StatsForecast
        from statsforecast.models import CrostonSBA

        history = history_frame(panel.units, panel.product_id, panel.dates)
        StatsForecast(models=[CrostonSBA()], freq="D", n_jobs=1).forecast(
            h=FORECAST_HORIZON, df=history
        )
        detail = f"{len(panel.product_id):,} products"
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_gib": peak_rss_gib(), "detail": detail}))


def peak_rss_gib() -> float:
    """This process's peak RSS: VmHWM, not ``ru_maxrss``, which Linux carries over from the
    parent at fork + exec (every child would report the generating parent's 2-3 GiB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_child(role: str, folder: Path) -> dict:
    log(f"scale: {role} (child process)")
    done = subprocess.run(
        [sys.executable, __file__, "--scale-child", role, str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{role} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stand_in_sales_forecast(frame: pd.DataFrame) -> pd.DataFrame:
    """A ``sales_forecast`` per category for revenue to split: each category's mean revenue of
    the last 28 days, flat (the split's cost does not depend on the published values)."""
    last = frame["date"].max()
    recent = frame[frame["date"] > last - pd.Timedelta(days=28)]
    level = recent.groupby("category")["revenue"].sum() / 28.0
    days = pd.date_range(last + pd.Timedelta(days=1), periods=FORECAST_HORIZON, freq="D")
    return pd.DataFrame(
        [(c, d, float(v)) for c, v in level.items() for d in days],
        columns=["series", "date", "forecast"],
    )


def run_scale(args) -> int:
    log(f"scale: generating {args.products:,} products over {HISTORY_DAYS} days")
    frame, promotions, _, _ = synthetic_shop(args.seeds[0], args.products)
    with tempfile.TemporaryDirectory(prefix="product_bench_") as tmp:
        folder = Path(tmp)
        frame.to_parquet(folder / "product_daily_sales.parquet")
        promotions.to_parquet(folder / "promotions.parquet")
        stand_in_sales_forecast(frame).to_parquet(folder / "sales_forecast.parquet")
        lines = f"{int(frame['units'].gt(0).sum()):,} product-days with a sale"
        del frame
        reference = run_child("reference", folder)
        backtest = run_child("backtest", folder)
        forecast = run_child("forecast", folder)
    print(
        f"\n== scale: {args.products:,} products, {HISTORY_DAYS} days ({lines}), seed "
        f"{args.seeds[0]}; each figure one child process: seconds after reading the "
        "product_daily_sales frame, peak RSS of the process (VmHWM)"
    )
    for label, r in (
        ("product_forecast + replenishment", forecast),
        ("product_backtest (5 folds)", backtest),
        ("reference: panel + CrostonSBA", reference),
    ):
        print(f"  {label:34s} {r['seconds']:8.1f} s {r['peak_gib']:7.2f} GiB  {r['detail']}")
    ok = forecast["seconds"] <= TARGET_SCALE_SECONDS and forecast["peak_gib"] <= TARGET_SCALE_GIB
    print(
        f"targets: fit + forecast <= {TARGET_SCALE_SECONDS:.0f} s and <= "
        f"{TARGET_SCALE_GIB:.0f} GB: {forecast['seconds']:.1f} s, "
        f"{forecast['peak_gib']:.2f} GiB: {met(ok)}"
    )
    return 0


# --------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["synthetic", "superstore"], default="synthetic")
    parser.add_argument("--products", type=int, default=None, help="synthetic catalog size")
    parser.add_argument("--seeds", type=int, nargs="+", default=[DEFAULT_SEED])
    parser.add_argument("--scale", action="store_true", help="time and memory at 10,000 products")
    parser.add_argument(
        "--no-peers", action="store_true", help="ours, seasonal naive and the oracle only"
    )
    parser.add_argument(
        "--scale-child", nargs=2, metavar=("ROLE", "FOLDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    peers.quiet()
    if args.scale_child:
        scale_child(args.scale_child[0], Path(args.scale_child[1]))
        return 0
    if args.scale:
        args.products = args.products or SCALE_PRODUCTS
        return run_scale(args)
    results = []
    if args.dataset == "superstore":
        if not SUPERSTORE.exists():
            print(f"skipped: the Superstore export is not at {SUPERSTORE} (not in the repository)")
            return 0
        frame, note = superstore_sales()
        print(f"data: {SUPERSTORE.name} through sources.load_orders: {note}")
        results.append(evaluate("superstore", frame, None, None, not args.no_peers))
    else:
        n_products = args.products or SYNTHETIC_PRODUCTS
        for seed in args.seeds:
            log(f"seed {seed}: generating {n_products:,} products")
            frame, promotions, shop, start = synthetic_shop(seed, n_products)

            def oracle_of(panel, shop=shop, start=start):
                return oracle_units(panel, shop, start)

            name = f"synthetic seed {seed}"
            results.append(evaluate(name, frame, promotions, oracle_of, not args.no_peers))
    print_targets(results, args.dataset == "synthetic")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
