"""Forecast benchmark: our published forecast side by side with the usual peers, same folds.

    python benchmarks/forecast_benchmark.py --dataset synthetic    # the 10 development sets
    python benchmarks/forecast_benchmark.py --sets 2               # a quick check
    python benchmarks/forecast_benchmark.py --dataset superstore   # ../shared/data/superstore
    python benchmarks/forecast_benchmark.py --dataset exports/ --promotions promotions.csv
    python benchmarks/forecast_benchmark.py --dataset orders.csv --country GB --mapping map.json

Folds: ``--folds`` (5) rolling origins of ``--horizon`` (30) days ending on the data's last day,
``sales_platform.forecasting.backtest.fold_origins``, the platform's own. Every model is refit per
fold on the data up to the origin only.

- Ours: ``run_backtest`` of the platform (promotions from the ``promotions`` table when the data
  set has one). Its ``published`` rows are the forecast the platform publishes per series (the
  candidate chosen on earlier folds only); the candidates and baselines follow as extra rows.
  Seconds: the whole backtest, every series and every candidate.
- Peers, on the ``total`` series: SeasonalNaive(7), AutoETS, AutoARIMA (season 7), MSTL (seasons 7,
  and 365 when the first fold has two years) from statsforecast, with their native 80/95%
  intervals; LightGBM through mlforecast (lags 1/7/14/28, rolling means, weekday / month / day of
  year, recursive, conformal intervals); skforecast's ``ForecasterRecursive`` with a RandomForest
  (lags 1-7/14/21/28, rolling mean/std, calendar; no interval). LightGBM and the RandomForest also
  get the known-in-advance public-holiday and promotion flags (``benchmarks/peers.py``), the
  holidays of ``--country``, ours' too. A peer that cannot fit the data (LightGBM on a six-month
  history) is reported as failed. Seconds: the peer's 5 refits + forecasts on the total
  (statsforecast's numba code compiled beforehand).

Columns: relative MAE (MAE / SeasonalNaive(7)'s MAE on the same days), sMAPE, bias (mean forecast
- actual, % of the mean actual), empirical coverage of the 80% / 95% intervals, seconds.

Data sets:

- ``synthetic``: seeds 1-5 x end dates 2026-06-30 and 2026-11-30, 730 days each, default
  ``ShopConfig``; promotions from ``synthetic.promotions``. Also printed: our MAE / the MAE of the
  oracle's shape x a level from the last 28 days (median, target <= 1.10), on how many sets ours is
  ahead of every peer (target >= 9 of 10) and the coverage per set (75-85% / 90-98%).
- ``superstore``: ``../shared/data/superstore/superstore_orders.csv.gz`` (a real retailer; its
  licence is not ours, so it is only read from there, never copied). Target: published MAE on the
  total <= 0.78 x SeasonalNaive(7) and ahead of every peer.
- a path: any CSV/Parquet orders export (file or folder). Both go through the pipeline's file
  source (``sources.load_orders`` + ``derive_products``) and its daily-sales SQL in DuckDB.

statsforecast is a main dependency; mlforecast, lightgbm and skforecast are benchmark-only
(``pip install -e '.[bench]'``): a peer that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402

from sales_platform import synthetic  # noqa: E402
from sales_platform.forecasting import (  # noqa: E402
    CANDIDATES,
    ORACLE,
    PUBLISHED,
    ForecastConfig,
    choose_methods,
    fit_forecaster,
    forecast_to_publish,
    run_backtest,
)
from sales_platform.forecasting.backtest import fold_origins  # noqa: E402
from sales_platform.tables import TOTAL_SERIES  # noqa: E402

SUPERSTORE = ROOT.parent / "shared" / "data" / "superstore" / "superstore_orders.csv.gz"
SYNTHETIC_SEEDS = (1, 2, 3, 4, 5)
SYNTHETIC_ENDS = (dt.date(2026, 6, 30), dt.date(2026, 11, 30))
SYNTHETIC_DAYS = 730
OUR_MODELS = (*CANDIDATES, ORACLE)
TARGET_ORACLE_RATIO = 1.10
TARGET_WINS = 9
TARGET_SUPERSTORE = 0.78
TARGET_PUBLISH_SECONDS = 5.0
TARGET_BACKTEST_SECONDS = 60.0
COVERAGE_TARGETS = {"80": (0.75, 0.85), "95": (0.90, 0.98)}
T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - T0:6.0f} s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- data


def synthetic_daily_sales(start: dt.date, end: dt.date, shop: synthetic.ShopConfig) -> pd.DataFrame:
    """``daily_sales`` from synthetic orders: total and per category, zero-filled days."""
    orders = synthetic.generate_orders(start, end, shop)
    products = synthetic.generate_products(shop)[["product_id", "category"]]
    lines = orders.merge(products, on="product_id", how="left")
    lines["date"] = pd.to_datetime(lines["order_date"]).dt.normalize()
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", name="date")
    frames = []
    groups = [(TOTAL_SERIES, lines), *lines.groupby("category", sort=True)]
    for series, g in groups:
        daily = g.groupby("date").agg(
            revenue=("amount", "sum"), units=("quantity", "sum"), orders=("order_id", "nunique")
        )
        daily = daily.reindex(days, fill_value=0).reset_index()
        daily["series"] = str(series)
        frames.append(daily)
    out = pd.concat(frames, ignore_index=True)
    out["units"] = out["units"].astype(np.int64)
    out["orders"] = out["orders"].astype(np.int64)
    return out[["date", "series", "revenue", "units", "orders"]]


def synthetic_promotions(start: dt.date, end: dt.date, shop: synthetic.ShopConfig):
    """The shop's ``promotions`` table, published a year past the history as the asset does."""
    return synthetic.promotions(start, end + dt.timedelta(days=365), shop)


