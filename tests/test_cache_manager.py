"""Cache namespaces: hits, misses, expiry on a fake clock, one computation per miss, invalidation."""
from __future__ import annotations

import threading
import time

import pytest

from services.infra import cache as cache_manager
from services.infra import bus as events
from services.infra import topics
from services.infra import CacheManager, UnknownNamespace


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def cm(clock):
    return CacheManager({"CACHE_TTL_ANALYTICS": 300, "CACHE_SIZE_ACTIVITY": 2}, timer=clock)


def test_hits_misses_and_ttl_expiry_on_a_fake_clock(cm, clock):
    calls = []

    def compute():
        calls.append(1)
        return {"total": len(calls)}

    assert cm.get_or_compute("analytics", "k", compute) == {"total": 1}
    assert cm.get_or_compute("analytics", "k", compute) == {"total": 1}
    clock.now += 299
    assert cm.get_or_compute("analytics", "k", compute) == {"total": 1}
    clock.now += 2  # 301 s after the store: past the 300 s TTL
    assert cm.get_or_compute("analytics", "k", compute) == {"total": 2}
    assert cm.get("analytics", "other", "dflt") == "dflt"

    row = cm.stats()["namespaces"]["analytics"]
    assert (row["hits"], row["misses"], row["size"], row["ttl"]) == (2, 3, 1, 300.0)
    assert row["hit_ratio"] == pytest.approx(2 / 5, abs=1e-4)
    assert cm.stats()["totals"]["misses"] == 3
    assert cm.stats()["backend"] == "memory"


def test_stale_copy_outlives_expiry_and_invalidation(cm, clock):
    cm.set("activity", "feed", [1, 2])
    clock.now += 10_000
    assert cm.get("activity", "feed") is None
    value, as_of = cm.get_stale("activity", "feed")
    assert value == [1, 2] and as_of.tzinfo is not None
    cm.invalidate("activity")
    assert cm.get_stale("activity", "feed")[0] == [1, 2]
    assert cm.clear("activity") == 0  # nothing fresh left, but the stale copy goes too
    assert cm.get_stale("activity", "feed") is None


def test_full_namespace_evicts_and_counts(cm):
    for key in "abc":
        cm.set("activity", key, key)
    row = cm.stats()["namespaces"]["activity"]
    assert row["size"] == 2 and row["maxsize"] == 2 and row["evictions"] == 1


def test_twenty_concurrent_misses_compute_once(cm):
    calls = []
    start = threading.Barrier(20)
    results = []

    def slow():
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to arrive while it runs
        return 42

    def worker():
        start.wait(timeout=5)
        results.append(cm.get_or_compute("analytics", ("revenue", "daily"), slow))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(calls) == 1
    assert results == [42] * 20
    row = cm.stats()["namespaces"]["analytics"]
    assert row["misses"] == 1 and row["hits"] == 19


def test_a_failed_computation_stores_nothing(cm):
    def boom():
        raise RuntimeError("db down")

    with pytest.raises(RuntimeError):
        cm.get_or_compute("analytics", "k", boom)
    assert cm.get_or_compute("analytics", "k", lambda: 7) == 7


def test_invalidation_during_a_computation_is_not_stored(cm):
    def compute():
        cm.invalidate("analytics")  # an ingest commits while we read
        return "old"

    assert cm.get_or_compute("analytics", "k", compute) == "old"
    assert cm.get_or_compute("analytics", "k", lambda: "new") == "new"


def test_clear_by_namespace_and_all_counts_entries(cm):
    cm.set("analytics", 1, 1)
    cm.set("analytics", 2, 2)
    cm.set("live", 1, 1)
    assert cm.clear("analytics") == 2
    assert cm.get("live", 1) == 1
    cm.set("health", "x", 1)
    assert cm.clear() == 2
    assert all(r["size"] == 0 for r in cm.stats()["namespaces"].values())
    with pytest.raises(UnknownNamespace):
        cm.clear("nope")


def test_stale_namespaces_per_ingest_kind():
    assert cache_manager.stale_namespaces({"transactions": 1, "activities": 0, "logs": 3}) == \
        ["analytics", "live"]
    assert cache_manager.stale_namespaces({"transactions": 0, "activities": 2, "logs": 0}) == \
        ["activity", "live"]
    assert cache_manager.stale_namespaces({"transactions": 0, "activities": 0, "logs": 5}) == []


def test_ingest_committed_invalidates_exactly_the_stale_namespaces(app):
    with app.app_context():
        for ns in ("analytics", "activity", "live", "health"):
            cache_manager.set(ns, "k", ns)
        events.publish(topics.INGEST_COMMITTED, {"transactions": 3, "activities": 0, "logs": 0})
        assert cache_manager.get("analytics", "k") is None
        assert cache_manager.get("live", "k") is None
        assert cache_manager.get("activity", "k") == "activity"
        assert cache_manager.get("health", "k") == "health"
        events.publish(topics.INGEST_COMMITTED, {"transactions": 0, "activities": 1, "logs": 0})
        assert cache_manager.get("activity", "k") is None
        assert cache_manager.get("health", "k") == "health"


def test_config_sets_ttl_and_size(make_app):
    app = make_app(CACHE_TTL_LIVE=7, CACHE_SIZE_LIVE=3)
    with app.app_context():
        row = cache_manager.stats()["namespaces"]["live"]
    assert row["ttl"] == 7.0 and row["maxsize"] == 3
