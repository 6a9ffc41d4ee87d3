"""/metrics latency histogram against the Performance page, read the way Prometheus reads it.

Known latency distributions go through the request timer and its flush (the production path
after the clock); the exposition is parsed with prometheus_client's parser, quantiles computed
with Prometheus's documented histogram_quantile over the increase between two scrapes, and
promtool confirms the same quantiles with Prometheus's own engine.
"""
from __future__ import annotations

import random
import time

import pytest

from services.monitor import histogram
from services.monitor import performance_monitor
from services.prometheus import LE_SECONDS, QUANTILE_ERROR, QUANTILE_ERROR_AT_MAX, SeriesGate
from tests.helpers import ADMIN
from tests.promql import (
    TOKEN, buckets, close_to, histogram_quantile, run_promtool_tests, scrape, series_line, value,
)

DURATION = "adminpanel_http_request_duration_seconds"
QUANTILES = (0.5, 0.95, 0.99)


def _distributions(rng: random.Random) -> dict[tuple[str, str], list[float]]:
    """Latencies (ms) per (endpoint, method): shapes a panel really sees, and a small sample."""
    return {
        ("api.analytics_revenue", "GET"): [rng.lognormvariate(3.7, 0.6) for _ in range(500)],
        ("pages.dashboard", "GET"): [rng.uniform(2.0, 12.0) for _ in range(300)],
        # Mostly fast, a slow tail: p50 and p99 in different decades.
        ("ingest_api.post_events", "POST"): [max(0.2, rng.gauss(3.0, 0.5)) if rng.random() < 0.85
                                             else rng.uniform(300.0, 2500.0) for _ in range(400)],
        ("api.metrics_system", "GET"): [5.0 + rng.expovariate(1 / 150.0) for _ in range(200)],
        ("health.healthz", "GET"): [rng.uniform(0.15, 0.9) for _ in range(250)],
        # Seven requests: p95 and p99 fall in the slowest request's bucket (4187-5024 ms), and
        # the page shows that request itself (it lies below the bucket's middle).
        ("api.user_activity", "GET"): [1.2, 3.3, 8.0, 15.0, 40.0, 90.0, 4300.0],
    }


def _record(app, latencies: dict[tuple[str, str], list[float]]) -> None:
    """Queue each latency as the timing middleware does, then flush to request_stats."""
    paths = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    append = app.extensions["performance"].timer.append
    for (endpoint, method), values in latencies.items():
        for ms in values:
            append((time.perf_counter(), endpoint, method, "200 OK", ms, [0, 0.0], paths[endpoint]))
    performance_monitor.flush(app)


def _increase(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {le: after[le] - before.get(le, 0.0) for le in after}


@pytest.fixture
def metrics_app(make_app):
    return make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=0)


