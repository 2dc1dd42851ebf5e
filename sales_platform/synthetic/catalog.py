"""The product catalog: categories with their own price levels and a long-tail popularity."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from faker import Faker

from sales_platform import tables
from sales_platform.synthetic.config import CATEGORIES, STREAM_PRODUCTS, ShopConfig, rng_for

# Per category: share of the catalog, median price, log-sd of prices, cost as a share of price.
_CATALOG_SHARE = np.array([0.15, 0.22, 0.25, 0.16, 0.12, 0.10])
_PRICE_MEDIAN = np.array([160.0, 55.0, 40.0, 22.0, 50.0, 28.0])
_PRICE_LOG_SD = np.array([0.70, 0.60, 0.50, 0.45, 0.60, 0.55])
_COST_SHARE = np.array(
    [[0.70, 0.85], [0.45, 0.65], [0.35, 0.55], [0.30, 0.50], [0.50, 0.65], [0.45, 0.60]]
)
_ZIPF_EXPONENT = 1.1

_NOUNS: dict[str, tuple[str, ...]] = {
    "Electronics": ("Headphones", "Speaker", "Smartwatch", "Tablet", "Charger", "Camera", "Monitor",
                    "Keyboard", "Earbuds", "Router", "Drone", "Projector"),
    "Home": ("Lamp", "Blender", "Cushion", "Rug", "Kettle", "Vase", "Duvet", "Cookware Set",
             "Coffee Maker", "Shelf", "Towel Set", "Candle"),
    "Fashion": ("Sneakers", "Jacket", "Dress", "Jeans", "Scarf", "Handbag", "Sweater", "Boots",
                "T-Shirt", "Sunglasses", "Belt", "Hoodie"),
    "Beauty": ("Serum", "Moisturizer", "Lipstick", "Shampoo", "Perfume", "Face Mask", "Mascara",
               "Sunscreen", "Body Lotion", "Hair Oil", "Cleanser", "Nail Polish"),
    "Sports": ("Yoga Mat", "Dumbbells", "Running Shorts", "Water Bottle", "Tennis Racket",
               "Bike Helmet", "Backpack", "Jump Rope", "Football", "Resistance Bands", "Tent",
               "Swim Goggles"),
    "Toys": ("Puzzle", "Building Blocks", "Doll", "Board Game", "Plush Bear", "RC Car", "Train Set",
             "Art Kit", "Action Figure", "Kite", "Science Kit", "Card Game"),
}  # fmt: skip
_ADJECTIVES = ("Classic", "Ultra", "Pro", "Eco", "Smart", "Compact", "Deluxe", "Essential", "Urban",
               "Premium", "Lite", "Max", "Nordic", "Vintage", "Everyday", "Signature")  # fmt: skip


@dataclass(frozen=True)
class Catalog:
    """The catalog as arrays indexed by product number (0-based; product_id is ``P{n+1:04d}``).

    ``share_in_category`` is a product's share of its category's lines: its long-tail (Zipf)
    popularity normalized within the category.
    """

    product_id: np.ndarray
    name: np.ndarray
    category: np.ndarray  # int index into CATEGORIES
    price: np.ndarray
    cost: np.ndarray
    popularity: np.ndarray  # Zipf weight, sums to 1 over the catalog
    share_in_category: np.ndarray  # sums to 1 within each category

    def mean_price(self, discount: float) -> np.ndarray:
        """Per category: popularity-weighted mean unit price when ``discount`` applies."""
        prices = discounted_prices(self.price, discount)
        num = np.bincount(self.category, self.popularity * prices, minlength=len(CATEGORIES))
        den = np.bincount(self.category, self.popularity, minlength=len(CATEGORIES))
        return num / den


def discounted_prices(price: np.ndarray, discount: float) -> np.ndarray:
    """Unit prices after ``discount`` (a fraction), rounded to cents."""
    return np.round(price * (1.0 - discount), 2)


def _category_counts(n_products: int) -> np.ndarray:
    """Products per category: one each, the rest by ``_CATALOG_SHARE`` (largest remainder)."""
    spare = n_products - len(CATEGORIES)
    raw = _CATALOG_SHARE * spare
    counts = np.floor(raw).astype(np.int64)
    remainder = spare - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:remainder]] += 1
    return counts + 1


def _readonly(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.setflags(write=False)


@lru_cache(maxsize=16)
def catalog(config: ShopConfig) -> Catalog:
    """The catalog of ``config`` (cached; depends on ``seed`` and ``n_products`` only)."""
    rng = rng_for(config, STREAM_PRODUCTS)
    n = config.n_products
    category = rng.permutation(np.repeat(np.arange(len(CATEGORIES)), _category_counts(n)))

    raw_price = _PRICE_MEDIAN[category] * np.exp(rng.normal(0.0, 1.0, n) * _PRICE_LOG_SD[category])
    price = np.maximum(np.ceil(np.clip(raw_price, 1.0, 5000.0)) - 0.01, 0.99)
    lo, hi = _COST_SHARE[category, 0], _COST_SHARE[category, 1]
    cost = np.round(price * (lo + (hi - lo) * rng.random(n)), 2)

    rank = rng.permutation(n) + 1
    popularity = rank.astype(np.float64) ** -_ZIPF_EXPONENT
    popularity /= popularity.sum()

    fake = Faker("en_US")
    fake.seed_instance(int(rng.integers(2**31)))
    brands = np.array(sorted({fake.last_name() for _ in range(60)}))
    brand = brands[rng.integers(len(brands), size=n)]
    adjective = np.array(_ADJECTIVES)[rng.integers(len(_ADJECTIVES), size=n)]
    noun = np.array(
        [_NOUNS[CATEGORIES[c]][i % len(_NOUNS[CATEGORIES[c]])] for c, i in
         zip(category, rng.integers(1_000_000, size=n), strict=True)]
    )  # fmt: skip
    names = pd.Series(brand + " " + adjective + " " + noun)
    duplicate = names.groupby(names).cumcount().to_numpy()
    names = names.where(duplicate == 0, names + " " + (duplicate + 1).astype(str))

    category_total = np.bincount(category, popularity, minlength=len(CATEGORIES))
    share_in_category = popularity / category_total[category]
    digits = max(4, len(str(n)))
    product_id = np.array([f"P{i:0{digits}d}" for i in range(1, n + 1)], dtype=object)
    result = Catalog(
        product_id=product_id,
        name=names.to_numpy(dtype=object),
        category=category,
        price=price,
        cost=cost,
        popularity=popularity,
        share_in_category=share_in_category,
    )
    _readonly(*(getattr(result, f) for f in result.__dataclass_fields__))
    return result


def generate_products(config: ShopConfig | None = None) -> pd.DataFrame:
    """The product catalog: exactly the columns of ``tables.COLUMNS["products"]``.

    ``product_id`` ("P0001", ..., wider beyond 9999 products), ``name`` (brand + adjective +
    noun, unique), ``category`` (one of ``CATEGORIES``; every category has products), ``price``
    (log-normal around a category's price level, ending in .99) and ``cost`` (a
    category-specific 30-85% of the price). Popularity
    is long-tailed (Zipf) but internal: it only shows in the orders. Depends on ``seed`` and
    ``n_products`` only, never on dates.
    """
    cat = catalog(config or ShopConfig())
    frame = pd.DataFrame(
        {
            "product_id": cat.product_id,
            "name": cat.name,
            "category": np.array(CATEGORIES, dtype=object)[cat.category],
            "price": cat.price.astype(np.float64),
            "cost": cat.cost.astype(np.float64),
        }
    )
    return frame[list(tables.COLUMNS[tables.PRODUCTS])]
