"""Demo mode (``python app.py --demo``): a demo admin, 30 days of history, live traffic.

``start(app)`` runs before the server starts serving: on a first start (no
transactions yet) it backfills ``DEMO_BACKFILL_DAYS`` of history with bulk
inserts and rebuilds the rollups, then starts two background tasks: the shop's
live traffic, recorded every second through the ingest hooks, and a "monitor"
(a viewer account with a random password) that calls the panel's own JSON
endpoints over HTTP so the performance pages have real requests to show.
"""
from __future__ import annotations

import atexit
import heapq
import logging
import random
import re
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timedelta

import requests
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import database
from database import utcnow
from services.accounts import User
from services.ingest import Transaction, UserActivity
from services.logs import LogEntry
from services.infra import bulk
from services.infra import breaker as circuit_breaker
from services.demo import console as demo_console
from services.demo import catalogue as demo_catalogue
from services.demo import custom_metrics
from services.demo import monitors as demo_monitors
from services.ingest import first_seen
from services.ingest import store as ingest
from services.ingest import rollups
from services.accounts import users
from services.demo.traffic import ACTIVITIES_PER_ORDER, LOGS_PER_MINUTE, ORDERS_PER_MINUTE, Shop, poisson
from services.ingest import LEVELS
from services.products import sales as product_sales
from services.products import stock as product_stock
from services.products.hooks import record_product
from services.products.models import TransactionItem
from extensions import socketio

log = logging.getLogger(__name__)
MONITOR_USERNAME = "demo-monitor"
# What an admin's browser asks for; routes not built yet answer 404, which is fine.
PANEL_PATHS = (
    "/admin/api/metrics/live", "/admin/api/metrics/system?minutes=60",
    "/admin/api/performance?minutes=60", "/admin/api/analytics/revenue?period=hourly",
    "/admin/api/analytics/revenue?period=daily", "/admin/api/analytics/transactions?minutes=60",
    "/admin/api/user-activity?minutes=30", "/admin/api/health", "/admin/api/alerts?status=active",
    "/admin/api/logs?limit=50", "/admin/api/cache/stats", "/admin/dashboard",
)
_FLUSH_ROWS = 20_000
_stop = threading.Event()
_lock = threading.Lock()
_tasks: list = []


def ensure_demo_admin(session: Session, method: str = "scrypt") -> str | None:
    """Create admin ``demo`` with a random password when there is no user; return the password."""
    if session.scalar(select(func.count(User.id))):
        return None
    password = secrets.token_urlsafe(12)
    users.create_user(session, "demo", password, "admin", method)
    return password


# -- backfill ---------------------------------------------------------------------------------

