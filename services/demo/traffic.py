"""A believable small online shop, for demo mode: orders, visitors and log lines over time.

Pure generation, no database: ``Shop`` produces items shaped like ingest items,
used both by the 30-day backfill and by the live generator, so history and live
traffic look alike. Traffic follows the hour of day (UTC: quiet nights, evening
peak) and the day of week (busier weekends), grows slowly, and has payment
outages now and then in which many payments fail.
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

# Average orders per minute at a typical hour; everything else scales from it.
ORDERS_PER_MINUTE = 3.5
ACTIVITIES_PER_ORDER = 2.0
LOGS_PER_MINUTE = 1.0
FAIL_RATE = 0.03
OUTAGE_FAIL_RATE = 0.45
REFUND_RATE = 0.015
STUCK_PENDING_RATE = 0.002
RETURNING_SHARE = 0.6
GROWTH_PER_DAY = 0.004

# Relative traffic by UTC hour (Europe's evening and America's afternoon overlap at 18-21).
HOURLY = [0.35, 0.28, 0.22, 0.20, 0.22, 0.30, 0.45, 0.65, 0.85, 1.00, 1.10, 1.15,
          1.20, 1.20, 1.25, 1.30, 1.35, 1.45, 1.60, 1.75, 1.80, 1.60, 1.10, 0.60]
_MEAN_HOURLY = sum(HOURLY) / len(HOURLY)
HOURLY = [h / _MEAN_HOURLY for h in HOURLY]
WEEKLY = [0.92, 0.97, 1.00, 1.00, 1.07, 1.18, 1.12]  # Monday .. Sunday

CURRENCIES = (("USD", 0.72, 1.0), ("EUR", 0.18, 0.92), ("GBP", 0.10, 0.79))
CHANNELS = (("web", 0.55), ("app", 0.30), ("amazon", 0.15))
ACTIONS = (("page_view", 0.46), ("search", 0.15), ("add_to_cart", 0.12), ("login", 0.08),
           ("checkout", 0.06), ("logout", 0.05), ("wishlist", 0.04), ("signup", 0.02), ("review", 0.02))
PATHS = ("/", "/products", "/products/sneakers", "/products/backpacks", "/cart", "/account",
         "/deals", "/products/jackets", "/help/shipping")
QUERIES = ("running shoes", "rain jacket", "backpack", "gift card", "wool socks", "headphones")
LEVEL_WEIGHTS = (("DEBUG", 0.10), ("INFO", 0.70), ("WARNING", 0.13), ("ERROR", 0.06), ("CRITICAL", 0.01))
LOG_LINES = {
    "DEBUG": (("worker", "queue depth {n}"), ("search", "cache warm for {n} queries")),
    "INFO": (("web", "GET /products 200 in {ms} ms"), ("payments", "charge captured for order {n}"),
             ("worker", "sent order confirmation email #{n}"), ("search", "reindexed {n} products"),
             ("auth", "user signed in from a new device")),
    "WARNING": (("web", "slow request GET /search took {ms} ms"),
                ("payments", "retrying charge after a 502 from the provider"),
                ("auth", "{n} failed logins for one account"), ("worker", "email bounced, will retry")),
    "ERROR": (("web", "upstream timeout on POST /checkout after {ms} ms"),
              ("payments", "card processor timeout for order {n}"),
              ("worker", "job send_invoice failed: SMTP 451, retrying")),
    "CRITICAL": (("payments", "payment provider unreachable"), ("web", "database connection pool exhausted")),
}


def _pick(rng: random.Random, weighted) -> str:
    roll = rng.random()
    for item in weighted:
        roll -= item[1]
        if roll <= 0:
            return item[0]
    return weighted[-1][0]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson-distributed count with mean ``lam`` (Knuth; normal approximation when large)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Shop:
    """The shop's state: returning customers, order numbers, payment outages."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now  # growth is measured back from here
        self.customers: list[str] = []
        self.outages: list[tuple[datetime, datetime]] = []
        self.serial = 0

    # -- rates ------------------------------------------------------------------------------
    def intensity(self, moment: datetime) -> float:
        """Traffic relative to an average hour: hour of day, weekday, slow growth."""
        hour = moment.hour + moment.minute / 60
        low = HOURLY[int(hour) % 24]
        high = HOURLY[(int(hour) + 1) % 24]
        daily = low + (high - low) * (hour - int(hour))
        days_ago = (self.now - moment).total_seconds() / 86400
        return daily * WEEKLY[moment.weekday()] * max(0.5, 1 - GROWTH_PER_DAY * days_ago)

    def in_outage(self, moment: datetime) -> bool:
        """Whether payments are failing at ``moment``."""
        return any(start <= moment < end for start, end in self.outages)

    def plan_outages(self, start: datetime, end: datetime, per_day: float = 0.15) -> None:
        """Scatter payment outages (15-50 minutes) over a past range, each over before ``end``:
        one still running (or planned ahead) at the start would stand in for the early outage the
        live demo plans (``monitors.first_outage``), which may then come hours later."""
        day = start
        while day < end:
            if self.rng.random() < per_day:
                share = self.rng.uniform(0, 86400) / 86400
                length = timedelta(minutes=self.rng.uniform(15, 50))
                room = min(day + timedelta(days=1), end) - length - day
                if room > timedelta(0):
                    begin = day + share * room
                    self.outages.append((begin, begin + length))
            day += timedelta(days=1)
        self.outages.sort()

    # -- items ------------------------------------------------------------------------------
    def customer(self) -> str:
        """A returning customer (the loyal ones most often) or a new one."""
        if self.customers and self.rng.random() < RETURNING_SHARE:
            return self.customers[int(len(self.customers) * self.rng.random() ** 2)]
        cid = f"cus_{len(self.customers) + 1:06d}"
        self.customers.append(cid)
        return cid

    def order_id(self, moment: datetime) -> str:
        self.serial += 1
        return f"ord_{int(moment.timestamp()):x}{self.serial:05d}"[:64]

    def order(self, moment: datetime) -> dict:
        """A new order, pending (its payment not settled yet)."""
        rng = self.rng
        currency = _pick(rng, CURRENCIES)
        rate = next(c[2] for c in CURRENCIES if c[0] == currency)
        price = rng.lognormvariate(math.log(4200), 0.75) * rate
        amount = max(299, int(round(price / 100)) * 100 - 1)  # prices end in .99
        return {"id": self.order_id(moment), "amount_cents": min(amount, 250_000), "currency": currency,
                "status": "pending", "customer_id": self.customer(), "channel": _pick(rng, CHANNELS),
                "created_at": moment, "updated_at": moment}

    def settle(self, order: dict, moment: datetime, allow_pending: bool = True) -> dict:
        """The order once its payment settled: completed, failed (often in an outage), refunded."""
        roll = self.rng.random()
        failing = OUTAGE_FAIL_RATE if self.in_outage(order["created_at"]) else FAIL_RATE
        if roll < failing:
            status = "failed"
        elif roll < failing + REFUND_RATE:
            status = "refunded"
        elif allow_pending and roll < failing + REFUND_RATE + STUCK_PENDING_RATE:
            status = "pending"
        else:
            status = "completed"
        return {**order, "status": status, "updated_at": moment}

    def activity(self, moment: datetime) -> dict:
        """One thing a visitor or customer did on the site."""
        rng = self.rng
        action = _pick(rng, ACTIONS)
        user = self.customer() if rng.random() < 0.7 else f"visitor_{rng.randrange(16**6):06x}"
        if action == "page_view":
            detail = rng.choice(PATHS)
        elif action == "search":
            detail = f"q={rng.choice(QUERIES)}"
        elif action in ("add_to_cart", "wishlist", "review"):
            detail = f"sku-{rng.randint(1000, 1400)}"
        else:
            detail = None
        return {"user_id": user, "action": action, "detail": detail, "created_at": moment}

    def log_line(self, moment: datetime, level: str | None = None) -> dict:
        """A log line from one of the shop's services."""
        rng = self.rng
        level = level or _pick(rng, LEVEL_WEIGHTS)
        service, template = rng.choice(LOG_LINES[level])
        message = template.format(n=rng.randint(2, 9000), ms=rng.randint(40, 4000))
        return {"service": service, "level": level, "message": message, "created_at": moment,
                "logger": f"{service}.app"}

    def outage_lines(self, moment: datetime) -> list[dict]:
        """What the payment service logs during an outage minute."""
        return [{"service": "payments", "level": "ERROR", "created_at": moment, "logger": "payments.app",
                 "message": f"card processor timeout for order {self.rng.randint(2, 9000)}"}
                for _ in range(self.rng.randint(2, 5))]

    # -- one minute of history --------------------------------------------------------------
    def minute(self, start: datetime, settle_by: datetime) -> tuple[list[dict], list[dict], list[dict]]:
        """Everything that happened in the minute from ``start`` (for the backfill).

        Orders are settled a few seconds to minutes after creation unless that is
        after ``settle_by`` (now): then they are still pending.
        """
        rng = self.rng
        level = self.intensity(start)
        orders, acts, logs = [], [], []
        for _ in range(poisson(rng, ORDERS_PER_MINUTE * level)):
            created = start + timedelta(seconds=rng.uniform(0, 60))
            order = self.order(created)
            settled = created + timedelta(seconds=rng.uniform(3, 240))
            if settled <= settle_by:
                order = self.settle(order, settled)
                if order["status"] == "refunded":
                    order["updated_at"] = min(settle_by, settled + timedelta(days=rng.uniform(0.5, 6)))
            orders.append(order)
        for _ in range(poisson(rng, ORDERS_PER_MINUTE * ACTIVITIES_PER_ORDER * level)):
            acts.append(self.activity(start + timedelta(seconds=rng.uniform(0, 60))))
        for _ in range(poisson(rng, LOGS_PER_MINUTE * (0.5 + 0.5 * level))):
            logs.append(self.log_line(start + timedelta(seconds=rng.uniform(0, 60))))
        if self.in_outage(start):
            logs.extend(self.outage_lines(start + timedelta(seconds=rng.uniform(0, 60))))
        return orders, acts, logs
