"""Live: the scheduler and its one list of periodic jobs (``jobs.py``), the snapshot pushed to the
dashboard, the feed, the admins' room, the leader lock across processes and the open sockets.

Other features never import this package to emit: they publish on the bus and the live layer
emits (``room.on_alert_changed``, ``feed``).
"""
from __future__ import annotations

from flask import Flask

from services.live import jobs, scheduler
from services.live.jobs import Job, periodic_job_definitions
from services.live.room import ROOM


def init_app(app: Flask) -> None:
    """Bind the scheduler to ``app`` with the periodic jobs of ``jobs.periodic_job_definitions``."""
    scheduler.init_app(app, jobs.periodic_job_definitions(app))


__all__ = [
    "Job",
    "ROOM",
    "periodic_job_definitions",
]
