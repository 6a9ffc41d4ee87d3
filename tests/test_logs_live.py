"""Live tail: matching stored log entries arrive at the subscribed Socket.IO client."""
from __future__ import annotations

import logging
import time

from extensions import socketio
from services.infra import bus as events
from services.infra import topics
from services.logs import uninstall
from tests.helpers import ADMIN, take_events


def _received(sc, name, wait=5.0):
    """Events named ``name`` since the last call (the log writer's thread emits them)."""
    deadline = time.monotonic() + wait
    got = []
    while time.monotonic() < deadline:
        got += take_events(sc, name)
        if got:
            return got
        time.sleep(0.05)
    return got


def test_live_tail_streams_matching_entries_from_the_panel_writer(make_app):
    app = make_app(LOG_CAPTURE=True)
    handler = app.extensions["log_handler"]
    try:
        web = app.test_client()
        assert web.login(*ADMIN).status_code == 302
        sc = socketio.test_client(app, flask_test_client=web)
        assert sc.is_connected()
        sc.emit("logs_subscribe", {"level": "error", "q": "card"})
        status = _received(sc, "logs_status")
        assert status and status[0]["subscribed"] is True

        logger = logging.getLogger("services.payments")
        logger.setLevel(logging.INFO)
        logger.info("card declined, info only")         # below the level: not sent
        logger.error("database slow")                   # no "card": not sent
        logger.error("card processor <script>x</script> down")
        assert handler.flush()
        entries = _received(sc, "log_entry")
        assert [e["message"] for e in entries] == ["card processor <script>x</script> down"]
        assert entries[0]["level"] == "ERROR" and entries[0]["service"] == "admin-panel"
        assert isinstance(entries[0]["id"], int)

        sc.emit("logs_unsubscribe")
        take_events(sc, "log_entry")
        logger.error("card again")
        assert handler.flush()
        assert _received(sc, "log_entry", wait=0.5) == []
        sc.disconnect()
    finally:
        uninstall(handler)


def test_ingested_entries_reach_the_tail_with_service_filter(app, socket_client):
    socket_client.emit("logs_subscribe", {"service": "billing"})
    _received(socket_client, "logs_status")
    # Ingest publishes this topic after its commit; the payload has no level_no.
    events.publish(topics.LOG_STORED, {"id": 7, "created_at": "2026-11-21T08:00:00+00:00", "level": "WARNING",
                                  "service": "web", "message": "other service"})
    events.publish(topics.LOG_STORED, {"id": 8, "created_at": "2026-11-21T08:00:01+00:00", "level": "WARNING",
                                  "service": "billing", "message": "retrying charge"})
    entries = _received(socket_client, "log_entry")
    assert [e["id"] for e in entries] == [8]


def test_bad_filter_is_an_error_event(app, socket_client):
    socket_client.emit("logs_subscribe", {"level": "loud"})
    errors = _received(socket_client, "error")
    assert errors and (errors[0]["code"], errors[0]["field"]) == ("bad_request", "level")


def test_anonymous_never_receives_entries(app, client):
    sc = socketio.test_client(app, flask_test_client=client)
    if sc.is_connected():  # the connection itself may be refused, which is stricter still
        sc.emit("logs_subscribe", {})
        assert _received(sc, "error")[0]["code"] == "unauthorized"
    events.publish(topics.LOG_STORED, {"id": 1, "created_at": "2026-11-21T08:00:00+00:00", "level": "ERROR",
                                  "service": "web", "message": "secret"})
    if sc.is_connected():
        assert _received(sc, "log_entry", wait=0.3) == []
    from blueprints import sockets_logs
    assert sockets_logs.subscriber_count() == 0