def test_quantiles_agree_with_the_performance_page(metrics_app, tmp_path):
    app = metrics_app
    client = app.test_client()
    assert client.login(*ADMIN).status_code == 302
    latencies = _distributions(random.Random(14))
    before = scrape(client)
    _record(app, latencies)
    after = scrape(client)
    page = client.get("/admin/api/performance?minutes=60").get_json()
    rows = {(e["endpoint"], e["method"]): e for e in page["endpoints"]}

    checked, capped, tests = 0, 0, []
    for (endpoint, method), values in latencies.items():
        labels = {"endpoint": endpoint, "method": method, "label": rows[(endpoint, method)]["label"]}
        increase = _increase(buckets(before, DURATION, **labels), buckets(after, DURATION, **labels))
        assert len(increase) == len(LE_SECONDS) + 1
        row = rows[(endpoint, method)]
        assert row["count"] == len(values)
        for q in QUANTILES:
            prom_ms = histogram_quantile(q, increase) * 1000
            shown = row[f"p{round(q * 100)}_ms"]
            # The page shows the slowest request when it is below its bucket's middle.
            error = QUANTILE_ERROR_AT_MAX if shown == row["max_ms"] else QUANTILE_ERROR
            capped += shown == row["max_ms"]
            # + the page's rounding to 0.01 ms.
            assert abs(prom_ms - shown) <= error * (shown + 0.005) + 0.005 + 1e-9, \
                (endpoint, q, prom_ms, shown, error)
            checked += 1
            # Prometheus's engine must get the same number from the same samples.
            selector = series_line(f"{DURATION}_bucket", labels)
            expr = f"histogram_quantile({q}, sum by (le) (increase({selector}[15m])))"
            tests.append({"expr": close_to(expr, prom_ms / 1000), "eval_time": "15m",
                          "exp_samples": [{"labels": "{}", "value": 1}]})
    assert checked == len(latencies) * len(QUANTILES) and capped >= 2

    series = []
    for key, count in after[f"{DURATION}_bucket"].items():
        labels = dict(key)
        if (labels["endpoint"], labels["method"]) in latencies:
            first = before[f"{DURATION}_bucket"][key]
            # One sample before the requests, the counts after, scraped every minute for 15 minutes.
            series.append({"series": series_line(f"{DURATION}_bucket", labels),
                           "values": f"{first:g} {count:g}x14"})
    run_promtool_tests(tmp_path, "groups: []\n", [
        {"interval": "1m", "input_series": series, "promql_expr_test": tests}])


def test_every_le_count_is_exactly_the_requests_at_or_below_it(metrics_app):
    app = metrics_app
    client = app.test_client()
    latencies = _distributions(random.Random(7))
    # Values right on exposed bounds and on the fine bounds between them belong at or below them.
    latencies[("pages.dashboard", "GET")] += [LE_SECONDS[10] * 1000, histogram.BUCKET_BOUNDS_MS[40],
                                              LE_SECONDS[0] * 1000 / 2, 90_000.0]
    scrape(client)
    _record(app, latencies)
    after = scrape(client)
    for (endpoint, method), values in latencies.items():
        label = performance_monitor.label_for(next(r.rule for r in app.url_map.iter_rules()
                                                   if r.endpoint == endpoint))
        labels = {"endpoint": endpoint, "method": method, "label": label}
        got = buckets(after, DURATION, **labels)
        assert [float(le) for le in got if le != "+Inf"] == sorted(LE_SECONDS)
        for le, count in got.items():
            bound = float(le)
            assert count == sum(1 for ms in values if ms / 1000 <= bound), (endpoint, le)
        assert value(after, f"{DURATION}_count", **labels) == len(values)
        assert value(after, f"{DURATION}_sum", **labels) == pytest.approx(sum(values) / 1000)


def test_exposed_bounds_are_the_fine_histograms_own():
    fine = set(histogram.BUCKET_BOUNDS_MS)
    assert all(le * 1000 in fine or any(abs(le * 1000 - b) <= 1e-12 * b for b in fine) for le in LE_SECONDS)
    ratios = [b / a for a, b in zip(LE_SECONDS, LE_SECONDS[1:])]
    assert max(ratios) == pytest.approx(histogram.GROWTH)
    assert LE_SECONDS[0] < 0.000_11 and LE_SECONDS[-1] > 60.0
    assert QUANTILE_ERROR == pytest.approx(0.10) and QUANTILE_ERROR_AT_MAX == pytest.approx(0.20)


