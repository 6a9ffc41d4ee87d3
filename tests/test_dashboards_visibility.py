"""Who sees which dashboard: viewer, admin, another admin, anonymous, and a public link that can
neither read another dashboard nor run a query that was not saved."""
from __future__ import annotations

import database
from services.accounts import users
from tests.dashboard_helpers import create, sales, widget
from tests.helpers import ADMIN


def _ids(client) -> set[int]:
    return {d["id"] for d in client.get("/admin/api/dashboards").get_json()["dashboards"]}


def _second_admin(app):
    with database.session_scope(app) as session:
        users.create_user(session, "admin2", "admin2-password-1", "admin", "pbkdf2:sha256:1000")
    c = app.test_client()
    assert c.login("admin2", "admin2-password-1").status_code == 302
    c.fetch_csrf("/admin/dashboard")
    return c


def test_private_roles_and_viewers(app, admin_client, viewer_client):
    private = create(admin_client, "Mine").get_json()["dashboard"]["id"]
    for_viewers = create(admin_client, "Team", visibility="roles", shared_roles=["viewer"]).get_json()["dashboard"]["id"]
    for_admins = create(admin_client, "Admins", visibility="roles", shared_roles=["admin"]).get_json()["dashboard"]["id"]
    other = _second_admin(app)

    assert {private, for_viewers, for_admins} <= _ids(admin_client)
    assert for_viewers in _ids(viewer_client) and not {private, for_admins} & _ids(viewer_client)
    assert for_admins in _ids(other) and not {private, for_viewers} & _ids(other)
    # Not seen is not found (ids of private dashboards are not revealed), for reads and batches.
    assert viewer_client.get(f"/admin/api/dashboards/{private}").status_code == 404
    assert other.get(f"/admin/api/dashboards/{private}").status_code == 404
    assert viewer_client.api("POST", "/admin/api/widgets/query", json={"dashboard": private}).status_code == 404
    assert viewer_client.get(f"/admin/api/dashboards/{for_viewers}").status_code == 200
    assert viewer_client.api("POST", "/admin/api/widgets/query", json={"dashboard": for_viewers}).status_code == 200
    # Viewers change nothing.
    assert viewer_client.api("PUT", f"/admin/api/dashboards/{for_viewers}",
                             json={"version": 1, "title": "x"}).status_code == 403
    assert create(viewer_client, "Viewer's").status_code == 403
    assert viewer_client.api("DELETE", f"/admin/api/dashboards/{for_viewers}").status_code == 403
    assert admin_client.get(f"/admin/api/dashboards/{for_viewers}").get_json()["dashboard"]["title"] == "Team"


def test_anonymous_gets_nothing(app, admin_client, client):
    d = create(admin_client, "Team", visibility="roles", shared_roles=["viewer"]).get_json()["dashboard"]["id"]
    assert client.get("/admin/api/dashboards").status_code == 401
    assert client.get(f"/admin/api/dashboards/{d}").status_code == 401
    assert client.post("/admin/api/widgets/query", json={"dashboard": d}).status_code in (400, 401)
    page = client.get(f"/admin/dashboards/{d}")
    assert page.status_code == 302 and "/admin/login" in page.headers["Location"]


def test_public_links_are_off_unless_enabled(app, admin_client):
    d = create(admin_client).get_json()["dashboard"]["id"]
    refused = admin_client.api("POST", f"/admin/api/dashboards/{d}/share", json={"visibility": "public"})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "visibility"


def test_public_link_runs_only_its_saved_queries(make_app):
    app = make_app(PUBLIC_DASHBOARDS=True)
    admin = app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    admin.fetch_csrf("/admin/dashboard")
    sales(app)
    saved_query = {"metric": "revenue_cents", "agg": "sum", "reduce": "sum", "range": "24h", "currency": "USD"}
    shown = create(admin, "Shown", widgets=[widget("rev", query=saved_query)]).get_json()["dashboard"]["id"]
    hidden = create(admin, "Hidden", widgets=[widget("secret", query={
        "metric": "revenue_cents", "agg": "sum", "reduce": "sum", "range": "24h", "currency": "EUR"})]
    ).get_json()["dashboard"]["id"]
    shared = admin.api("POST", f"/admin/api/dashboards/{shown}/share", json={"visibility": "public"})
    assert shared.status_code == 200, shared.get_json()
    url = shared.get_json()["dashboard"]["public_url"]

    anonymous = app.test_client()
    page = anonymous.get(url)
    assert page.status_code == 200 and "Shown" in page.get_data(as_text=True)
    data = anonymous.get(f"{url}/data").get_json()
    assert list(data["results"]) == ["rev"] and data["dashboard"]["title"] == "Shown"
    assert "public_url" not in data["dashboard"]
    assert data["results"]["rev"][0]["data"]["value"] == 1250 + 4000 + 2500
    # The link has no way to name another dashboard or send a query of its own.
    assert anonymous.get(f"{url}/data?dashboard={hidden}").get_json()["results"].keys() == {"rev"}
    assert anonymous.post(f"{url}/data", json={"queries": [saved_query]}).status_code in (400, 405)
    assert anonymous.post("/admin/api/widgets/query", json={"queries": [saved_query]}).status_code in (400, 401)
    assert anonymous.get(f"/admin/api/dashboards/{hidden}").status_code == 401
    assert anonymous.get("/d/not-a-token").status_code == 404

    # Revoked: the old link is dead at once; a new one is a different token.
    admin.api("POST", f"/admin/api/dashboards/{shown}/share", json={"visibility": "private"})
    assert anonymous.get(url).status_code == 404 and anonymous.get(f"{url}/data").status_code == 404
    again = admin.api("POST", f"/admin/api/dashboards/{shown}/share", json={"visibility": "public"})
    assert again.get_json()["dashboard"]["public_url"] != url


def test_public_link_dies_when_the_setting_is_turned_off(make_app):
    app = make_app(PUBLIC_DASHBOARDS=True)
    admin = app.test_client()
    admin.login(*ADMIN)
    admin.fetch_csrf("/admin/dashboard")
    d = create(admin).get_json()["dashboard"]["id"]
    url = admin.api("POST", f"/admin/api/dashboards/{d}/share", json={"visibility": "public"}
                    ).get_json()["dashboard"]["public_url"]
    assert app.test_client().get(url).status_code == 200
    app.config["PUBLIC_DASHBOARDS"] = False
    assert app.test_client().get(url).status_code == 404
