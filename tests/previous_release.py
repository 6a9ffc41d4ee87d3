"""A database as the last release before schema migrations left it: its frozen DDL, realistic rows.

Rows are written with SQLAlchemy Core on tables reflected from that database, never through
today's models, so the builder keeps describing the old schema whatever the models become.
"""
from __future__ import annotations

import random
import secrets
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.engine import Engine
from werkzeug.security import generate_password_hash

FIXTURES = Path(__file__).resolve().parent / "fixtures"
USER = ("olduser", "old-password-123")
CURRENCIES = ("USD", "EUR", "GBP")
STATUSES = ("completed", "completed", "completed", "pending", "failed", "refunded")


def build(engine: Engine) -> None:
    """Create the previous release's tables and indexes on an empty database."""
    ddl = (FIXTURES / f"schema_previous_release.{engine.dialect.name}.sql").read_text()
    ddl = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in filter(None, (s.strip() for s in ddl.split("\n;\n"))):
            conn.exec_driver_sql(statement.rstrip(";"))


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)  # the old schema stores naive UTC


def fill(engine: Engine, transactions: int = 600, seed: int = 16) -> dict[str, Any]:
    """Insert rows in every table as the old release wrote them; returns the figures they make."""
    rng = random.Random(seed)
    meta = MetaData()
    tables = {name: Table(name, meta, autoload_with=engine) for name in inspect(engine).get_table_names()}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows["users"] = [
        {"id": 1, "username": USER[0], "password_hash": generate_password_hash(USER[1], "pbkdf2:sha256:1000"),
         "role": "admin", "session_token": secrets.token_hex(32), "is_active": True,
         "created_at": _naive(now - timedelta(days=40)), "password_changed_at": _naive(now - timedelta(days=40)),
         "last_login_at": _naive(now - timedelta(hours=3))},
        {"id": 2, "username": "watcher", "password_hash": generate_password_hash("watcher-pass-1", "pbkdf2:sha256:1000"),
         "role": "viewer", "session_token": secrets.token_hex(32), "is_active": False,
         "created_at": _naive(now - timedelta(days=20)), "password_changed_at": _naive(now - timedelta(days=2)),
         "last_login_at": None},
    ]
    rows["login_sessions"] = [{"id": secrets.token_hex(16), "user_id": 1, "started_at": _naive(now - timedelta(hours=3)),
                               "last_seen_at": _naive(now - timedelta(minutes=5))}]
    revenue: dict[str, int] = defaultdict(int)
    orders: dict[str, int] = defaultdict(int)
    by_channel: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first_seen: dict[str, datetime] = {}
    for i in range(transactions):
        created = now - timedelta(days=9, hours=12) + timedelta(seconds=rng.randrange(9 * 86400))
        currency, status = rng.choice(CURRENCIES), rng.choice(STATUSES)
        amount = rng.randrange(100, 250_000)
        customer = f"cus_{rng.randrange(120):04d}" if rng.random() < 0.9 else None
        channel = rng.choice(("web", "mobile", "partner", None))
        rows["transactions"].append({
            "id": f"txn_{i:06d}", "amount_cents": amount, "currency": currency, "status": status,
            "customer_id": customer, "channel": channel, "created_at": _naive(created),
            "updated_at": _naive(created + timedelta(seconds=30)), "received_at": _naive(created + timedelta(seconds=1))})
        bucket = _naive(created).replace(minute=created.minute - created.minute % 15, second=0)
        counts = by_channel[(bucket, currency, channel or "")]
        counts[status] += 1
        if status == "completed":
            counts["revenue_cents"] += amount
            revenue[currency] += amount
            orders[currency] += 1
        if customer and (customer not in first_seen or _naive(created) < first_seen[customer]):
            first_seen[customer] = _naive(created)
    per_currency: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (bucket, currency, channel), counts in by_channel.items():
        rows["revenue_rollups"].append({"bucket_start": bucket, "currency": currency, "channel": channel,
                                        **_counters(counts)})
        for key, value in counts.items():
            per_currency[(bucket, currency)][key] += value
    rows["currency_rollups"] = [{"bucket_start": b, "currency": c, **_counters(v)} for (b, c), v in per_currency.items()]
    rows["customer_first_seen"] = [{"customer_id": c, "first_seen_at": t} for c, t in first_seen.items()]
    for i in range(300):
        at = _naive(now - timedelta(minutes=7 * i))
        rows["user_activity"].append({"user_id": f"u{i % 37}", "action": rng.choice(("login", "view", "purchase")),
                                      "detail": f"page /p/{i}" if i % 3 else None, "created_at": at})
        rows["system_metrics"].append({"recorded_at": at, "host": "web-1", "cpu_percent": rng.uniform(1, 90),
                                       "memory_percent": 41.5, "disk_percent": 63.25, "net_sent_bps": 1200.0,
                                       "net_recv_bps": 3400.5, "load_1": 0.5, "load_5": None, "load_15": 0.25,
                                       "process_rss_bytes": 123_456_789})
        rows["request_stats"].append({"minute": at.replace(second=0), "endpoint": "pages.dashboard", "method": "GET",
                                      "label": "app", "count": 10 + i, "errors": i % 4, "total_ms": 512.5,
                                      "max_ms": 88.0, "db_queries": 30, "db_ms": 40.25,
                                      "buckets": {"3": 4, "7": 6 + i}})
        rows["log_entries"].append({"created_at": at, "level": "WARNING" if i % 5 else "ERROR",
                                    "level_no": 30 if i % 5 else 40, "service": "billing", "logger": "billing.api",
                                    "message": f"slow upstream {i} — naïve “quotes” ✓"})
        rows["audit_log"].append({"created_at": at, "actor": USER[0], "ip": "203.0.113.9", "action": "user.login",
                                  "target": None, "outcome": "success" if i % 9 else "failure",
                                  "detail": {"attempt": i, "agent": "Firefox"}})
    rows["alert_rules"] = [{"id": 100, "name": "Checkout errors", "metric": "error_rate", "operator": ">",
                            "threshold": 5.0, "for_seconds": 120, "severity": "critical", "enabled": True,
                            "channels": ["webhook"], "params": {"endpoint": "api.checkout"},
                            "snoozed_until": None, "builtin": False,
                            "created_at": _naive(now - timedelta(days=5)), "updated_at": _naive(now - timedelta(days=1))}]
    rows["alerts"] = [
        {"id": 1, "rule_id": 100, "rule_name": "Checkout errors", "metric": "error_rate", "severity": "critical",
         "status": "firing", "title": "Checkout errors: 7.5 > 5", "value": 7.5, "worst_value": 9.0, "threshold": 5.0,
         "started_at": _naive(now - timedelta(minutes=30)), "fired_at": _naive(now - timedelta(minutes=28)),
         "last_seen_at": _naive(now - timedelta(minutes=1)), "auto_resolved": False},
        {"id": 2, "rule_id": 100, "rule_name": "Checkout errors", "metric": "error_rate", "severity": "critical",
         "status": "resolved", "title": "Checkout errors: 6 > 5", "value": 4.0, "worst_value": 6.0, "threshold": 5.0,
         "started_at": _naive(now - timedelta(days=2)), "last_seen_at": _naive(now - timedelta(days=2)),
         "resolved_at": _naive(now - timedelta(days=2)), "resolved_by": USER[0], "resolve_note": "deploy rolled back",
         "auto_resolved": False},
    ]
    rows["alert_notifications"] = [{"id": 1, "alert_id": 1, "channel": "webhook", "event": "firing", "status": "sent",
                                    "attempts": 1, "created_at": _naive(now - timedelta(minutes=28)),
                                    "sent_at": _naive(now - timedelta(minutes=28))}]
    with engine.begin() as conn:
        for name in ("users", "login_sessions", "transactions", "revenue_rollups", "currency_rollups",
                     "customer_first_seen", "user_activity", "system_metrics", "request_stats", "log_entries",
                     "audit_log", "alert_rules", "alerts", "alert_notifications"):
            if name in tables and rows[name]:
                keys = {key for row in rows[name] for key in row}  # one executemany: same keys each row
                conn.execute(tables[name].insert(), [{k: row.get(k) for k in keys} for row in rows[name]])
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them, as the app would
            for name in ("users", "alert_rules", "alerts", "alert_notifications"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))"))
    return {"revenue": dict(revenue), "orders": dict(orders),
            "counts": {name: len(rows[name]) for name in tables}}


def _counters(counts: dict[str, int]) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in ("completed", "pending", "failed", "refunded", "revenue_cents")}


def snapshot(engine: Engine, names: list[str], like: dict | None = None) -> dict[str, list[tuple]]:
    """Every row of each table in primary-key order, as the database returns them.

    With ``like`` (an earlier snapshot), only the columns that one had: a later revision may add
    columns, and the rows must still hold every value they had.
    """
    meta = MetaData()
    out = {}
    with engine.connect() as conn:
        for name in names:
            table = Table(name, meta, autoload_with=conn)
            columns = [table.c[c] for c in like[name][0]] if like else list(table.c)
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns))
            out[name] = ([c.name for c in columns], [tuple(r) for r in rows])
    return out
