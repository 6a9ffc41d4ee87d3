"""The settings' webhook and recipients are the default contact points ``webhook`` and ``email``.

Against a real local webhook receiver and a real SMTP server (aiosmtpd): alerts reach the
settings' destinations through the stored rows; an edit on the page wins over the settings,
also after a restart, until the point is set to follow the settings again; a restart with new
settings moves a point that follows them; the two cannot be deleted, renamed or retyped.
"""
from __future__ import annotations

from tests.receivers import (  # noqa: F401 (smtp and webhook are fixtures)
    MEMORY_HIGH, MEMORY_OK, Webhook, notify_app, only_memory, rows, smtp, tick, webhook,
)
from tests.helpers import ADMIN

POINTS = "/admin/api/contact-points"


def logged_in(app):
    client = app.test_client()
    assert client.login(*ADMIN).status_code == 302
    client.fetch_csrf("/admin/dashboard")
    return client


def defaults(client):
    resp = client.get(POINTS)
    assert resp.status_code == 200
    return {p["name"]: p for p in resp.get_json()["contact_points"] if p["builtin"]}


def test_the_settings_are_two_contact_points_that_alerts_reach(make_app, webhook, smtp):
    controller, inbox = smtp
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
                     SMTP_TO="ops@example.com, oncall@example.com")
    client = logged_in(app)
    points = defaults(client)
    assert list(points) == ["webhook", "email"]  # listed first, before any contact point of the page
    assert points["webhook"]["source"] == points["email"]["source"] == "settings"
    assert points["webhook"]["configured"] and points["email"]["configured"]
    assert points["email"]["addresses"] == ["ops@example.com", "oncall@example.com"]
    assert points["webhook"]["channel"] == "webhook" and points["email"]["channel"] == "email"

    only_memory(app, ["webhook", "email"])
    tick(app, MEMORY_HIGH)
    assert [(r[0], r[2]) for r in rows(app)] == [("webhook", "sent"), ("email", "sent")]
    assert webhook.bodies[0]["event"] == "fired"
    ((rcpts, _),) = inbox.messages
    assert rcpts == ["ops@example.com", "oncall@example.com"]
    points = defaults(client)
    assert points["webhook"]["last_delivery"]["status"] == "sent"

    # Their "send test" button is the contact point's own.
    resp = client.api("POST", f"{POINTS}/{points['email']['id']}/test")
    assert resp.status_code == 200 and resp.get_json()["delivered"] is True
    assert len(inbox.messages) == 2 and inbox.messages[1][1]["Subject"].startswith("[TEST]")


def test_an_edit_on_the_page_wins_over_the_settings_until_it_follows_them_again(make_app, webhook):
    other = Webhook()
    try:
        app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
        client = logged_in(app)
        pid = defaults(client)["webhook"]["id"]
        resp = client.api("PUT", f"{POINTS}/{pid}", json={"url": other.url})
        assert resp.status_code == 200 and resp.get_json()["contact_point"]["source"] == "page"
        only_memory(app, ["webhook"])
        tick(app, MEMORY_HIGH)
        assert len(other.bodies) == 1 and webhook.bodies == []

        # A restart with the same settings keeps what the page saved.
        again = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
        client = logged_in(again)
        assert defaults(client)["webhook"]["source"] == "page"
        tick(again, MEMORY_OK)
        assert [b["event"] for b in other.bodies] == ["fired", "resolved"] and webhook.bodies == []

        # Following the settings again takes their URL at once.
        resp = client.api("PUT", f"{POINTS}/{pid}", json={"source": "settings"})
        assert resp.status_code == 200 and resp.get_json()["contact_point"]["source"] == "settings"
        tick(again, MEMORY_HIGH)
        assert [b["event"] for b in webhook.bodies] == ["fired"] and len(other.bodies) == 2
    finally:
        other.close()


def test_a_restart_with_new_settings_moves_a_point_that_follows_them(make_app, webhook):
    first = notify_app(make_app)
    assert not defaults(logged_in(first))["webhook"]["configured"]
    only_memory(first, ["webhook"])
    tick(first, MEMORY_HIGH)
    ((channel, event, status, _, error),) = rows(first)
    assert (channel, event, status) == ("webhook", "fired", "skipped") and "ALERT_WEBHOOK_URL" in error

    restarted = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
    point = defaults(logged_in(restarted))["webhook"]
    assert point["configured"] and point["source"] == "settings"
    tick(restarted, MEMORY_OK)
    tick(restarted, MEMORY_HIGH)
    assert [b["event"] for b in webhook.bodies] == ["fired"]


def test_the_default_points_stay_named_typed_and_present(make_app):
    app = notify_app(make_app)
    client = logged_in(app)
    points = defaults(client)
    wid, eid = points["webhook"]["id"], points["email"]["id"]
    assert client.api("DELETE", f"{POINTS}/{wid}").status_code == 409
    assert client.api("PUT", f"{POINTS}/{wid}", json={"name": "hook"}).status_code == 409
    assert client.api("PUT", f"{POINTS}/{eid}", json={"kind": "webhook", "url": "https://x.example"}
                      ).status_code == 400
    assert client.api("POST", POINTS, json={"name": "email", "kind": "email", "addresses": ["a@b.c"]}
                      ).status_code == 409
    made = client.api("POST", POINTS, json={"name": "team", "kind": "email", "addresses": ["a@b.c"]})
    assert made.status_code == 201
    refused = client.api("PUT", f"{POINTS}/{made.get_json()['contact_point']['id']}", json={"source": "settings"})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "source"
    # Unconfigured, a test is refused and nothing changed.
    resp = client.api("POST", f"{POINTS}/{eid}/test")
    assert resp.status_code == 409 and "SMTP_HOST" in resp.get_json()["error"]["message"]
    assert defaults(client) == points