def file_daily_sales(path: Path, mapping) -> tuple[pd.DataFrame, str]:
    """``daily_sales`` of an orders export as the pipeline builds it (file source + its SQL)."""
    import duckdb

    from sales_platform import sources, tables
    from sales_platform.defs.sales import DAILY_SALES_SQL

    loaded = sources.load_orders(
        path, sources.ColumnMapping.from_config(mapping), on_error="fail", start=None, end=None
    )
    products = sources.derive_products(loaded)
    con = duckdb.connect(":memory:")
    try:
        con.register(tables.ORDERS, loaded.orders)
        con.register(tables.PRODUCTS, products)
        daily = con.execute(DAILY_SALES_SQL).df()
    finally:
        con.close()
    daily["date"] = pd.to_datetime(daily["date"])
    note = f"{len(loaded.orders):,} order lines, {len(loaded.returns):,} returns set aside"
    return daily, note


def read_promotions(path: str | None) -> pd.DataFrame | None:
    """The promotions CSV through the pipeline's own reader (``SALES_PROMOTIONS_PATH``)."""
    if not path:
        return None
    from sales_platform.sources.promotions import load_promotions

    return load_promotions(path)


def wide(daily: pd.DataFrame, value: str = "revenue") -> pd.DataFrame:
    frame = daily.assign(date=pd.to_datetime(daily["date"]), series=daily["series"].astype(str))
    panel = frame.pivot(index="date", columns="series", values=value).sort_index()
    days = pd.date_range(panel.index[0], panel.index[-1], freq="D")
    return panel.reindex(days).fillna(0.0).astype(float)


def oracle_with_estimated_level(
    panel: pd.DataFrame, oracle: pd.DataFrame, origins: list[int], horizon: int, window: int = 28
) -> float:
    """MAE on the total of the oracle's shape rescaled to the last ``window`` days' actuals.

    The floor of a model that knew the demand model exactly but had to estimate its level.
    """
    actual = panel[TOTAL_SERIES].to_numpy()
    expected = wide(oracle, "expected_revenue").reindex(panel.index)[TOTAL_SERIES].to_numpy()
    errors = []
    for o in origins:
        past = slice(o + 1 - window, o + 1)
        scale = actual[past].sum() / expected[past].sum()
        future = slice(o + 1, o + 1 + horizon)
        errors.append(np.abs(actual[future] - scale * expected[future]))
    return float(np.concatenate(errors).mean())


# ---------------------------------------------------------------------------------- metrics


