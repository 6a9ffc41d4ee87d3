"""Stored pushed points reach the admins' sockets as a ``metrics`` event naming the metrics."""
from __future__ import annotations

import pytest

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
    events = [e["args"][0] for e in socket_client.get_received() if e["name"] == "metrics"]
    assert events == [{"names": ["model_accuracy", "queue_depth"]}]
