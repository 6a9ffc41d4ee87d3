"""The demo shop's catalogue: about 300 products in six categories with believable prices, the
lines of each order, and stock that drains with sales and comes back in delivery batches.

Pure generation, no database, like ``services.demo.traffic``: a line's amount is its share of
the order's amount (so lines never add up to more than the order), and a product out of stock
is not sold. Deliveries come in batches once a day; a few suppliers are late each time, so some
products run low and stay low until a later delivery (what the low-stock rule is for).
"""
from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

# category: (product nouns, adjectives, typical price in USD cents, products)
CATEGORIES = {
    "Footwear": (("Running shoe", "Trail shoe", "Sneaker", "Hiking boot", "Sandal", "Slipper"), 8900, 55),
    "Outerwear": (("Rain jacket", "Down jacket", "Fleece", "Windbreaker", "Parka", "Vest"), 12900, 45),
    "Bags": (("Backpack", "Daypack", "Duffel", "Tote", "Hip pack", "Laptop sleeve"), 5900, 50),
    "Accessories": (("Wool socks", "Beanie", "Cap", "Gloves", "Scarf", "Water bottle"), 1900, 60),
    "Electronics": (("Headphones", "Earbuds", "Power bank", "Headlamp", "Smartwatch band", "Speaker"), 6900, 45),
    "Gifts": (("Gift card", "Gift box", "Travel kit", "Mug", "Notebook", "Sticker pack"), 2500, 45),
}
COLOURS = ("Black", "Navy", "Olive", "Sand", "Red", "Grey", "Blue", "Green", "White", "Rust")
DELIVERY_HOUR = 6  # UTC: the daily delivery batch
LATE_SUPPLIER_SHARE = 0.15
DEFAULT_THRESHOLD = 5


class Catalogue:
    """Products with a popularity weight, their stock, and what a delivery brings."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.products: list[dict[str, Any]] = []
        for category, (nouns, price, count) in CATEGORIES.items():
            for i in range(count):
                noun, colour = nouns[i % len(nouns)], COLOURS[(i // len(nouns)) % len(COLOURS)]
                cents = max(499, int(round(rng.lognormvariate(math.log(price), 0.35) / 100)) * 100 - 1)
                sku = f"{category[:3].upper()}-{i + 1:03d}"
                self.products.append({
                    "sku": sku, "name": f"{noun}, {colour}", "category": category, "price_cents": cents,
                    "currency": "USD", "active": rng.random() > 0.03,
                    "low_stock_threshold": rng.choice((None, None, None, 3, 10))})
        # Popularity: a few best sellers, a long tail (Zipf-like).
        order = list(range(len(self.products)))
        rng.shuffle(order)
        self.weights = [0.0] * len(self.products)
        for rank, index in enumerate(order):
            self.weights[index] = 0.0 if not self.products[index]["active"] else 1 / (rank + 1) ** 0.8
        self.stock = {p["sku"]: self.target(i) for i, p in enumerate(self.products)}
        self.last_delivery: datetime | None = None

    def target(self, index: int) -> int:
        """What a delivery fills a product up to: about a day of its sales, at least 8."""
        share = self.weights[index] / sum(self.weights)
        return max(8, int(share * 1.2 * 5000 * 2.6))

    def lines(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """One to three lines for ``order`` whose amounts add up to at most its amount."""
        rng, picked = self.rng, []
        for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.12)):
            index = rng.choices(range(len(self.products)), self.weights)[0]
            sku = self.products[index]["sku"]
            quantity = 1 if rng.random() < 0.8 else 2
            if self.stock[sku] >= quantity and sku not in (p[0] for p in picked):
                picked.append((sku, quantity, self.products[index]["price_cents"] * quantity))
        if not picked:
            return []
        total = sum(p[2] for p in picked)
        return [{"sku": sku, "quantity": q, "amount_cents": order["amount_cents"] * value // total}
                for sku, q, value in picked]

    def sell(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take completed lines out of stock; returns the stock changes as product items."""
        for line in lines:
            self.stock[line["sku"]] -= line["quantity"]
        return [{"sku": line["sku"], "stock_delta": -line["quantity"]} for line in lines]

    def deliveries_due(self, moment: datetime) -> list[dict[str, Any]]:
        """The day's delivery batch once ``moment`` passes its hour: products at or under half
        their target are filled up, except those whose supplier is late this time."""
        day = moment.replace(hour=DELIVERY_HOUR, minute=0, second=0, microsecond=0)
        if moment < day or (self.last_delivery is not None and self.last_delivery >= day):
            return []
        self.last_delivery = day
        batch = []
        for i, product in enumerate(self.products):
            sku, target = product["sku"], self.target(i)
            if self.stock[sku] <= target // 2 and self.rng.random() > LATE_SUPPLIER_SHARE:
                batch.append({"sku": sku, "stock_delta": target - self.stock[sku]})
                self.stock[sku] = target
        return batch

    def product_items(self) -> list[dict[str, Any]]:
        """Every product as an ingest item, with its stock now."""
        return [{**p, "stock": self.stock[p["sku"]]} for p in self.products]
