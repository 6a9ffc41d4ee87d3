"""Server-rendered pages under /admin/ (login required for all of them)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from services.export import SOURCES

bp = Blueprint("pages", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a logged-in user."""
    return None


@bp.route("/")
def index():
    """The panel's home is the dashboard."""
    return redirect(url_for("pages.dashboard"))


@bp.route("/dashboard")
def dashboard():
    """Overview: the cards and charts admins keep open."""
    return render_template("dashboard.html", page="overview")


@bp.route("/revenue")
def revenue():
    """Revenue over time: hourly/daily/weekly buckets for a date range."""
    return render_template("revenue.html", page="revenue")


@bp.route("/products")
def products():
    """Products: low stock first, best sellers over a range, the searchable catalogue."""
    return render_template("products.html", page="products")


@bp.route("/performance")
def performance():
    """Response times and traffic per endpoint, with the machine's load."""
    return render_template("performance.html", page="performance")


@bp.route("/metrics")
def metrics():
    """Own metrics: search the catalogue, chart a series with label filters, live as points arrive."""
    return render_template("metrics.html", page="metrics")


@bp.route("/activity")
def activity():
    """What users do: actions by kind, a weekday-by-hour heatmap and the live feed."""
    return render_template("activity.html", page="activity")


@bp.route("/alerts")
def alerts():
    """Open alerts with their actions, the rules editor and the filterable history."""
    from flask_login import current_user

    return render_template("alerts.html", page="alerts", can_edit=current_user.is_admin)


@bp.route("/services")
def services():
    """Service monitors: state, uptime, response times, last error; admins add and edit them."""
    return render_template("services.html", page="services", can_edit=current_user.is_admin)


@bp.route("/logs")
def logs():
    """Log entries of every service: filters, older pages by cursor, and a live tail."""
    return render_template("logs.html", page="logs")


@bp.route("/exports")
def exports():
    """Download data as CSV, Excel or JSON through an expiring link."""
    return render_template("exports.html", page="exports", data_types=[*SOURCES, "all"])


@bp.route("/audit")
def audit():
    """The audit trail (admins only): who did what, from where, with what outcome."""
    if not current_user.is_admin:
        abort(403, description="The audit trail is for admins.")
    return render_template("audit.html", page="audit")


@bp.route("/notifications")
def notifications():
    """Contact points, notification policies and inhibition rules."""
    return render_template("notifications.html", page="notifications", can_edit=current_user.is_admin)


@bp.route("/maintenance")
def maintenance():
    """Maintenance windows: what is muted now and until when; start and stop manual ones."""
    return render_template("maintenance.html", page="maintenance", can_edit=current_user.is_admin)


@bp.route("/dashboards")
def dashboards():
    """Dashboards people build: the list, and a form to create one (admins)."""
    return render_template("dashboards.html", page="dashboards")


@bp.route("/dashboards/<int:dashboard_id>")
def dashboard_view(dashboard_id: int):
    """One dashboard on its grid (the page reads it over the API; 404 there if unseen)."""
    return render_template("dashboard_view.html", page="dashboards", dashboard_id=dashboard_id)


@bp.route("/settings")
def settings():
    """Personal settings: API tokens for scripts."""
    return render_template("settings.html", page="settings")


# The nav lists a page only once its route exists, so no link ever leads to a 404.
NAV = [
    ("overview", "pages.dashboard", "Overview"),
    ("dashboards", "pages.dashboards", "Dashboards"),
    ("revenue", "pages.revenue", "Revenue"),
    ("products", "pages.products", "Products"),
    ("performance", "pages.performance", "Performance"),
    ("activity", "pages.activity", "Activity"),
    ("metrics", "pages.metrics", "Metrics"),
    ("alerts", "pages.alerts", "Alerts"),
    ("services", "pages.services", "Services"),
    ("notifications", "pages.notifications", "Notifications"),
    ("maintenance", "pages.maintenance", "Maintenance"),
    ("logs", "pages.logs", "Logs"),
    ("exports", "pages.exports", "Exports"),
    ("audit", "pages.audit", "Audit"),
    ("settings", "pages.settings", "Settings"),
]
ADMIN_ONLY_PAGES = frozenset({"pages.audit"})


def init_app(app) -> None:
    """Send the site root to the panel and give templates the nav."""
    app.add_url_rule("/", "root", lambda: redirect(url_for("pages.dashboard")))

    @app.context_processor
    def nav_items():
        is_admin = getattr(current_user, "is_admin", False)
        return {"nav_items": [item for item in NAV if item[1] in app.view_functions
                              and (is_admin or item[1] not in ADMIN_ONLY_PAGES)]}


@bp.route("/customers/<path:customer_id>")
def customer(customer_id: str):
    """One customer: every transaction, revenue per currency, first seen, activity timeline."""
    return render_template("customer.html", page="customer", customer_id=customer_id)


@bp.route("/orders/<path:order_id>")
def order(order_id: str):
    """One order (transaction): amounts, customer and its status history."""
    return render_template("order.html", page="order", order_id=order_id)


@bp.route("/explore")
def explore():
    """The rows behind a figure (drill-down); what it lists is read from its query string."""
    return render_template("explore.html", page="explore")
