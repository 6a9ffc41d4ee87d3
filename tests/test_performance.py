"""Request timing, latency histograms, the system sampler and the performance JSON routes."""
from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import database
from services.monitor import RequestStat, SystemMetric
from services.monitor import histogram
from services.monitor import performance_monitor
from services.monitor import stats as performance_stats
from services.monitor import RequestTimer
from services.monitor import CpuMeter, NetCounters, RateMeter, Sampler


def exact_percentile(values, q):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


# -- histogram ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_histogram_percentiles_within_bucket_error(seed):
    rng = random.Random(seed)
    # A realistic mix: fast cached answers, a lognormal body and a slow tail.
    values = ([rng.uniform(0.2, 2) for _ in range(3000)]
              + [rng.lognormvariate(3, 0.8) for _ in range(6000)]
              + [rng.uniform(500, 5000) for _ in range(300)])
    hist: dict[int, int] = {}
    for v in values:
        i = histogram.bucket_index(v)
        hist[i] = hist.get(i, 0) + 1
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        exact = exact_percentile(values, q)
        estimate = histogram.percentile(hist, q, max(values))
        assert abs(estimate - exact) / exact <= histogram.MAX_RELATIVE_ERROR + 1e-9, (q, exact, estimate)
    assert histogram.MAX_RELATIVE_ERROR < 0.1


def test_bucket_bounds_hold_their_values():
    for v in (0.011, 0.5, 1.0, 1.2, 37.3, 999.9, 60000):
        i = histogram.bucket_index(v)
        assert histogram.BUCKET_BOUNDS_MS[i - 1] < v <= histogram.BUCKET_BOUNDS_MS[i] * (1 + 1e-9)
    assert histogram.bucket_index(0.0) == 0
    assert histogram.percentile({}, 0.5) is None


def test_merged_histograms_equal_one_histogram_of_all_values():
    rng = random.Random(7)
    a = [rng.expovariate(1 / 40) for _ in range(2000)]
    b = [rng.expovariate(1 / 400) for _ in range(500)]
    ha, hb, hall = {}, {}, {}
    for vals, h in ((a, ha), (b, hb), (a + b, hall)):
        for v in vals:
            histogram.merge(h, {histogram.bucket_index(v): 1})
    merged = histogram.merge_all([histogram.to_json(ha), histogram.to_json(hb)])
    assert merged == hall
    for q in (0.5, 0.95, 0.99):
        exact = exact_percentile(a + b, q)
        assert abs(histogram.percentile(merged, q) - exact) / exact <= histogram.MAX_RELATIVE_ERROR


# -- sampler -----------------------------------------------------------------------------------

def test_rates_come_from_counter_deltas():
    meter = RateMeter()
    assert meter.update(NetCounters(1000, 5000), 10.0) == (0.0, 0.0)  # first reading: no rate yet
    assert meter.update(NetCounters(3000, 5500), 12.0) == (1000.0, 250.0)
    # A counter that went backwards (interface reset) is no negative spike.
    assert meter.update(NetCounters(100, 6500), 14.0) == (0.0, 500.0)


def test_cpu_percent_from_cpu_time_deltas():
    from collections import namedtuple

    Times = namedtuple("Times", "user system idle iowait")
    readings = iter([Times(100, 50, 850, 0), Times(130, 60, 900, 10), Times(130, 60, 900, 10)])
    meter = CpuMeter(lambda: next(readings))
    assert meter.update() == 40.0  # 40 of 100 seconds busy (iowait counts as idle)
    assert meter.update() == 0.0   # no time passed


def test_sampler_values_in_range_with_fake_counters():
    readings = iter([NetCounters(0, 0), NetCounters(4096, 8192)])
    clock = iter([100.0, 102.0])
    sampler = Sampler(net=lambda: next(readings), clock=lambda: next(clock))
    values = sampler.sample()
    for key in ("cpu_percent", "memory_percent", "disk_percent"):
        assert 0.0 <= values[key] <= 100.0, key
    assert values["net_sent_bps"] == 2048.0 and values["net_recv_bps"] == 4096.0
    assert values["process_rss_bytes"] > 1_000_000
    assert values["load_1"] is None or values["load_1"] >= 0


def test_sample_writes_one_row(app):
    values = performance_monitor.sample(app)
    values = performance_monitor.sample(app)
    with database.session_scope(app) as s:
        rows = s.scalars(select(SystemMetric).order_by(SystemMetric.id)).all()
        assert len(rows) == 2
        assert rows[-1].memory_percent == values["memory_percent"]
        assert rows[-1].net_sent_bps >= 0 and rows[-1].host


# -- request timer -------------------------------------------------------------------------------

def _stats(app, **kw):
    performance_monitor.flush(app)
    with database.session_scope(app) as s:
        return performance_stats.endpoint_stats(s, **kw)


def test_requests_are_timed_per_endpoint_with_labels(admin_client, client, app):
    performance_monitor.flush(app)  # forget the logins of the fixtures
    with database.session_scope(app) as s:
        s.query(RequestStat).delete()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200  # never counted
    assert client.get("/no/such/page").status_code == 404
    assert admin_client.get("/admin/api/metrics/system").status_code == 200
    data = _stats(app)
    by_key = {(e["endpoint"], e["method"]): e for e in data["endpoints"]}
    assert by_key[("health.healthz", "GET")]["count"] == 3
    assert by_key[("health.healthz", "GET")]["label"] == "app"
    assert by_key[("health.healthz", "GET")]["db_queries_per_request"] >= 1  # the ping
    assert by_key[("(unmatched)", "GET")]["count"] == 1
    assert by_key[("api.metrics_system", "GET")]["label"] == "panel-api"
    assert not any("static" in e["endpoint"] for e in data["endpoints"])
    assert data["summary"]["count"] == 5
    assert data["timeline"][-1]["count"] == 5


