"""The panel's own figures as metrics: system samples, revenue and orders, requests, users.

Each provider reads the rollups or samples the panel already keeps and hands them over as
buckets, so the catalogue and the query treat them exactly like pushed series.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.ingest.models import CurrencyRollup, UserActivity
from services.monitor.models import RequestStat, SystemMetric
from services.monitor import histogram
from services.metrics.catalogue import SeriesRows, entry, register, rows_of
from services.metrics.rollups import Bucket
from services.products.metrics import CatalogueProvider

Keep = Callable[[dict[str, str]], bool]


class SystemProvider:
    """CPU, memory and disk use per host, one point per sample."""

    names = ("cpu_percent", "memory_percent", "disk_percent")

    def catalog(self, session: Session, now: datetime, config: dict) -> list[dict[str, Any]]:
        since = now - timedelta(minutes=10)
        counts = dict(session.execute(select(SystemMetric.host, func.count())
                                      .where(SystemMetric.recorded_at >= since)
                                      .group_by(SystemMetric.host)).all())
        latest = session.scalars(select(SystemMetric).order_by(SystemMetric.recorded_at.desc())
                                 .limit(1)).first()
        out = []
        if latest is None:
            return out
        for name in self.names:
            out.append(entry(name, {"host": latest.host}, "gauge", "percent",
                             getattr(latest, name), latest.recorded_at,
                             counts.get(latest.host, 0) / 10))
        return out

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        col = getattr(SystemMetric, name)
        per_host: dict[str, list] = defaultdict(list)
        for at, host, value in session.execute(
                select(SystemMetric.recorded_at, SystemMetric.host, col)
                .where(SystemMetric.recorded_at >= start, SystemMetric.recorded_at < end)
                .order_by(SystemMetric.recorded_at)):
            if value is not None:
                per_host[host].append((at, float(value)))
        return "raw", [SeriesRows(name, {"host": h}, "gauge", "percent", rows_of(v))
                       for h, v in sorted(per_host.items()) if keep({"host": h})]


class RevenueProvider:
    """Per currency: completed revenue (minor units) and orders per 15-minute rollup bucket."""

    names = ("revenue_cents", "orders", "failed_payments", "failed_payment_percent")
    COLUMNS = {"revenue_cents": ("revenue_cents", "cents"), "orders": ("completed", "orders"),
               "failed_payments": ("failed", "payments")}
    # Failed share of settled payments, weighted: a bucket counts its settled payments and sums
    # 100 x its failed ones, so ``avg`` over any window or step is failed / settled of the whole
    # window (what the shipped "Failed payments" rule compares), not a mean of per-bucket shares.
    SHARE = "failed_payment_percent"

    @staticmethod
    def _share(row, at) -> Bucket:
        settled = int(row.completed) + int(row.failed) + int(row.refunded)
        share = 100.0 * row.failed / settled if settled else 0.0
        return Bucket(settled, 100.0 * row.failed, share, share, share, at, 0.0)

    def catalog(self, session, now, config):
        out = []
        latest = session.scalar(select(func.max(CurrencyRollup.bucket_start)))
        if latest is None:
            return out
        rows = {r.currency: r for r in session.scalars(
            select(CurrencyRollup).where(CurrencyRollup.bucket_start == latest))}
        currencies = sorted(session.scalars(select(CurrencyRollup.currency).distinct()))
        for name, (column, unit) in self.COLUMNS.items():
            for cur in currencies:
                row = rows.get(cur)
                out.append(entry(name, {"currency": cur}, "gauge", unit,
                                 float(getattr(row, column)) if row else None,
                                 latest if row else None, 1 / 15))
        for cur in currencies:
            row = rows.get(cur)
            out.append(entry(self.SHARE, {"currency": cur}, "gauge", "percent",
                             self._share(row, latest).last if row else None, latest if row else None,
                             1 / 15))
        return out

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        r = CurrencyRollup
        # A bucket counts from its start: the range starts at the bucket holding ``start``.
        first = datetime.fromtimestamp(start.timestamp() // 900 * 900, timezone.utc)
        if name == self.SHARE:
            shares: dict[str, list] = defaultdict(list)
            for row in session.execute(
                    select(r.bucket_start, r.currency, r.completed, r.failed, r.refunded)
                    .where(r.bucket_start >= first, r.bucket_start < end).order_by(r.bucket_start)):
                shares[row.currency].append((row.bucket_start.timestamp(), self._share(row, row.bucket_start)))
            return "15m", [SeriesRows(name, {"currency": c}, "gauge", "percent", v)
                           for c, v in sorted(shares.items()) if keep({"currency": c})]
        column, unit = self.COLUMNS[name]
        per_cur: dict[str, list] = defaultdict(list)
        for at, cur, value in session.execute(
                select(r.bucket_start, r.currency, getattr(r, column))
                .where(r.bucket_start >= first, r.bucket_start < end).order_by(r.bucket_start)):
            per_cur[cur].append((at, float(value)))
        return "15m", [SeriesRows(name, {"currency": c}, "gauge", unit, rows_of(v))
                       for c, v in sorted(per_cur.items()) if keep({"currency": c})]


class RequestProvider:
    """Per endpoint and minute: requests, the share that failed, and the 95th percentile latency."""

    names = ("http_requests_per_minute", "http_error_ratio", "http_latency_p95_ms",
             "http_error_percent", "http_response_avg_ms")
    UNITS = {"http_requests_per_minute": "requests", "http_error_ratio": "ratio",
             "http_latency_p95_ms": "ms", "http_error_percent": "percent", "http_response_avg_ms": "ms"}
    # Weighted by requests: a minute's bucket counts its requests and sums 100 x its errors (or
    # its milliseconds), so ``avg`` over a window or step is the share of all requests in it that
    # failed (the mean time of all of them), as the live card and the shipped rules define it.
    WEIGHTED = {"http_error_percent": lambda acc: 100.0 * acc[1],
                "http_response_avg_ms": lambda acc: acc[4]}

    def _minutes(self, session, start, end):
        s = RequestStat
        merged: dict[tuple, list] = {}
        for minute, endpoint, method, label, count, errors, max_ms, total_ms, buckets in session.execute(
                select(s.minute, s.endpoint, s.method, s.label, s.count, s.errors, s.max_ms,
                       s.total_ms, s.buckets)
                .where(s.minute >= start, s.minute < end)):
            key = ((endpoint, method, label), minute)
            acc = merged.setdefault(key, [0, 0, 0.0, {}, 0.0])
            acc[0] += count
            acc[1] += errors
            acc[2] = max(acc[2], max_ms)
            histogram.merge(acc[3], buckets or {})
            acc[4] += total_ms or 0.0
        return merged

    def _value(self, name, acc) -> float | None:
        count, errors, max_ms, buckets, _ = acc
        if name == "http_requests_per_minute":
            return float(count)
        if not count:
            return None
        if name in self.WEIGHTED:
            return self.WEIGHTED[name](acc) / count
        if name == "http_error_ratio":
            return errors / count
        return histogram.percentile(buckets, 0.95, max_ms or None)

    def _bucket(self, name, acc, minute) -> Bucket | None:
        value = self._value(name, acc)
        if value is None:
            return None
        if name in self.WEIGHTED:
            return Bucket(acc[0], self.WEIGHTED[name](acc), value, value, value, minute, 0.0)
        return Bucket.of(value, minute, None)

    @staticmethod
    def _labels(key):
        return {"endpoint": key[0], "method": key[1], "label": key[2]}

    def catalog(self, session, now, config):
        since = now.replace(second=0, microsecond=0) - timedelta(minutes=10)
        merged = self._minutes(session, since, now + timedelta(minutes=1))
        last: dict[tuple, tuple] = {}
        per: dict[tuple, int] = defaultdict(int)
        for (key, minute), acc in merged.items():
            per[key] += 1
            if key not in last or minute > last[key][0]:
                last[key] = (minute, acc)
        out = []
        for name in self.names:
            for key in sorted(last):
                minute, acc = last[key]
                out.append(entry(name, self._labels(key), "gauge", self.UNITS[name],
                                 self._value(name, acc), minute, per[key] / 10))
        return out

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        first = start.replace(second=0, microsecond=0)
        per_key: dict[tuple, list] = defaultdict(list)
        for (key, minute), acc in sorted(self._minutes(session, first, end).items(),
                                         key=lambda kv: kv[0][1]):
            bucket = self._bucket(name, acc, minute)
            if bucket is not None:
                per_key[key].append((minute.timestamp(), bucket))
        return "minute", [SeriesRows(name, self._labels(k), "gauge", self.UNITS[name], v)
                          for k, v in sorted(per_key.items()) if keep(self._labels(k))]


def _slot_sql(dialect: str, step: int) -> str:
    if dialect == "postgresql":
        return f"CAST(floor(extract(epoch FROM created_at) / {step}) AS BIGINT)"
    return f"(CAST(strftime('%s', created_at) AS INTEGER) / {step})"


class ActiveUsersProvider:
    """Distinct users with any activity, per step-wide window (the live figure's definition)."""

    names = ("active_users",)

    def catalog(self, session, now, config):
        minutes = int(config.get("ACTIVE_USER_MINUTES", 5))
        count = session.scalar(select(func.count(func.distinct(UserActivity.user_id)))
                               .where(UserActivity.created_at >= now - timedelta(minutes=minutes)))
        return [entry("active_users", {}, "gauge", "users", float(count or 0), now, 1.0)]

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        if not keep({}):
            return "step", []
        first = datetime.fromtimestamp(start.timestamp() // step * step, timezone.utc)
        slot = _slot_sql(session.get_bind().dialect.name, step)
        sql = text(f"SELECT {slot} AS slot, COUNT(DISTINCT user_id) FROM user_activity "
                   "WHERE created_at >= :a AND created_at < :b GROUP BY 1 ORDER BY 1")
        naive = {"a": first.replace(tzinfo=None), "b": end.astimezone(timezone.utc).replace(tzinfo=None)}
        rows = []
        for slot_no, users in session.execute(sql, naive):
            at = datetime.fromtimestamp(int(slot_no) * step, timezone.utc)
            rows.append((at.timestamp(), Bucket.of(float(users), at, None)))
        return "step", [SeriesRows(name, {}, "gauge", "users", rows)]


def register_all() -> None:
    """Register the built-in providers (once)."""
    for provider in (SystemProvider(), RevenueProvider(), RequestProvider(), ActiveUsersProvider(),
                     RefusalProvider(), CatalogueProvider()):
        register(provider)


class RefusalProvider:
    """Points refused per metric name for passing ``METRIC_MAX_SERIES`` (a counter since start)."""

    names = ("metrics_refused_points",)

    def catalog(self, session, now, config):
        from services.metrics.models import MetricRefusal

        return [entry(self.names[0], {"metric": r.name}, "counter", "points", float(r.refused),
                      r.last_at, 0.0)
                for r in session.scalars(select(MetricRefusal).order_by(MetricRefusal.name))]

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        from services.metrics.models import MetricRefusal

        out = []
        for r in session.scalars(select(MetricRefusal).where(MetricRefusal.last_at >= start,
                                                             MetricRefusal.last_at < end)):
            if keep({"metric": r.name}):
                out.append(SeriesRows(name, {"metric": r.name}, "counter", "points",
                                      rows_of([(r.last_at, float(r.refused))])))
        return "last", out