def score(p: pd.DataFrame) -> dict:
    """MAE, sMAPE (%), bias (% of the mean actual) and interval coverage of prediction rows."""
    a = p["actual"].to_numpy(dtype=float)
    f = p["forecast"].to_numpy(dtype=float)
    e = f - a
    denom = np.abs(a) + np.abs(f)
    sm = np.divide(200 * np.abs(e), denom, out=np.zeros_like(denom), where=denom > 0)
    out = {
        "mae": float(np.mean(np.abs(e))),
        "smape": float(np.mean(sm)),
        "bias": float(100 * np.mean(e) / np.mean(a)) if np.mean(a) else float("nan"),
    }
    for lv in ("80", "95"):
        cols = [f"lower_{lv}", f"upper_{lv}"]
        if not set(cols) <= set(p.columns):
            out[f"cov{lv}"] = float("nan")
            continue
        lo = p[cols[0]].to_numpy(dtype=float)
        hi = p[cols[1]].to_numpy(dtype=float)
        has = np.isfinite(lo) & np.isfinite(hi)
        inside = (a[has] >= lo[has]) & (a[has] <= hi[has])
        out[f"cov{lv}"] = float(np.mean(inside)) if has.any() else float("nan")
    return out


def pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def in_range(x: float, level: str) -> bool:
    lo, hi = COVERAGE_TARGETS[level]
    return bool(np.isfinite(x) and lo <= x <= hi)


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -------------------------------------------------------------------------------- backtests


def our_backtest(daily, folds, horizon, promotions, oracle, country):
    """The platform's backtest, or None and why it failed (reported next to the peers)."""
    try:
        result = run_backtest(
            daily,
            ForecastConfig(country=country),
            folds=folds,
            horizon=horizon,
            promotions=promotions,
            expected_demand=oracle,
        )
    except Exception as exc:  # a benchmark reports a crash next to the peers' figures
        log(f"our backtest failed: {type(exc).__name__}: {exc}")
        return None, f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    return result, ""


def publish_seconds(daily, result, horizon, promotions, country) -> float:
    """Seconds of the daily run's forecasting: fit the forest, forecast what is published."""
    start = time.perf_counter()
    model = fit_forecaster(daily, ForecastConfig(country=country), promotions)
    forecast_to_publish(model, daily, result.metrics, result.predictions, horizon, promotions)
    return time.perf_counter() - start