def test_errors_count_as_5xx(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    performance_monitor.flush(app)
    assert client.get("/boom").status_code == 500
    assert client.get("/healthz").status_code == 200
    by_ep = {e["endpoint"]: e for e in _stats(app)["endpoints"]}
    assert by_ep["boom"]["errors"] == 1 and by_ep["boom"]["error_rate"] == 1.0
    assert by_ep["health.healthz"]["errors"] == 0


def test_two_processes_rows_add_up(app):
    """Rows of two processes (two timers) for the same minute merge into one answer."""
    now = database.utcnow()
    minute = int(now.timestamp() // 60)
    rng = random.Random(3)
    first, second = RequestTimer(), RequestTimer()
    values_a = [rng.uniform(1, 20) for _ in range(400)]
    values_b = [rng.uniform(100, 300) for _ in range(100)]
    for v in values_a:
        first.record(minute, "shop.checkout", "POST", "app", v, False)
    for i, v in enumerate(values_b):
        second.record(minute, "shop.checkout", "POST", "app", v, i < 10)
    for timer in (first, second):
        app.extensions["performance"].timer = timer
        assert performance_monitor.flush(app) == 1
    data = _stats(app, minutes=5, now=now)
    (row,) = [e for e in data["endpoints"] if e["endpoint"] == "shop.checkout"]
    allv = values_a + values_b
    assert row["count"] == 500 and row["errors"] == 10 and row["error_rate"] == 0.02
    assert row["avg_ms"] == pytest.approx(sum(allv) / 500, abs=0.01)
    for q, key in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        exact = exact_percentile(allv, q)
        assert abs(row[key] - exact) / exact <= histogram.MAX_RELATIVE_ERROR + 0.005, key
    with database.session_scope(app) as s:
        assert s.scalar(select(func.count(RequestStat.id))
                        .where(RequestStat.endpoint == "shop.checkout")) == 2


def test_concurrent_requests_are_all_counted():
    import threading

    timer = RequestTimer(fold_at=1000)  # small, so requests also fold while others append
    drained = []

    def worker(n):
        for i in range(5000):
            timer.record(1, "ep", "GET", "app", float(i % 50 + 1), i % 10 == 0)
            if n == 0 and i % 700 == 0:
                drained.append(timer.drain())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drained.append(timer.drain())
    total = sum(acc.count for batch in drained for acc in batch.values())
    errors = sum(acc.errors for batch in drained for acc in batch.values())
    buckets = sum(sum(acc.buckets.values()) for batch in drained for acc in batch.values())
    assert (total, errors, buckets) == (30000, 3000, 30000)


def test_failed_flush_keeps_the_counts(app, monkeypatch):
    minute = int(database.utcnow().timestamp() // 60)
    timer = app.extensions["performance"].timer
    timer.drain()
    timer.record(minute, "x.y", "GET", "app", 5.0, False)

    def broken(_app):
        raise RuntimeError("database down")

    monkeypatch.setattr(database, "session_scope", lambda _app=None: broken(_app))
    with pytest.raises(RuntimeError):
        performance_monitor.flush(app)
    monkeypatch.undo()
    timer.record(minute, "x.y", "GET", "app", 7.0, False)
    by_ep = {e["endpoint"]: e for e in _stats(app)["endpoints"]}
    assert by_ep["x.y"]["count"] == 2 and by_ep["x.y"]["avg_ms"] == 6.0


# -- JSON routes ---------------------------------------------------------------------------------

def test_performance_api(admin_client, app):
    minute = int(database.utcnow().timestamp() // 60)
    timer = app.extensions["performance"].timer
    for ms in (10, 20, 30, 40):
        timer.record(minute, "shop.cart", "GET", "app", ms, ms == 40)
    performance_monitor.flush(app)
    body = admin_client.get("/admin/api/performance?minutes=15").get_json()
    (cart,) = [e for e in body["endpoints"] if e["endpoint"] == "shop.cart"]
    assert {k: cart[k] for k in ("method", "label", "count", "error_rate", "avg_ms")} == {
        "method": "GET", "label": "app", "count": 4, "error_rate": 0.25, "avg_ms": 25.0}
    assert all(cart[k] is not None for k in ("rpm", "p50_ms", "p95_ms", "p99_ms"))
    assert 1 <= len(body["timeline"]) <= 15
    only_app = admin_client.get("/admin/api/performance?label=app").get_json()
    assert {e["label"] for e in only_app["endpoints"]} == {"app"}
    bad = admin_client.get("/admin/api/performance?minutes=0")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_parameter"
    assert admin_client.get("/admin/api/performance?label=nope").status_code == 400


def test_system_api(admin_client, viewer_client, client, app):
    performance_monitor.sample(app)
    body = viewer_client.get("/admin/api/metrics/system?minutes=5").get_json()
    assert len(body["points"]) == 1
    point = body["points"][0]
    assert 0 <= point["cpu_percent"] <= 100 and 0 <= point["memory_percent"] <= 100
    assert client.get("/admin/api/metrics/system").status_code == 401
    assert admin_client.get("/admin/api/metrics/system?minutes=abc").status_code == 400


def test_old_rows_fall_out_of_the_window(app):
    old = database.utcnow() - timedelta(minutes=90)
    with database.session_scope(app) as s:
        s.add(RequestStat(minute=old.replace(second=0, microsecond=0), endpoint="old.one",
                          method="GET", label="app", count=9, buckets={"50": 9}))
    names = {e["endpoint"] for e in _stats(app, minutes=60)["endpoints"]}
    assert "old.one" not in names
    assert "old.one" in {e["endpoint"] for e in _stats(app, minutes=120)["endpoints"]}
