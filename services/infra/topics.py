"""Every topic of the in-process bus (``services.infra.bus``), named once.

Who publishes and who listens, so a topic's two ends can be found from here:
"""
from __future__ import annotations

# A transaction was stored (ingest, demo traffic); payload: the transaction as the feed shows it.
# Heard by the live feed.
TRANSACTION_STORED = "transaction.stored"
# An activity was stored (ingest); payload: id, user_id, action, detail, created_at. Heard by the live feed.
ACTIVITY_STORED = "activity.stored"
# A log line was stored (ingest, the panel's own log writer); heard by the live log tail.
LOG_STORED = "log.stored"
# A log line stored by another process, relayed through Redis; heard by the live log tail.
LOG_REMOTE = "log.remote"
# An ingest request committed; payload: counts per kind. Heard by the caches (invalidation).
INGEST_COMMITTED = "ingest.committed"
# An alert changed state (committed); payload: event, alert, firing. Heard by the live layer,
# which emits it to the admins' sockets.
ALERT_CHANGED = "alert.changed"
# Pushed metric points were stored (committed); payload: points, names. For live charts of
# own metrics (dashboards); the tests listen today.
METRICS_STORED = "metrics.stored"
# A monitor was created, changed, deleted or changed state (committed); payload: the monitor as
# the Services page shows it (``deleted`` when gone). Heard by the live layer, which emits it as
# the admins' ``monitor`` event, and by the monitor runner (reloads its list).
MONITOR_CHANGED = "monitor.changed"
# An app's live scheduler stopped (its loop ended); payload: the app. Heard by the monitor runner,
# which stops with it, so no check runs for an app whose scheduler is gone.
SCHEDULER_STOPPED = "scheduler.stopped"
# A user logged out; payload: user_id. Heard by the sockets (closed) and degraded sign-in.
USER_LOGGED_OUT = "user.logged_out"

ALL = (TRANSACTION_STORED, ACTIVITY_STORED, LOG_STORED, LOG_REMOTE, INGEST_COMMITTED, ALERT_CHANGED,
       METRICS_STORED, MONITOR_CHANGED, SCHEDULER_STOPPED, USER_LOGGED_OUT)
