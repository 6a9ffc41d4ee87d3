"""Logs: the non-blocking handler, filters, cursor paging, query plans."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

import database
from services.logs import LogEntry
from services.logs import query as logs
from services.logs import PanelLogHandler, install, uninstall

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def _seed(app, rows):
    with database.session_scope(app) as s:
        for created_at, level, service, message in rows:
            s.add(LogEntry(created_at=created_at, level=level.upper(), level_no=logs.level_number(level),
                           service=service, logger=None, message=message))


def _fixture_rows(n=60):
    levels = ["debug", "info", "warning", "error", "critical"]
    services = ["billing", "web", "worker"]
    # Every 3rd pair shares a timestamp, so the (created_at, id) tiebreak is exercised.
    return [(T0 + timedelta(seconds=(i // 2) * 10), levels[i % 5], services[i % 3], f"line {i} " +
             ("Timeout talking to bank" if i % 7 == 0 else "ok")) for i in range(n)]


def test_burst_never_blocks_and_counts_drops(make_app):
    app = make_app()
    handler = PanelLogHandler(app, "burst", queue_size=50, flush_interval=0.05)
    logger = logging.getLogger("test.burst")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        # No writer yet: the queue fills at 50 and every other record must be dropped, not waited on.
        done = threading.Event()

        def burst():
            for i in range(10_000):
                logger.info("burst %d", i)
            done.set()

        worker = threading.Thread(target=burst)
        worker.start()
        worker.join(30)
        assert done.is_set(), "emitting blocked"
        assert handler.dropped == 10_000 - 50
        handler.start()
        assert handler.flush()
        with database.session_scope(app) as s:
            stored = s.scalars(select(LogEntry.message).where(LogEntry.service == "burst")
                               .order_by(LogEntry.id)).all()
        assert stored == [f"burst {i}" for i in range(50)]
        assert handler.stats()["written"] == 50
    finally:
        logger.removeHandler(handler)
        handler.stop()


def test_writer_batches_while_burst_runs(make_app):
    app = make_app()
    handler = PanelLogHandler(app, "burst2", queue_size=200, flush_interval=0.05)
    logger = logging.getLogger("test.burst2")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    handler.start()
    try:
        for i in range(10_000):
            logger.warning("w %d", i)
        assert handler.flush(10)
        with database.session_scope(app) as s:
            count = s.scalar(select(func.count()).select_from(LogEntry).where(LogEntry.service == "burst2"))
        assert count == handler.written
        assert handler.written + handler.dropped == 10_000
        assert handler.written >= 200
    finally:
        logger.removeHandler(handler)
        handler.stop()


def test_panel_logging_lands_in_the_table_and_api(make_app):
    app = make_app(LOG_CAPTURE=True, LOG_SERVICE_NAME="admin-panel")
    handler = app.extensions["log_handler"]
    try:
        logger = logging.getLogger("services.something")
        logger.setLevel(logging.INFO)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("payment sync failed for <b>order</b>")
        assert handler.flush()
        c = app.test_client()
        from tests.helpers import ADMIN
        c.login(*ADMIN)
        body = c.get("/admin/api/logs?service=admin-panel&level=error").json
        assert body["logs"][0]["message"].startswith("payment sync failed for <b>order</b>")
        assert "RuntimeError: boom" in body["logs"][0]["message"]
        assert body["logs"][0]["level"] == "ERROR"
        assert body["logs"][0]["logger"] == "services.something"
        assert body["handler"]["dropped"] == 0
    finally:
        uninstall(handler)


def test_filters_and_cursor_paging(app, admin_client):
    rows = _fixture_rows()
    _seed(app, rows)
    expected_all = list(range(len(rows)))[::-1]  # ids are 1..n in insertion order; newest first

    def page_through(query, limit):
        seen, cursor = [], None
        for _ in range(100):
            url = f"/admin/api/logs?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
            resp = admin_client.get(url)
            assert resp.status_code == 200, resp.json
            seen += [entry["message"] for entry in resp.json["logs"]]
            cursor = resp.json["next_cursor"]
            if not cursor:
                return seen
        raise AssertionError("paging did not end")

    def want(pred):
        return [rows[i][3] for i in expected_all if pred(rows[i])]

    assert page_through("", 7) == want(lambda r: True)
    assert page_through("&level=warning", 4) == want(lambda r: logs.level_number(r[1]) >= 30)
    assert page_through("&level=error&service=web", 3) == want(
        lambda r: logs.level_number(r[1]) >= 40 and r[2] == "web")
    assert page_through("&q=timeout", 2) == want(lambda r: "Timeout" in r[3])
    since, until = T0 + timedelta(seconds=50), T0 + timedelta(seconds=120)
    assert page_through(f"&since={since.isoformat()}&until={until.isoformat()}".replace("+", "%2B"), 5) == \
        want(lambda r: since <= r[0] <= until)
    # A LIKE wildcard in q is a literal character, not "match anything".
    assert page_through("&q=%25", 10) == []


def test_bad_parameters_are_400_and_anonymous_is_401(app, admin_client, client):
    assert admin_client.get("/admin/api/logs?level=loud").status_code == 400
    assert admin_client.get("/admin/api/logs?cursor=garbage").json["error"]["code"] == "invalid_parameter"
    assert admin_client.get("/admin/api/logs?limit=0").status_code == 400
    assert admin_client.get("/admin/api/logs?since=yesterday").status_code == 400
    assert client.get("/admin/api/logs").status_code == 401


def test_viewer_can_read_logs(app, viewer_client):
    _seed(app, _fixture_rows(3))
    assert len(viewer_client.get("/admin/api/logs").json["logs"]) == 3


def _plans(app, filters):
    engine = database.get_engine(app)
    after = (T0, 10)
    statements = []
    if filters.min_level:
        for lvl in (40, 50):
            statements.append(logs._base_query(filters, after, 101).where(LogEntry.level_no == lvl))
    else:
        statements.append(logs._base_query(filters, after, 101))
    out = []
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # Tiny test tables make a sequential scan cheapest; forbid it to see whether an index
            # can serve the order at all (what a large table gets).
            conn.execute(text("SET enable_seqscan = off"))
            conn.execute(text("SET enable_sort = off"))
        for stmt in statements:
            compiled = stmt.compile(engine)
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            result = conn.exec_driver_sql(prefix + str(compiled), compiled.positiontup and tuple(
                compiled.params[k] for k in compiled.positiontup) or compiled.params)
            out.append(" ".join(str(r[-1]) for r in result))
    return out


@pytest.mark.parametrize("filters", [
    logs.LogFilters(), logs.LogFilters(min_level=40), logs.LogFilters(service="web"),
    logs.LogFilters(service="web", min_level=40),
], ids=["all", "level", "service", "service+level"])
def test_query_plans_use_an_index_and_no_sort(app, filters):
    _seed(app, _fixture_rows(30))
    for plan in _plans(app, filters):
        if database.get_engine(app).dialect.name == "sqlite":
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
        else:
            assert "Index" in plan and "Sort" not in plan and "Seq Scan" not in plan, plan
