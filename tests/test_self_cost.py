"""The monitor's own cost: figures present and plausible, and a slow tick widens the interval."""
from __future__ import annotations

import time

import pytest

from services.live import scheduler as live
from services.monitor import performance_monitor
from services.monitor import self_cost
from services.monitor import SelfCost


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slow_tick_widens_the_interval_and_fast_ticks_bring_it_back():
    clock = FakeClock()
    cost = SelfCost(budget_share=0.5, max_widen=8.0, clock=clock)
    assert cost.next_interval(5.0) == 5.0
    cost.record_tick(1.0)                       # within 50% of 5 s
    assert cost.next_interval(5.0) == 5.0
    cost.record_tick(3.0)                       # 60% of the interval: over budget
    assert cost.next_interval(5.0) == 6.0       # 3 s is 50% of 6 s
    snap = cost.snapshot()
    assert snap["budget"]["widened"] is True and snap["budget"]["interval_s"] == 6.0
    assert "3.00 s" in snap["message"] and "every 6 s" in snap["message"]
    health = cost.health()
    assert health["status"] == "degraded" and "instead of falling behind" in health["message"]
    cost.record_tick(100.0)                     # never more than max_widen times the base
    assert cost.next_interval(5.0) == 40.0
    for _ in range(5):
        cost.record_tick(0.2)
    assert cost.next_interval(5.0) == 5.0
    assert cost.snapshot()["budget"]["widened"] is False
    assert cost.health()["status"] == "healthy"
    assert cost.snapshot()["tick"]["over_budget"] == 2


def test_cpu_share_is_tick_cpu_over_the_wall_time_spanned():
    clock = FakeClock()
    cost = SelfCost(clock=clock)
    cost.record_tick(0.1, 0.05, started=1000.0)
    assert cost.cpu_share() is None            # one tick spans no interval yet
    cost.record_tick(0.1, 0.05, started=1001.0)
    clock.now = 1002.0
    assert cost.cpu_share() == 0.05            # 0.1 s of CPU over 2 s of wall time


def test_measured_tick_has_wall_time_and_cpu():
    cost = SelfCost()
    for _ in range(3):
        with cost.measure_tick():
            begin = time.thread_time()
            while time.thread_time() - begin < 0.02:   # 20 ms of real CPU work in this thread
                pass
    snap = cost.snapshot()
    assert snap["tick"]["count"] == 3 and snap["tick"]["last_ms"] >= 20
    # The CPU can never exceed the wall time it was measured in (a busy machine only lowers it).
    assert 0 < snap["sampler_cpu_share"] <= 1.05
    assert 10 * 2**20 < snap["rss_bytes"] < 8 * 2**30 and snap["threads"] >= 1


def test_sampling_times_one_request_in_n(make_app):
    app = make_app(TIMER_COST_SAMPLE_EVERY=4)
    client = app.test_client()
    before = self_cost.current().timer_cost_ns()
    for _ in range(8):
        assert client.get("/healthz").status_code == 200
    timer = self_cost.current().timer_cost_ns()
    assert before is None and timer["samples"] == 2 and timer["sample_every"] == 4


def test_budget_share_must_be_a_fraction():
    with pytest.raises(ValueError):
        self_cost.configure(1.5, 100, 8.0)


def test_self_cost_api_reports_the_timer_cost_of_real_requests(make_app):
    from tests.helpers import ADMIN

    app = make_app(TIMER_COST_SAMPLE_EVERY=1)
    client = app.test_client()
    assert client.login(*ADMIN).status_code == 302
    for _ in range(5):
        assert client.get("/admin/api/health").status_code in (200, 503)
    data = client.get("/admin/api/self-cost").get_json()
    timer = data["timer"]
    assert timer["samples"] >= 5 and timer["sample_every"] == 1
    # The timer only queues numbers in memory: microseconds, and more than nothing. The bound is
    # loose because a busy machine may preempt the thread between the two clock reads.
    assert 0 < timer["mean_ns"] < 20_000_000
    assert timer["max_ns"] >= timer["mean_ns"]
    assert timer["fold_ns_per_request"] is None  # no flush yet: nothing folded
    assert data["rss_bytes"] > 10 * 2**20
    assert data["budget"]["share"] == 0.5
    # The scheduler's flush folds the queued requests into counters: that share is reported too.
    performance_monitor.flush(app)
    timer = client.get("/admin/api/self-cost").get_json()["timer"]
    assert 0 < timer["fold_ns_per_request"] < 20_000_000


def test_health_names_a_widened_interval(admin_client):
    self_cost.next_interval(5.0)
    self_cost.record_tick(4.0)
    assert self_cost.next_interval(5.0) == 8.0
    body = admin_client.get("/admin/api/health").get_json()
    check = body["checks"]["self_cost"]
    assert check["status"] == "degraded" and "4.00 s" in check["message"]
    assert any(r.startswith("self_cost:") for r in body["reasons"])


def test_the_live_loop_waits_longer_when_its_tick_is_slow(make_app, monkeypatch):
    app = make_app(SCHEDULER_ENABLED=True, LIVE_UPDATE_INTERVAL=0.2, SAMPLE_INTERVAL=0.2)
    starts: list[float] = []

    def slow_tick(_app, now=None):
        starts.append(time.monotonic())
        time.sleep(0.25)                        # more than 50% of the 0.2 s interval

    monkeypatch.setattr(live, "tick", slow_tick)
    assert live.start(app)
    try:
        deadline = time.monotonic() + 5
        while len(starts) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.stop(app)
    assert len(starts) >= 4
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # 0.25 s ticks need a 0.5 s interval to stay within half of it: the loop widened to that.
    assert min(gaps[1:]) >= 0.45
    snap = self_cost.snapshot()
    # At least 0.25 / 0.5; more only if the machine made the sleeps overshoot; never past 8 x 0.2.
    assert snap["budget"]["widened"] and 0.5 <= snap["budget"]["interval_s"] <= 1.6