def test_every_route_is_at_zero_before_its_first_request(metrics_app):
    app = metrics_app
    client = app.test_client()
    first = scrape(client)
    routes = {(r.endpoint, m) for r in app.url_map.iter_rules() if not r.endpoint.endswith("static")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    exposed = {(dict(k)["endpoint"], dict(k)["method"]): v
               for k, v in first["adminpanel_http_requests_total"].items()}
    assert routes <= set(exposed)
    assert all(v == 0 for v in exposed.values())
    for key, count in first[f"{DURATION}_bucket"].items():
        assert count == 0, key
    # The first request of a route then counts from zero: increase() sees it.
    assert client.get("/healthz").status_code == 200
    performance_monitor.flush(app)
    second = scrape(client)
    healthz = {"endpoint": "health.healthz", "method": "GET", "label": "app"}
    assert value(first, "adminpanel_http_requests_total", **healthz) == 0
    assert value(second, "adminpanel_http_requests_total", **healthz) == 1


def test_a_series_first_seen_later_shows_zero_before_it_counts(metrics_app):
    app = metrics_app
    client = app.test_client()
    scrape(client)
    assert client.get("/no/such/page").status_code == 404
    assert client.head("/healthz").status_code == 200
    performance_monitor.flush(app)
    unmatched = {"endpoint": "(unmatched)", "method": "GET", "label": "app"}
    head = {"endpoint": "health.healthz", "method": "HEAD", "label": "app"}
    held = scrape(client)
    for labels in (unmatched, head):
        assert value(held, "adminpanel_http_requests_total", **labels) == 0
        assert value(held, f"{DURATION}_count", **labels) == 0
        assert set(buckets(held, DURATION, **labels).values()) == {0}
    counted = scrape(client)
    for labels in (unmatched, head):
        assert value(counted, "adminpanel_http_requests_total", **labels) == 1
        assert value(counted, f"{DURATION}_bucket", le="+Inf", **labels) == 1


def test_a_process_restart_continues_the_counters(make_app):
    app = make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=3600)
    client = app.test_client()
    scrape(client)
    assert client.get("/no/such/page").status_code == 404
    performance_monitor.flush(app)
    unmatched = {"endpoint": "(unmatched)", "method": "GET", "label": "app"}
    # Held for the whole hold time, whatever the number of scrapes.
    for _ in range(3):
        assert value(scrape(client), "adminpanel_http_requests_total", **unmatched) == 0
    # A new process on the same database (a restart) shows the stored totals at once: the series
    # existed before, and a zero would read as a counter reset.
    again = make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=3600)
    assert value(scrape(again.test_client()), "adminpanel_http_requests_total", **unmatched) == 1


def test_two_processes_on_one_database_expose_the_same_sums(make_app):
    one = make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=0)
    two = make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=0)
    firsts = [scrape(one.test_client()), scrape(two.test_client())]
    # Each process times its own requests of the same endpoint and minute and flushes its rows.
    _record(one, {("api.analytics_revenue", "GET"): [4.0, 40.0, 400.0]})
    _record(two, {("api.analytics_revenue", "GET"): [5.0, 50.0]})
    labels = {"endpoint": "api.analytics_revenue", "method": "GET", "label": "panel-api"}
    for first, app in zip(firsts, (one, two)):
        assert value(first, f"{DURATION}_count", **labels) == 0
        after = scrape(app.test_client())
        assert value(after, f"{DURATION}_count", **labels) == 5
        for le, count in buckets(after, DURATION, **labels).items():
            assert count == sum(1 for ms in (4.0, 40.0, 400.0, 5.0, 50.0) if ms / 1000 <= float(le))


def test_series_gate_holds_new_series_for_the_hold_time():
    now = [100.0]
    gate = SeriesGate(hold=30, clock=lambda: now[0])
    assert gate.admit({"a"}, known={"route"}) == {"a"}           # first scrape: continuity
    assert gate.admit({"a", "route", "b"}) == {"a", "route"}     # b first met: zero
    now[0] += 29
    assert gate.admit({"a", "b"}) == {"a"}                       # still inside the hold
    now[0] += 1
    assert gate.admit({"a", "b"}) == {"a", "b"}
    zero = SeriesGate(hold=0, clock=lambda: 5.0)
    zero.admit(set())
    assert zero.admit({"c"}) == set()                            # at least one scrape at zero
    assert zero.admit({"c"}) == {"c"}
