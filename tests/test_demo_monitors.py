"""The demo's monitors through the demo start path (``python app.py --demo``): the panel's own
pages and database come up, the traffic generator's heartbeat keeps its push monitor up, and the
fake payment provider really fails during the demo's first payment outage (up, then down)."""
from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import select

import database
from services.checks.models import Monitor, MonitorEvent
from services.demo import monitors as demo_monitors
from tests.servers import start_server

pytestmark = pytest.mark.timeout(150)


def _states(engine) -> dict[str, tuple[str, dict]]:
    with engine.connect() as conn:
        return {r.name: (r.state, r.config) for r in conn.execute(select(Monitor.name, Monitor.state, Monitor.config))}


@pytest.mark.sqlite_only
def test_demo_start_monitors_itself_and_its_payment_provider(tmp_path, db_url):
    server = start_server(tmp_path, env={"DEMO_BACKFILL_DAYS": "0.2", "DEMO_FIRST_OUTAGE_SECONDS": "12"},
                          demo=True)
    engine = database.make_engine(f"sqlite:///{tmp_path}/server.db")
    try:
        deadline = time.monotonic() + 100
        seen: dict = {}
        moves: list = []
        went_down = False
        while time.monotonic() < deadline and not went_down:
            time.sleep(1)
            seen = _states(engine)
            with engine.connect() as conn:
                moves = conn.execute(select(MonitorEvent.from_state, MonitorEvent.to_state)
                                     .join(Monitor, Monitor.id == MonitorEvent.monitor_id)
                                     .where(Monitor.name == demo_monitors.PROVIDER)
                                     .order_by(MonitorEvent.at, MonitorEvent.id)).all()
            went_down = [tuple(m) for m in moves] == [("pending", "up"), ("up", "down")]
        assert went_down, f"the provider never went up then down: {moves} {seen}"
        assert {n: s for n, (s, _c) in seen.items()} == {
            "Panel login page": "up", "Panel liveness probe": "up", "Panel database": "up",
            demo_monitors.HEARTBEAT: "up", demo_monitors.PROVIDER: "down"}
        url = seen[demo_monitors.PROVIDER][1]["url"]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/health")
        # The provider itself, asked directly during the outage: a refusal or a slow answer.
        began = time.monotonic()
        try:
            answer = requests.get(url, timeout=5)
            failing = answer.status_code == 503 or time.monotonic() - began >= 1.0
        except requests.RequestException:
            failing = False
        assert failing, "the provider answered normally during the outage"
        with engine.connect() as conn:
            error = conn.scalar(select(Monitor.last_error).where(Monitor.name == demo_monitors.PROVIDER))
        assert error and ("503" in error or "slow" in error.lower() or "ms" in error), error
    finally:
        engine.dispose()
        server.stop()