def evaluate(name: str, daily, promotions, oracle, args) -> dict:
    """Backtest ours and the peers on one data set, print its table; return the summary row."""
    panel = wide(daily)
    if TOTAL_SERIES not in panel.columns:
        raise SystemExit(f"{name}: no '{TOTAL_SERIES}' series in daily sales")
    origins = fold_origins(len(panel), args.folds, args.horizon)
    log(f"{name}: our backtest")
    result, failure = our_backtest(
        daily, args.folds, args.horizon, promotions, oracle, args.country
    )
    ours = PUBLISHED
    if result is None:
        columns = ["model", "series", "date", "actual", "forecast", *peers.INTERVAL_COLUMNS]
        preds = pd.DataFrame(columns=columns)
    else:
        # Only the benchmark's folds: the platform may backtest earlier windows too (to calibrate
        # the intervals and choose the published model of its first fold); they are not scored.
        preds = result.predictions.copy()
        scored = (preds["fold"] > 0) & pd.to_datetime(preds["origin"]).isin(panel.index[origins])
        preds = preds[scored]
    preds["date"] = pd.to_datetime(preds["date"])
    total = preds[preds["series"] == TOTAL_SERIES]

    peer_series = list(panel.columns) if args.all_series else [TOTAL_SERIES]
    future = pd.date_range(panel.index[0], periods=len(panel) + args.horizon, freq="D")
    exog = {
        s: peers.known_in_advance(
            future, s, country=args.country, promotions=promotions, total=TOTAL_SERIES
        )
        for s in peer_series
    }
    runs = peers.run_peers(
        panel[peer_series], origins, args.horizon, exog, log=lambda p: log(f"{name}: {p}")
    )
    folds_scored = args.folds
    if result is not None and len(total):
        # A history too short for every fold gets fewer from the platform: all score its days.
        our_days = set(total["date"])
        for r in runs:
            r.predictions = r.predictions[pd.to_datetime(r.predictions["date"]).isin(our_days)]
        folds_scored = len(our_days) // args.horizon
    by_name = {r.name: r for r in runs}
    naive_rows = by_name[peers.SEASONAL_NAIVE].predictions
    naive_total = naive_rows[naive_rows["series"] == TOTAL_SERIES]
    naive_mae = score(naive_total)["mae"]

    # The same days for everyone, and the same seasonal naive as the platform's.
    ours_total = total[total["model"] == ours]
    if result is not None:
        same_days = set(ours_total["date"]) == set(naive_total["date"])
        ours_naive = total[total["model"] == "seasonal_naive_7"].set_index("date")["forecast"]
        diff = np.abs(ours_naive - naive_total.set_index("date")["forecast"]).max()
        if not same_days or not diff <= 1e-6 * max(naive_mae, 1.0):
            log(f"{name}: WARNING folds differ from the platform's (days {same_days}, {diff})")

    rows = []
    label = f"ours: {PUBLISHED}"
    if result is None:
        rows.append((label, None, None, failure))
    else:
        rows.append((label, score(ours_total), result.seconds, "all series, all candidates"))
    for r in runs:
        p = r.predictions
        if len(p) == 0:
            rows.append((r.name, None, r.seconds, r.note))
            continue
        rows.append((r.name, score(p[p["series"] == TOTAL_SERIES]), r.seconds, r.note))
    for model in [*OUR_MODELS, *sorted(set(total["model"]) - {*OUR_MODELS, ours})]:
        if model != ours and (total["model"] == model).any():
            label = "  oracle (expected demand)" if model == ORACLE else f"  ours: {model}"
            rows.append((label, score(total[total["model"] == model]), None, ""))
    floor = None
    if oracle is not None:
        floor = oracle_with_estimated_level(panel, oracle, origins, args.horizon)
        rows.append(("  oracle shape x level of last 28 days", {"mae": floor}, None, ""))

    first = panel.index[origins[args.folds - folds_scored] + 1].date()
    last = panel.index[-1].date()
    print(
        f"\n== {name}: {len(panel)} days {panel.index[0].date()} .. {last}, "
        f"{len(panel.columns)} series; series '{TOTAL_SERIES}', {folds_scored} folds x "
        f"{args.horizon} days ({first} .. {last}), refit per fold"
    )
    head = ["rel MAE", "MAE", "sMAPE %", "bias %", "cov 80%", "cov 95%", "seconds"]
    print(f"  {'model':40s} " + " ".join(f"{h:>9s}" for h in head) + "  note")
    for label, s, seconds, note in rows:
        if s is None:
            print(f"  {label:40s} {'-':>9s}" + " " * 60 + f"  {note}")
            continue
        cells = [
            f"{s['mae'] / naive_mae:9.3f}",
            f"{s['mae']:9.0f}",
            f"{s['smape']:9.1f}" if "smape" in s else f"{'':9s}",
            f"{s['bias']:+9.1f}" if "bias" in s else f"{'':9s}",
            f"{pct(s['cov80']):>9s}" if "cov80" in s else f"{'':9s}",
            f"{pct(s['cov95']):>9s}" if "cov95" in s else f"{'':9s}",
            f"{seconds:9.1f}" if seconds is not None and np.isfinite(seconds) else f"{'':9s}",
        ]
        print(f"  {label:40s} " + " ".join(cells) + (f"  {note}" if note else ""))

    # Every series: ours against the seasonal naive on the same days (and the peers if run).
    per_series = []
    ours_rows = preds[preds["model"] == ours]
    naive_ours = preds[preds["model"] == "seasonal_naive_7"]
    for series in [*panel.columns, "all series"]:
        pick = (
            (lambda f: f) if series == "all series" else (lambda f, s=series: f[f["series"] == s])
        )
        o, n = pick(ours_rows), pick(naive_ours)
        if len(o) and len(n):
            s = score(o)
            per_series.append(
                f"{series} {s['mae'] / score(n)['mae']:.3f} ({pct(s['cov80'])}/{pct(s['cov95'])})"
            )
    if per_series:
        print(f"  ours per series, rel MAE (cov 80/95): {'; '.join(per_series)}")
        chosen = choose_methods(result.predictions, list(panel.columns))
        print(
            "  the platform's choice after these folds: "
            + "; ".join(f"{series} {method}" for series, method in chosen.items())
        )
    if args.all_series:
        for r in runs:
            if len(r.predictions):
                s = score(r.predictions)["mae"] / score(naive_rows)["mae"]
                print(f"  {r.name} all series pooled: rel MAE {s:.3f}")
    if result is not None:
        fits = result.fit_seconds
        log(f"{name}: timing fit + published forecast")
        publish = publish_seconds(daily, result, args.horizon, promotions, args.country)
        print(
            f"  speed: fit + forecast to publish, every series {publish:.1f} s (target <= "
            f"{TARGET_PUBLISH_SECONDS:.0f} s); full backtest {result.seconds:.1f} s (target <= "
            f"{TARGET_BACKTEST_SECONDS:.0f} s; {len(panel.columns)} series, {len(fits)} refits, "
            f"fit {np.mean(fits):.1f} s per fold)"
        )

    s_ours = (
        score(ours_total) if len(ours_total) else {"mae": np.nan, "cov80": np.nan, "cov95": np.nan}
    )
    peer_maes = {
        r.name: score(r.predictions[r.predictions["series"] == TOTAL_SERIES])["mae"]
        for r in runs
        if len(r.predictions)
    }
    best_peer = min(peer_maes, key=peer_maes.get)
    return {
        "name": name,
        "rel": s_ours["mae"] / naive_mae,
        "oracle_ratio": s_ours["mae"] / floor if floor else float("nan"),
        "best_peer": best_peer,
        "best_peer_rel": peer_maes[best_peer] / naive_mae,
        "ahead": bool(all(s_ours["mae"] < m for m in peer_maes.values())),
        "missing_peers": [r.name for r in runs if not len(r.predictions)],
        "cov80": s_ours["cov80"],
        "cov95": s_ours["cov95"],
        "seconds": result.seconds if result is not None else float("nan"),
        "failure": failure,
    }


