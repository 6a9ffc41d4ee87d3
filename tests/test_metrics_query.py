"""Reading metrics back: the numbers a query answers are the numbers that were pushed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import database
from services.monitor.models import SystemMetric
from tests.metrics_helpers import INGEST, minute_ago, push, query


def _at(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat()


def _points(answer, labels=None):
    series = [s for s in answer["series"] if labels is None or s["labels"] == labels]
    assert len(series) == 1, answer["series"]
    return {t: v for t, v in series[0]["points"]}


# (seconds after the base minute, value): two points in the first minute, three in the second,
# one in the fourth; hand-computed figures below.
GAUGE = [(5, 10.0), (50, 30.0), (61, 4.0), (90, 8.0), (119, 6.0), (200, 1.5)]


@pytest.fixture
def gauge(app, client):
    base = minute_ago(40)
    resp = push(client, [{"name": "inference_ms", "value": v, "labels": {"model": "a"},
                          "timestamp": _at(base, s)} for s, v in GAUGE]
                + [{"name": "inference_ms", "value": 100.0, "labels": {"model": "b"},
                    "timestamp": _at(base, 30)}])
    assert resp.status_code == 202
    return base


@pytest.mark.parametrize("agg, first, second, fourth", [
    ("sum", 40.0, 18.0, 1.5), ("avg", 20.0, 6.0, 1.5), ("min", 10.0, 4.0, 1.5),
    ("max", 30.0, 8.0, 1.5), ("last", 30.0, 6.0, 1.5), ("count", 2, 3, 1),
])
def test_per_minute_figures_equal_the_pushed_points(admin_client, gauge, agg, first, second, fourth):
    base = gauge
    answer = query(admin_client, name="inference_ms", agg=agg, step="60", match='model="a"',
                   start=base.isoformat(), end=(base + timedelta(minutes=5)).isoformat())
    assert answer["resolution"] == "minute"
    t = [(base + timedelta(minutes=m)).isoformat() for m in (0, 1, 3)]
    assert _points(answer) == {t[0]: first, t[1]: second, t[2]: fourth}


@pytest.mark.parametrize("agg", ["sum", "avg", "min", "max", "last", "count"])
def test_hourly_figures_equal_the_pushed_points(admin_client, gauge, agg):
    base = gauge
    per_hour: dict[datetime, list[tuple[datetime, float]]] = {}
    for s, v in GAUGE:
        at = base + timedelta(seconds=s)
        per_hour.setdefault(at.replace(minute=0, second=0), []).append((at, v))
    reduce = {"sum": lambda xs: sum(v for _, v in xs), "avg": lambda xs: sum(v for _, v in xs) / len(xs),
              "min": lambda xs: min(v for _, v in xs), "max": lambda xs: max(v for _, v in xs),
              "last": lambda xs: max(xs)[1], "count": len}[agg]
    expected = {h.isoformat(): pytest.approx(reduce(xs)) for h, xs in per_hour.items()}
    answer = query(admin_client, name="inference_ms", agg=agg, step="1h", match="model=a",
                   start=(base - timedelta(hours=1)).isoformat(), end=(base + timedelta(hours=1)).isoformat())
    assert answer["resolution"] == "hour"
    assert _points(answer) == expected


def test_raw_resolution_for_a_fine_step(admin_client, gauge):
    base = gauge
    answer = query(admin_client, name="inference_ms", agg="max", step="30s", match="model=a",
                   start=base.isoformat(), end=(base + timedelta(minutes=4)).isoformat())
    assert answer["resolution"] == "raw"
    assert _points(answer) == {_at(base, 0): 10.0, _at(base, 30): 30.0, _at(base, 60): 4.0,
                               _at(base, 90): 8.0, _at(base, 180): 1.5}


def test_group_by_and_matchers(admin_client, gauge):
    base = gauge
    window = {"start": base.isoformat(), "end": (base + timedelta(minutes=1)).isoformat()}
    both = query(admin_client, name="inference_ms", agg="sum", step="60", group_by="", **window)
    assert both["series"] == [{"labels": {}, "points": [[base.isoformat(), 140.0]]}]
    per_model = query(admin_client, name="inference_ms", agg="max", step="60", group_by="model", **window)
    assert {s["labels"]["model"]: s["points"][0][1] for s in per_model["series"]} == {"a": 30.0, "b": 100.0}
    not_a = query(admin_client, name="inference_ms", agg="max", step="60", match="model!=a", **window)
    assert [s["labels"] for s in not_a["series"]] == [{"model": "b"}]


def test_counter_rate_survives_a_reset(app, client, admin_client):
    # Windows are aligned to multiples of the step since 1970: start on a 10-minute edge.
    base = datetime.fromtimestamp(minute_ago(30).timestamp() // 600 * 600, timezone.utc)
    # 10 -> 15 (+5) | reset: 3 (+3) -> 8 (+5): 13 in all, over two batches.
    first = [{"name": "jobs_total", "type": "counter", "value": v, "timestamp": _at(base, s)}
             for s, v in ((1, 10), (100, 15))]
    second = [{"name": "jobs_total", "type": "counter", "value": v, "timestamp": _at(base, s)}
              for s, v in ((200, 3), (400, 8))]
    assert push(client, first).status_code == 202 and push(client, second).status_code == 202
    window = {"start": base.isoformat(), "end": (base + timedelta(minutes=10)).isoformat()}
    answer = query(admin_client, name="jobs_total", agg="rate", step="600", **window)
    assert _points(answer) == {base.isoformat(): pytest.approx(13 / 600)}
    per_minute = query(admin_client, name="jobs_total", agg="rate", step="60", **window)
    assert _points(per_minute) == {base.isoformat(): 0.0, _at(base, 60): pytest.approx(5 / 60),
                                   _at(base, 180): pytest.approx(3 / 60), _at(base, 360): pytest.approx(5 / 60)}
    hourly = query(admin_client, name="jobs_total", agg="rate", step="1h",
                   start=(base - timedelta(hours=1)).isoformat(), end=(base + timedelta(hours=1)).isoformat())
    assert sum(v for _, v in hourly["series"][0]["points"]) * 3600 == pytest.approx(13)
    gauge_rate = admin_client.get("/admin/api/metrics/query?name=jobs_total&agg=rate&step=60")
    assert gauge_rate.status_code == 200
    push(client, [{"name": "temp", "value": 1}])
    refused = admin_client.get("/admin/api/metrics/query?name=temp&agg=rate&step=60")
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "agg"


@pytest.mark.parametrize("params, field", [
    ("agg=avg", "name"), ("name=x&agg=median", "agg"), ("name=x&step=0", "step"),
    ("name=x&step=5w", "step"), ("name=x&start=2026-01-02&end=2026-01-01", "start"),
    ("name=x&step=1&start=2026-01-01&end=2026-01-02", "step"), ("name=x&match=a~b", "match"),
    ("name=x&group_by=a-b", "group_by"), ("name=x&start=2020-01-01&end=2026-01-01&step=1d", "start"),
])
def test_bad_query_names_the_parameter(admin_client, params, field):
    resp = admin_client.get(f"/admin/api/metrics/query?{params}")
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field


def test_query_and_catalog_need_a_login(client):
    for path in ("/admin/api/metrics/query?name=x", "/admin/api/metrics/catalog"):
        assert client.get(path).status_code == 401


def test_system_samples_are_builtin_metrics(app, admin_client):
    base = minute_ago(3)
    samples = [(0, 10.0, 40.0), (20, 30.0, 42.0), (70, 50.0, 44.0)]
    with database.session_scope(app) as s:
        for sec, cpu, mem in samples:
            s.add(SystemMetric(recorded_at=base + timedelta(seconds=sec), host="web-1", cpu_percent=cpu,
                               memory_percent=mem, disk_percent=70.0))
    window = {"start": base.isoformat(), "end": (base + timedelta(minutes=3)).isoformat()}
    cpu = query(admin_client, name="cpu_percent", agg="avg", step="60", **window)
    assert cpu["series"] == [{"labels": {"host": "web-1"},
                              "points": [[base.isoformat(), 20.0], [_at(base, 60), 50.0]]}]
    mem = query(admin_client, name="memory_percent", agg="max", step="1h", **window)
    assert [v for _, v in mem["series"][0]["points"]] == [44.0] or \
        sorted(v for _, v in mem["series"][0]["points"]) == [42.0, 44.0]  # the samples may straddle an hour
    catalog = admin_client.get("/admin/api/metrics/catalog?q=percent").get_json()["series"]
    assert {(e["name"], e["last_value"]) for e in catalog} == {
        ("cpu_percent", 50.0), ("memory_percent", 44.0), ("disk_percent", 70.0)}


def test_revenue_and_orders_equal_the_analytics_figures(app, client, admin_client):
    now = datetime.now(timezone.utc)
    created = (now - timedelta(hours=2)).isoformat()
    txs = [("t1", 1250, "EUR", "completed"), ("t2", 800, "EUR", "completed"), ("t3", 999, "EUR", "failed"),
           ("t4", 5000, "USD", "completed")]
    resp = client.post("/api/v1/events", headers=INGEST, json={"transactions": [
        {"id": i, "amount_cents": a, "currency": c, "status": st, "customer_id": "c1", "created_at": created}
        for i, a, c, st in txs]})
    assert resp.status_code == 202
    window = {"start": (now - timedelta(hours=6)).isoformat(), "end": now.isoformat()}
    revenue = query(admin_client, name="revenue_cents", agg="sum", step="1d", group_by="currency", **window)
    totals = {s["labels"]["currency"]: sum(v for _, v in s["points"]) for s in revenue["series"]}
    api = admin_client.get("/admin/api/analytics/revenue", query_string={**window, "currency": "EUR"}).get_json()
    assert totals == {"EUR": 2050.0, "USD": 5000.0}
    assert totals["EUR"] == api["summary"]["total_cents"]
    orders = query(admin_client, name="orders", agg="sum", step="1d", match="currency=EUR", **window)
    assert sum(v for _, v in orders["series"][0]["points"]) == 2 == api["summary"]["orders"]