def backfill(app: Flask, days: float, now: datetime | None = None, rng: random.Random | None = None,
             progress=print) -> dict | None:
    """Fill an empty database with ``days`` of shop history; None when transactions exist already.

    Rows go in with bulk inserts in one transaction, then the rollups are rebuilt
    from them. Returns counts, the seconds it took and the ``Shop`` (so live
    traffic continues with the same customers).
    """
    began = time.perf_counter()
    now = now or utcnow()
    shop = Shop(rng or random.Random(), now)
    with database.session_scope(app) as session:
        # One explicit write transaction: fast on SQLite, and a second process sees all or nothing.
        rollups.begin_write(session)
        if session.scalar(select(Transaction.id).limit(1)) is not None:
            return None
        if days <= 0:
            return {"transactions": 0, "activities": 0, "logs": 0, "seconds": 0.0, "shop": shop}
        start = (now - timedelta(days=days)).replace(second=0, microsecond=0)
        shop.plan_outages(start, now)
        counts = {"transactions": 0, "activities": 0, "logs": 0}
        buffers: dict[str, list] = {"transactions": [], "activities": [], "logs": [], "items": []}
        shop.catalogue = products = demo_catalogue.Catalogue(shop.rng)
        total_minutes = int((now - start).total_seconds() // 60)
        checkpoints = {int(total_minutes * k / 5) for k in range(1, 5)}
        for i in range(total_minutes):
            orders, acts, logs = shop.minute(start + timedelta(minutes=i), now)
            products.deliveries_due(start + timedelta(minutes=i))
            for order in orders:  # lines, and completed ones out of stock
                lines = products.lines(order)
                buffers["items"] += [{"transaction_id": order["id"], "line": n, **line} for n, line in enumerate(lines)]
                if order["status"] == "completed":
                    products.sell(lines)
            buffers["transactions"] += orders
            buffers["activities"] += acts
            buffers["logs"] += logs
            if sum(map(len, buffers.values())) >= _FLUSH_ROWS:
                _flush(session, buffers, counts)
            if i in checkpoints:
                progress(f"Demo: backfilling history ... {i * 100 // total_minutes}%", flush=True)
        _flush(session, buffers, counts)
        buckets = rollups.rebuild(session)
        first_seen.rebuild(session)
        product_sales.rebuild(session)
        product_stock.store_products(session, [{**p, "stock_delta": None, "updated_at": None}
                                               for p in products.product_items()], now)
    counts["custom"], counts["metric_points"] = custom_metrics.backfill(app, shop, start, now)
    counts.update(seconds=round(time.perf_counter() - began, 2), buckets=buckets, shop=shop)
    progress(f"Demo: {days:g} days of history: {counts['transactions']} transactions, "
             f"{counts['activities']} activities, {counts['logs']} log lines, {counts['metric_points']} "
             f"metric points in {counts['seconds']} s",
             flush=True)
    return counts


def _flush(session: Session, buffers: dict[str, list], counts: dict[str, int]) -> None:
    orders = [{**o, "received_at": o["updated_at"]} for o in buffers["transactions"]]
    bulk.insert(session, Transaction.__table__, orders)
    logs = [{**row, "level_no": LEVELS[row["level"]]} for row in buffers["logs"]]
    bulk.insert(session, UserActivity.__table__, buffers["activities"])
    bulk.insert(session, LogEntry.__table__, logs)
    bulk.insert(session, TransactionItem.__table__, buffers["items"])
    for kind, rows in buffers.items():
        counts[kind] = counts.get(kind, 0) + len(rows)
        rows.clear()



# -- live traffic -----------------------------------------------------------------------------

class LiveTraffic:
    """Each ``tick`` records what the shop did in the last second, through the ingest hooks."""

    def __init__(self, app: Flask, shop: Shop, rate_multiplier: float = 1.0,
                 custom: custom_metrics.CustomMetrics | None = None):
        self.app = app
        self.shop = shop
        self.metrics = custom_metrics.LivePusher(app, shop, custom)
        self.rate = rate_multiplier
        self.pending: list[tuple[datetime, int, dict]] = []  # (settles at, tie-breaker, order)
        self.completed: deque[dict] = deque(maxlen=200)
        self.seq = 0
        # The backfill's catalogue, so live sales drain the stock it left.
        self.catalogue = getattr(shop, "catalogue", None) or demo_catalogue.Catalogue(shop.rng)
        # Stamps the demo's push monitor (services.demo.monitors.Heartbeat) while traffic flows.
        self.heartbeat = None

    def adopt_pending(self, now: datetime) -> int:
        """Settle soon the recent orders the backfill left pending (as a real shop would)."""
        with database.session_scope(self.app) as session:
            rows = session.scalars(select(Transaction).where(
                Transaction.status == "pending", Transaction.created_at >= now - timedelta(hours=1))).all()
            orders = [{f: getattr(r, f) for f in ("id", "amount_cents", "currency", "status", "customer_id",
                                                   "channel", "created_at", "updated_at")} for r in rows]
        for order in orders:
            self._schedule(order, now + timedelta(seconds=self.shop.rng.uniform(2, 45)))
        return len(orders)

    def _schedule(self, order: dict, due: datetime) -> None:
        self.seq += 1
        heapq.heappush(self.pending, (due, self.seq, order))

    def _record(self, order: dict) -> None:
        ingest.record_transaction(**order, app=self.app)

    def _stock(self, now: datetime, order: dict | None = None) -> None:
        """Completed lines leave stock; the day's delivery batch fills it up again."""
        changes = self.catalogue.sell(order.get("items") or []) if order else self.catalogue.deliveries_due(now)
        for change in changes:
            record_product(change["sku"], stock_delta=change["stock_delta"], app=self.app)

    def tick(self, now: datetime, seconds: float = 1.0) -> int:
        """Record one tick of traffic; returns how many items were stored."""
        shop, rng, stored = self.shop, self.shop.rng, 0
        level = shop.intensity(now) * self.rate * seconds / 60
        for _ in range(poisson(rng, ORDERS_PER_MINUTE * level)):
            order = shop.order(now)
            order["items"] = self.catalogue.lines(order)
            self._record(order)
            self._schedule(order, now + timedelta(seconds=rng.uniform(3, 40)))
            stored += 1
        while self.pending and self.pending[0][0] <= now:
            _, _, order = heapq.heappop(self.pending)
            settled = shop.settle(order, now, allow_pending=False)
            self._record(settled)
            if settled["status"] == "completed":
                self.completed.append(settled)
                self._stock(now, settled)
            stored += 1
        if self.completed and rng.random() < self.rate * seconds / 300:
            refund = self.completed.popleft()
            self._record({**refund, "status": "refunded", "updated_at": now})
            stored += 1
        for _ in range(poisson(rng, ORDERS_PER_MINUTE * ACTIVITIES_PER_ORDER * level)):
            ingest.log_user_activity(**shop.activity(now), app=self.app)
            stored += 1
        for _ in range(poisson(rng, LOGS_PER_MINUTE * self.rate * seconds / 60)):
            ingest.record_log(**shop.log_line(now), app=self.app)
            stored += 1
        self._stock(now)
        stored += self._outages(now, seconds)
        stored += self.metrics.tick(now, seconds)
        if self.heartbeat is not None:
            self.heartbeat(now)
        return stored

    def _outages(self, now: datetime, seconds: float) -> int:
        """Now and then the payment provider fails for a few minutes (about every two hours)."""
        shop, rng = self.shop, self.shop.rng
        shop.outages = [o for o in shop.outages if o[1] > now - timedelta(days=1)]
        if shop.in_outage(now):
            if rng.random() < 0.2 * seconds:
                ingest.record_log(**shop.outage_lines(now)[0], app=self.app)
                return 1
            return 0
        if rng.random() < seconds / 7200:
            shop.outages.append((now, now + timedelta(minutes=rng.uniform(4, 10))))
            ingest.record_log("payments", "CRITICAL", "payment provider unreachable", now,
                              "payments.app", app=self.app)
            return 1
        return 0


# -- the monitor: real HTTP requests to the panel ---------------------------------------------

def ensure_monitor(app: Flask) -> str:
    """Create (or reset) the viewer the demo monitor logs in with; returns its new random password."""
    password = secrets.token_urlsafe(18)
    method = app.config["PASSWORD_HASH_METHOD"]
    with database.session_scope(app) as session:
        user = users.get_by_username(session, MONITOR_USERNAME)
        if user is None:
            users.create_user(session, MONITOR_USERNAME, password, "viewer", method)
        else:
            users.set_password(user, password, method)
    return password


class PanelVisitor:
    """Logs in like a browser (form + CSRF token) and calls the panel's JSON endpoints."""

    def __init__(self, base_url: str, username: str, password: str, rng: random.Random):
        self.base_url, self.username, self.password, self.rng = base_url, username, password, rng
        self.http = requests.Session()
        self.logged_in = False

    def login(self) -> bool:
        page = self.http.get(f"{self.base_url}/admin/login", timeout=5)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        if not match:
            log.warning("demo monitor: no CSRF token on the login page (HTTP %s)", page.status_code)
            return False
        resp = self.http.post(f"{self.base_url}/admin/login", timeout=5, allow_redirects=False, data={
            "username": self.username, "password": self.password, "csrf_token": match.group(1)})
        self.logged_in = resp.status_code == 302
        if not self.logged_in:
            log.warning("demo monitor: login answered %s", resp.status_code)
        return self.logged_in

    def visit(self) -> int | None:
        """GET one panel endpoint; returns its status (None when not logged in or not answering)."""
        try:
            if not self.logged_in and not self.login():
                return None
            resp = self.http.get(self.base_url + self.rng.choice(PANEL_PATHS), timeout=10,
                                 allow_redirects=False)
        except requests.RequestException as exc:  # the server stopping or overloaded: one line, no trace
            log.warning("demo monitor: %s did not answer (%s)", self.base_url, type(exc).__name__)
            return None
        if resp.status_code in (401, 302):
            self.logged_in = False  # the session ended (timeout, password change): log in again
        return resp.status_code


def base_url(app: Flask) -> str:
    """Where this process serves HTTP (from --host/--port); wildcard addresses mean loopback."""
    host = app.config.get("SERVER_HOST") or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{app.config.get('SERVER_PORT') or 5000}"


# -- background tasks -------------------------------------------------------------------------

def _loop(name: str, interval: float, step) -> None:
    """Call ``step`` every ``interval`` seconds until stopped; a failing step is logged, never fatal."""
    while not _stop.is_set():
        began = time.monotonic()
        try:
            step()
        except Exception as exc:  # the demo must keep going whatever one tick hit
            circuit_breaker.log_failure(log, f"demo {name}: a step (continuing)", exc)
        socketio.sleep(max(0.05, interval - (time.monotonic() - began)))


def start_live(app: Flask, shop: Shop | None = None, *, rate_multiplier: float = 1.0, interval: float = 1.0,
               visit_panel: bool = True, custom: custom_metrics.CustomMetrics | None = None) -> LiveTraffic:
    """Start the live traffic (and the monitor) as background tasks; at most once per process."""
    with _lock:
        if _tasks:
            raise RuntimeError("demo traffic is already running in this process")
        _stop.clear()
        traffic = LiveTraffic(app, shop or Shop(random.Random(), utcnow()), rate_multiplier, custom)
        traffic.adopt_pending(utcnow())
        _tasks.append(socketio.start_background_task(_loop, "traffic", interval,
                                                     lambda: traffic.tick(utcnow(), interval)))
        if visit_panel:
            traffic.heartbeat = demo_monitors.start(app, traffic.shop, base_url(app))
            visitor = PanelVisitor(base_url(app), MONITOR_USERNAME, ensure_monitor(app), traffic.shop.rng)
            _tasks.append(socketio.start_background_task(_when_serving, app, visitor))
    return traffic


def _when_serving(app: Flask, visitor: PanelVisitor) -> None:
    """Once the server answers: show how to log in (after its start-up lines), then visit it."""
    if demo_console.wait_until_serving(visitor.base_url, _stop):
        demo_console.announce(app, visitor.base_url)
        _loop("monitor", 2.0, visitor.visit)
    elif not _stop.is_set():
        log.warning("demo monitor: %s never answered; the panel is not visited", visitor.base_url)


def stop(timeout: float = 10) -> None:
    """Stop the background tasks and wait for them to finish."""
    _stop.set()
    with _lock:
        for task in _tasks:
            task.join(timeout)
        _tasks.clear()
    demo_monitors.stop()


def start(app: Flask) -> None:
    """Demo mode: backfill on first start (printing progress), then live traffic in the background."""
    days = float(app.config.get("DEMO_BACKFILL_DAYS", 30))
    result = backfill(app, days)
    if result is None:
        print("Demo: history already present; continuing with live traffic", flush=True)
    start_live(app, result["shop"] if result else None, custom=result.get("custom") if result else None)
    atexit.register(stop, 2)
