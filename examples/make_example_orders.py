"""Write a small, real-shaped orders export: one CSV file per day, in a shop's own column names.

    python examples/make_example_orders.py                # -> examples/orders/orders_YYYY-MM-DD.csv
    python examples/make_example_orders.py --out /tmp/orders --start 2024-01-01 --days 366
    python examples/make_example_orders.py --out /tmp/export.csv --days 731 --scale 1.7  # one file

The files look like a typical e-commerce/ERP export (the columns of the well-known "Online Retail"
data set): ``InvoiceNo, InvoiceDate, StockCode, Description, Quantity, UnitPrice, CustomerID,
Category``, dates written month-first without zero padding (``1/31/2024 9:05``), some lines
without a customer, a quoted description with a comma, and a few returns: invoices whose number
starts with ``C`` and whose quantities are negative, as that export writes them.

Deterministic: the same arguments always write the same bytes. A few thousand lines by default.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
COLUMNS = [
    "InvoiceNo",
    "InvoiceDate",
    "StockCode",
    "Description",
    "Quantity",
    "UnitPrice",
    "CustomerID",
    "Category",
]

# (StockCode, Description, UnitPrice, Category): a small gift-shop catalog.
CATALOG = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55, "Home"),
    ("71053", "WHITE METAL LANTERN", 3.39, "Home"),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", 2.75, "Home"),
    ("22913", "RED COAT RACK, PARIS FASHION", 4.95, "Home"),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 4.25, "Home"),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", 7.65, "Home"),
    ("22960", "JAM MAKING SET WITH JARS", 4.25, "Kitchen"),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 4.95, "Kitchen"),
    ("22728", "ALARM CLOCK BAKELIKE PINK", 3.75, "Kitchen"),
    ("22727", "ALARM CLOCK BAKELIKE RED", 3.75, "Kitchen"),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 0.55, "Kitchen"),
    ("22197", "SMALL POPCORN HOLDER", 0.85, "Kitchen"),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69, "Gifts"),
    ("22633", "HAND WARMER UNION JACK", 1.85, "Gifts"),
    ("22632", "HAND WARMER RED POLKA DOT", 1.85, "Gifts"),
    ("21754", "HOME BUILDING BLOCK WORD", 5.95, "Gifts"),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 2.95, "Christmas"),
    ("22910", "PAPER CHAIN KIT VINTAGE CHRISTMAS", 2.95, "Christmas"),
    ("23084", "RABBIT NIGHT LIGHT", 2.08, "Christmas"),
    ("22577", "WOODEN HEART CHRISTMAS SCANDINAVIAN", 0.85, "Christmas"),
    ("47566", "PARTY BUNTING", 4.95, "Party"),
    ("21977", "PACK OF 60 PINK PAISLEY CAKE CASES", 0.55, "Party"),
    ("22383", "LUNCH BAG SUKI DESIGN", 1.65, "Bags"),
    ("85099B", "JUMBO BAG RED RETROSPOT", 2.08, "Bags"),
    ("20725", "LUNCH BAG RED RETROSPOT", 1.65, "Bags"),
]


def _demand(day: date, scale: float = 1.0) -> float:
    """Expected invoices on `day`: weekly shape, a slow trend and a Christmas season."""
    weekday = (1.0, 1.1, 1.05, 1.15, 0.95, 0.6, 0.75)[day.weekday()]
    doy = day.timetuple().tm_yday
    season = 1.0 + 0.9 * np.exp(-(((doy - 330) / 25.0) ** 2))  # peak late November
    trend = 1.0 + 0.0008 * (day - date(2024, 1, 1)).days
    return 4.0 * scale * weekday * season * trend


def make_day(
    rng: np.random.Generator, day: date, last_invoice: int, scale: float = 1.0
) -> tuple[pd.DataFrame, int]:
    """One day's lines (returns included), in the export's columns, and the last invoice number."""
    n_invoices = int(rng.poisson(_demand(day, scale)))
    rows = []
    invoice = last_invoice
    product_weights = np.linspace(2.0, 0.5, len(CATALOG))
    product_weights /= product_weights.sum()
    for _ in range(n_invoices):
        invoice += 1
        minute = int(rng.integers(8 * 60, 20 * 60))
        customer = "" if rng.random() < 0.1 else str(int(rng.integers(12346, 12646)))
        n_lines = int(rng.integers(1, 6))
        products = rng.choice(len(CATALOG), size=n_lines, replace=False, p=product_weights)
        for p in products:
            code, name, price, category = CATALOG[int(p)]
            qty = int(rng.choice([1, 2, 3, 4, 6, 12, 24], p=[0.3, 0.2, 0.1, 0.1, 0.15, 0.1, 0.05]))
            rows.append((str(invoice), minute, code, name, qty, price, customer, category))
            if customer and rng.random() < 0.012:  # part of it sent back: a "C" invoice
                rows.append(
                    (
                        f"C{invoice}",
                        min(minute + 30, 23 * 60 + 59),
                        code,
                        name,
                        -int(rng.integers(1, qty + 1)),
                        price,
                        customer,
                        category,
                    )
                )
    frame = pd.DataFrame(
        rows,
        # Minutes of the day first; they become the InvoiceDate text once sorted.
        columns=["minute" if name == "InvoiceDate" else name for name in COLUMNS],
    )
    frame = frame.sort_values("minute", kind="stable")
    frame["InvoiceDate"] = [
        f"{day.month}/{day.day}/{day.year} {m // 60}:{m % 60:02d}" for m in frame["minute"]
    ]
    return frame[COLUMNS], invoice


def write_example(
    out: Path,
    start: date = date(2024, 1, 1),
    days: int = 366,
    seed: int = 7,
    scale: float = 1.0,
    copies: int = 1,
    line_numbers: bool = False,
) -> dict[str, int]:
    """Write ``orders_YYYY-MM-DD.csv`` files under `out`, or one export file when `out` ends in
    ``.csv``; returns what was written. `scale` multiplies the invoices a day; `line_numbers`
    adds a ``LineNo`` column (the line within its invoice); `copies` > 1 writes every line that
    many times (an export appended to itself: with line numbers, duplicate order lines)."""
    single = out.suffix == ".csv"
    (out.parent if single else out).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    invoice = 536000
    frames = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        frame, invoice = make_day(rng, day, invoice, scale)
        if line_numbers:
            frame.insert(1, "LineNo", frame.groupby("InvoiceNo").cumcount() + 1)
        frame = pd.concat([frame] * copies, ignore_index=True)
        if not single:
            frame.to_csv(out / f"orders_{day.isoformat()}.csv", index=False, lineterminator="\n")
        frames.extend([frame] if len(frame) else [])
    everything = pd.concat(frames, ignore_index=True)
    if single:
        everything.to_csv(out, index=False, lineterminator="\n")
    return {
        "files": 1 if single else days,
        "lines": len(everything),
        "returns": int((everything["Quantity"] < 0).sum()),
    }


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "orders")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="invoices a day, multiplied")
    args = parser.parse_args(argv)
    summary = write_example(args.out, args.start, args.days, args.seed, args.scale)
    print(
        f"wrote {summary['files']} file(s), {summary['lines']} order lines "
        f"({summary['returns']} returns) to {args.out}"
    )
    return summary


if __name__ == "__main__":
    main()