# ---------------------------------------------------------------------------------- summary


def print_synthetic_summary(rows: list[dict]) -> None:
    print(f"\n== summary over {len(rows)} synthetic set(s), series '{TOTAL_SERIES}'")
    head = ["ours/oracle", "ours rel", "best peer", "peer rel", "ahead", "cov 80%", "cov 95%"]
    print(
        f"  {'set':26s} {head[0]:>11s} {head[1]:>9s}  {head[2]:26s}"
        + "".join(f"{h:>9s}" for h in head[3:])
    )
    for r in rows:
        print(
            f"  {r['name']:26s} {r['oracle_ratio']:11.3f} {r['rel']:9.3f}  {r['best_peer']:26s}"
            f"{r['best_peer_rel']:9.3f}{'yes' if r['ahead'] else 'NO':>9s}"
            f"{pct(r['cov80']):>9s}{pct(r['cov95']):>9s}"
        )
    ratio = float(np.median([r["oracle_ratio"] for r in rows]))
    wins = sum(r["ahead"] for r in rows)
    ok80 = sum(in_range(r["cov80"], "80") for r in rows)
    ok95 = sum(in_range(r["cov95"], "95") for r in rows)
    need = TARGET_WINS if len(rows) == 10 else int(np.ceil(TARGET_WINS / 10 * len(rows)))
    print("targets:")
    print(
        f"  median of our MAE / oracle (shape x 28-day level): {ratio:.3f} "
        f"(target <= {TARGET_ORACLE_RATIO:.2f}): {met(ratio <= TARGET_ORACLE_RATIO)}"
    )
    print(
        f"  ahead of every peer on {wins} of {len(rows)} sets "
        f"(target >= {need} of {len(rows)}): {met(wins >= need)}"
    )
    print(
        f"  80% coverage in 75-85% on {ok80} of {len(rows)} sets, 95% coverage in 90-98% on "
        f"{ok95} of {len(rows)} (target: every set): {met(ok80 == ok95 == len(rows))}"
    )
    if any(r["missing_peers"] for r in rows):
        print(f"  peers not run: {sorted({p for r in rows for p in r['missing_peers']})}")


