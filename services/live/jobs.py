"""The one list of periodic jobs: what runs on each scheduler tick, how often, and where.

``periodic_job_definitions(app)`` is read by ``services.live`` and handed to the scheduler
(``services.live.scheduler``), which runs it in order on every tick. A new periodic task is a
new line here, never a registration from its own package. Intervals come from the app's config.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask

from services import checks
from services.alerts import dispatch as alert_dispatch
from services.live import feed, scheduler
from services.live import sockets as socket_registry
from services.monitor import performance_monitor
from services.ops import retention

EVERY_TICK = 0.0


@dataclass(frozen=True)
class Job:
    """One periodic job.

    ``interval``: seconds between runs (``EVERY_TICK``: each tick). ``leader_only``: only the
    process holding the leader lock runs it. ``after_push``: run after each snapshot push as
    ``run(app, session, snapshot)`` in its own transaction (else ``run(app)``). ``pushes``: its
    result is the tick's pushed snapshot. ``critical``: a failure fails the tick (else logged).
    """

    name: str
    interval: float | None
    run: Callable[..., Any]
    description: str
    leader_only: bool = False
    after_push: bool = False
    pushes: bool = False
    critical: bool = False


def _start_dashboard_warmer(app: Flask) -> bool:
    # Through the app's extension (``services.dashboards.warm.install``): importing the
    # dashboards package here would make a cycle (metrics -> monitor -> live -> dashboards -> metrics).
    warmer = app.extensions.get("dashboards_warmer")
    return warmer.start() if warmer is not None else False


def periodic_job_definitions(app: Flask) -> list[Job]:
    """Every periodic job of the panel, in the order a tick runs them."""
    cfg = app.config
    return [
        # Every process: its own request timings, its own sockets, its own announcements.
        Job("flush_request_timings", EVERY_TICK, performance_monitor.flush, "flushing request timings"),
        Job("end_ended_sessions_sockets", EVERY_TICK, socket_registry.check,
            "checking the sessions of open sockets"),
        Job("emit_feed", EVERY_TICK, feed.emit_feed, "emitting the feed", critical=True),
        # Each process warms its own widget cache for the dashboards its viewers read; the
        # loop keeps to the cache's wall-clock ticks, so it only starts here.
        Job("start_dashboard_warmer", EVERY_TICK, _start_dashboard_warmer, "starting the dashboard warming"),
        # The leader only: one sample and one snapshot for the whole deployment.
        Job("sample_machine", float(cfg["SAMPLE_INTERVAL"]), performance_monitor.sample,
            "storing a system sample", leader_only=True),
        # Service monitors are checked by the leader only; its runner starts once, then keeps
        # its own loop and pool (a hanging target must not hold a tick).
        Job("start_monitor_runner", EVERY_TICK, checks.start_runner, "starting the monitor runner",
            leader_only=True),
        Job("push_snapshot", float(cfg["LIVE_UPDATE_INTERVAL"]), scheduler.push_snapshot,
            "pushing the live snapshot", leader_only=True, pushes=True, critical=True),
        # After each push, with that same snapshot.
        Job("evaluate_alert_rules", None, alert_dispatch.on_tick, "evaluating the alert rules",
            leader_only=True, after_push=True),
        # What maintenance or an inhibition held back once it ends, and repeat_interval reminders.
        Job("catch_up_notifications", None, alert_dispatch.catch_up_job,
            "sending held-back notifications and reminders", leader_only=True, after_push=True),
        Job("daily_prune", None, retention.maybe_prune, "starting the daily prune when due",
            leader_only=True, after_push=True),
    ]
