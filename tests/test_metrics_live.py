"""Stored pushed points reach the admins' sockets as a ``metrics`` event naming the metrics."""
from __future__ import annotations

import time

import pytest

from tests.helpers import take_events
from tests.metrics_helpers import push


@pytest.mark.sqlite_only
def test_stored_points_arrive_as_a_metrics_event_with_their_names(app, client, socket_client):
    socket_client.emit("join_admin_room")
    socket_client.get_received()
    assert push(client, [{"name": "queue_depth", "value": 3, "labels": {"queue": "mail"}},
                         {"name": "queue_depth", "value": 4, "labels": {"queue": "pay"}},
                         {"name": "model_accuracy", "value": 0.9}]).status_code == 202
    # A refused batch stores nothing and announces nothing.
    assert push(client, [{"name": "queue_depth", "value": "x"}]).status_code == 400
    events = []
    for _ in range(30):  # at once, or within a second when another test announced just before
        events += [e["args"][0] for e in socket_client.get_received() if e["name"] == "metrics"]
        if events:
            break
        time.sleep(0.1)
    assert events == [{"names": ["model_accuracy", "queue_depth"]}]


@pytest.mark.sqlite_only
def test_a_burst_of_batches_is_one_event_now_and_one_coalesced_a_second_later(app, client, socket_client):
    socket_client.emit("join_admin_room")
    time.sleep(1.1)  # the previous test's announcement is over a second old
    socket_client.get_received()
    started = time.monotonic()
    for i, name in enumerate(["alpha_depth", "beta_depth", "gamma_depth", "alpha_depth", "delta_depth"]):
        assert push(client, [{"name": name, "value": i}]).status_code == 202
    pushed_in = time.monotonic() - started
    # Read with take_events: the held-back announcement comes from another thread.
    events = take_events(socket_client, "metrics")
    assert events[:1] == [{"names": ["alpha_depth"]}]  # the first batch at once
    held = {"alpha_depth", "beta_depth", "delta_depth", "gamma_depth"}
    while time.monotonic() - started < 10 and {n for e in events[1:] for n in e["names"]} != held:
        time.sleep(0.1)
        events += take_events(socket_client, "metrics")
    if pushed_in < 0.9:  # the usual case: every later batch within the second, announced once
        assert events[1:] == [{"names": sorted(held)}], events
    else:  # a slow machine: the later batches may span two announcements, none lost
        assert {n for e in events[1:] for n in e["names"]} == held, events
    assert time.monotonic() - started >= 0.9  # not before the second was over


def test_a_new_app_does_not_announce_what_an_earlier_app_held_back(app):
    from services.live.coalesce import Coalescer
    heard = []
    events = Coalescer(0.3, heard.append)
    events.add(["first"])
    events.add(["held_back"])  # within the interval: waits for the flush 0.3 s later
    events.discard()  # what init_app does for a new app in the same process
    time.sleep(0.5)
    assert heard == [["first"]]  # the held-back name never went out
    events.add(["fresh"])
    assert heard == [["first"], ["fresh"]]  # and the next batch is announced at once