def print_file_targets(r: dict, superstore: bool) -> None:
    print("targets:")
    if superstore:
        print(
            f"  published MAE on '{TOTAL_SERIES}' / SeasonalNaive(7): {r['rel']:.3f} "
            f"(target <= {TARGET_SUPERSTORE:.2f}): {met(r['rel'] <= TARGET_SUPERSTORE)}"
        )
    print(
        f"  ahead of every peer: {'yes' if r['ahead'] else 'NO'} (best peer {r['best_peer']} "
        f"{r['best_peer_rel']:.3f}): {met(r['ahead'])}"
    )
    print(
        f"  coverage 80% {pct(r['cov80'])} in 75-85%: {met(in_range(r['cov80'], '80'))}; "
        f"95% {pct(r['cov95'])} in 90-98%: {met(in_range(r['cov95'], '95'))}"
    )
    if r["missing_peers"]:
        print(f"  peers not run: {r['missing_peers']}")


# ------------------------------------------------------------------------------------- main


def synthetic_sets(count: int):
    """The first ``count`` development sets: (name, daily sales, promotions, oracle)."""
    sets = [(seed, end) for seed in SYNTHETIC_SEEDS for end in SYNTHETIC_ENDS][:count]
    for seed, end in sets:
        name = f"seed {seed} to {end}"
        shop = synthetic.ShopConfig(seed=seed)
        start = end - dt.timedelta(days=SYNTHETIC_DAYS - 1)
        log(f"{name}: generating")
        daily = synthetic_daily_sales(start, end, shop)
        oracle = synthetic.expected_demand(start, end, shop)
        yield name, daily, synthetic_promotions(start, end, shop), oracle


def development_sets(count: int):
    """The sets defaults are chosen on: (name, daily sales, promotions) of the first ``count``
    synthetic sets, then the Superstore export where it is present (it has no promotions)."""
    for name, daily, promotions, _oracle in synthetic_sets(count):
        yield name, daily, promotions
    if SUPERSTORE.exists():
        yield "superstore", file_daily_sales(SUPERSTORE, None)[0], None


def run_synthetic(args) -> int:
    rows = [evaluate(*data_set, args) for data_set in synthetic_sets(args.sets)]
    print_synthetic_summary(rows)
    return 0


def run_file(args) -> int:
    superstore = args.dataset == "superstore"
    path = SUPERSTORE if superstore else Path(args.dataset)
    if not path.exists():
        if superstore:
            print(f"skipped: the Superstore export is not at {path} (it is not in the repository)")
            return 0
        raise SystemExit(f"{path} does not exist")
    log(f"loading {path} through the file source")
    daily, note = file_daily_sales(path, args.mapping)
    promotions = read_promotions(args.promotions)
    print(f"data: {path.name} through sources.load_orders: {note}")
    print(f"promotions: {args.promotions or 'none'}")
    name = "superstore" if superstore else path.name
    r = evaluate(name, daily, promotions, None, args)
    print_file_targets(r, superstore)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default="synthetic",
        help="synthetic, superstore, or the path of a CSV/Parquet orders export (file or folder)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument(
        "--sets", type=int, default=None, help="only the first N synthetic sets (quick checks)"
    )
    parser.add_argument(
        "--promotions", default=None, help="a promotions CSV (start_date, end_date, scope)"
    )
    parser.add_argument(
        "--mapping", default=None, help="column mapping of the export (JSON/YAML, as the pipeline)"
    )
    parser.add_argument(
        "--country",
        default="US",
        help="the shop's country (as SALES_COUNTRY): its holidays for ours and the peers",
    )
    parser.add_argument(
        "--all-series",
        action="store_true",
        help="run the peers on every series too (slower) and print their pooled figure",
    )
    args = parser.parse_args(argv)
    peers.quiet()
    log("compiling statsforecast (numba)")
    peers.warm_up()
    if args.dataset == "synthetic":
        return run_synthetic(args)
    return run_file(args)


if __name__ == "__main__":
    raise SystemExit(main())
