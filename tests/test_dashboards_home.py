"""A user's home dashboard: picked by themselves (viewers too, among what they may see), where they
land after signing in; a link's own destination wins; a home they can no longer see, or one
deleted, sends them to the Overview; bad input is refused and changes nothing."""
from __future__ import annotations

import database
from services.accounts.models import AuditLog, User
from tests.dashboard_helpers import create
from tests.helpers import ADMIN, VIEWER

HOME = "/admin/api/dashboards/home"


def _land(app, user, next_=None) -> str:
    """Where a fresh sign-in of ``user`` is sent."""
    client = app.test_client()
    token = client.fetch_csrf()
    data = {"username": user[0], "password": user[1], "csrf_token": token, **({"next": next_} if next_ else {})}
    resp = client.post("/admin/login", data=data)
    assert resp.status_code == 302
    return resp.headers["Location"]


def _home_of(app, username) -> int | None:
    with database.session_scope(app) as session:
        return session.query(User).filter_by(username=username).one().home_dashboard_id


def test_a_picked_home_is_where_a_sign_in_lands(app, admin_client, viewer_client):
    team = create(admin_client, "Team", visibility="roles", shared_roles=["viewer"]).get_json()["dashboard"]["id"]
    mine = create(admin_client, "Mine").get_json()["dashboard"]["id"]
    assert _land(app, VIEWER).endswith("/admin/dashboard")  # no home yet: the Overview

    # A viewer picks a dashboard shared with them (a preference, not a change to the dashboard).
    resp = viewer_client.api("PUT", HOME, json={"dashboard_id": team})
    assert resp.status_code == 200 and resp.get_json() == {"home": team}
    assert viewer_client.get("/admin/api/dashboards").get_json()["home"] == team
    assert _land(app, VIEWER).endswith(f"/admin/dashboards/{team}")
    # A link to somewhere else still goes there.
    assert _land(app, VIEWER, next_="/admin/logs").endswith("/admin/logs")
    # Each user has their own: the admin's is unchanged, then set to their private one.
    assert _land(app, ADMIN).endswith("/admin/dashboard")
    assert admin_client.api("PUT", HOME, json={"dashboard_id": mine}).get_json() == {"home": mine}
    assert _land(app, ADMIN).endswith(f"/admin/dashboards/{mine}")
    with database.session_scope(app) as session:
        actions = [(a.actor, a.target) for a in session.query(AuditLog).filter_by(action="dashboard.home")]
    assert actions == [("viewer", f"dashboard:{team}"), ("admin", f"dashboard:{mine}")]

    # Back to the Overview.
    assert viewer_client.api("PUT", HOME, json={"dashboard_id": None}).get_json() == {"home": None}
    assert _land(app, VIEWER).endswith("/admin/dashboard")


def test_a_home_no_longer_visible_or_deleted_lands_on_the_overview(app, admin_client, viewer_client):
    team = create(admin_client, "Team", visibility="roles", shared_roles=["viewer"]).get_json()["dashboard"]
    assert viewer_client.api("PUT", HOME, json={"dashboard_id": team["id"]}).status_code == 200
    # Made private: the viewer can no longer see it, so it is not their landing page.
    assert admin_client.api("POST", f"/admin/api/dashboards/{team['id']}/share",
                            json={"visibility": "private"}).status_code == 200
    assert _land(app, VIEWER).endswith("/admin/dashboard")
    assert viewer_client.get("/admin/api/dashboards").get_json()["home"] is None
    # Deleted: it is nobody's home any more.
    assert admin_client.api("PUT", HOME, json={"dashboard_id": team["id"]}).status_code == 200
    assert admin_client.api("DELETE", f"/admin/api/dashboards/{team['id']}").status_code == 200
    assert _home_of(app, "admin") is None and _home_of(app, "viewer") is None
    assert _land(app, ADMIN).endswith("/admin/dashboard")


def test_bad_homes_are_refused_and_change_nothing(app, admin_client, viewer_client):
    mine = create(admin_client, "Mine").get_json()["dashboard"]["id"]
    team = create(admin_client, "Team", visibility="roles", shared_roles=["viewer"]).get_json()["dashboard"]["id"]
    assert viewer_client.api("PUT", HOME, json={"dashboard_id": team}).status_code == 200
    for body, status, field in (({}, 400, "dashboard_id"), ({"dashboard_id": "1"}, 400, "dashboard_id"),
                                ({"dashboard_id": True}, 400, "dashboard_id"), ({"dashboard_id": 0}, 400, "dashboard_id"),
                                ({"dashboard_id": 2**63}, 400, "dashboard_id"),
                                ({"dashboard_id": team, "x": 1}, 400, "body.x"),
                                ({"dashboard_id": 999999}, 404, None), ({"dashboard_id": mine}, 404, None)):
        resp = viewer_client.api("PUT", HOME, json=body)
        assert resp.status_code == status, (body, resp.get_json())
        if field:
            assert resp.get_json()["error"]["field"] == field
    assert _home_of(app, "viewer") == team
    assert viewer_client.put(HOME, json={"dashboard_id": None}).status_code == 400  # no CSRF token
    assert app.test_client().put(HOME, json={"dashboard_id": None}).status_code in (400, 401)
    assert _home_of(app, "viewer") == team
