"""Profile the hot paths with pyinstrument and print where the time goes.

    python bench/profile_hot_paths.py [--batches 5] [--path ingest|http|tick|metrics|all]

- ``ingest``: ``services.ingest.store.ingest_batch`` on batches of 1000 new transactions (SQLite file),
  in-process: the database work without HTTP;
- ``http``: the same batches through ``POST /api/v1/events`` on the Flask test client, so the
  request timer, JSON parsing, the limiter and the key check show too;
- ``tick``: ``services.live.scheduler.tick`` (sample, snapshot, alert rules) on that data;
- ``metrics``: one ``/metrics`` scrape over it.

Each profile is printed as pyinstrument's call tree, trimmed to frames over 2% of the total.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from pyinstrument import Profiler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import database  # noqa: E402
from app_factory import create_app  # noqa: E402

KEY = "profile-key"


def batch(prefix: str, n: int, rng: random.Random) -> dict:
    """One ingest body of ``n`` new transactions spread over the last day."""
    now = database.utcnow()
    return {"transactions": [{
        "id": f"{prefix}-{i}", "amount_cents": rng.randint(500, 30000),
        "currency": rng.choice(("EUR", "USD", "GBP")), "status": rng.choice(("completed", "pending", "failed")),
        "customer_id": f"c{rng.randint(1, 5000)}", "channel": rng.choice(("web", "app", "pos")),
        "created_at": (now - timedelta(seconds=rng.randint(0, 86400))).isoformat()} for i in range(n)]}


def show(title: str, profiler: Profiler) -> None:
    """Print one profile's call tree."""
    print(f"\n=== {title}")
    print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total",
                               flat=False, processor_options={"filter_threshold": 0.02}))


def main() -> int:
    """Build an app on a fresh SQLite file and profile the chosen paths."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--path", default="all", choices=("ingest", "http", "tick", "metrics", "all"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="profile-"))
    app = create_app({"SECRET_KEY": "profile", "DATABASE_URL": f"sqlite:///{tmp}/p.db", "TESTING": True,
                      "SCHEDULER_ENABLED": False, "INGEST_API_KEY": KEY, "METRICS_TOKEN": KEY,
                      "INGEST_RATE_LIMIT": "100000 per minute", "LOG_CAPTURE": False})
    rng = random.Random(7)
    from services.ingest import store as ingest
    from services.live import scheduler as live

    if args.path in ("ingest", "all"):
        bodies = [batch(f"in{b}", 1000, rng) for b in range(args.batches)]
        profiler = Profiler(interval=0.0005)
        with profiler:
            for body in bodies:
                with app.app_context():
                    ingest.ingest_batch(database.get_session(), body)
        show(f"ingest_batch, {args.batches} x 1000 new transactions (in-process)", profiler)
    if args.path in ("http", "all"):
        client = app.test_client()
        bodies = [batch(f"http{b}", 1000, rng) for b in range(args.batches)]
        profiler = Profiler(interval=0.0005)
        with profiler:
            for body in bodies:
                resp = client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {KEY}"})
                assert resp.status_code == 202, resp.get_data(as_text=True)
        show(f"POST /api/v1/events, {args.batches} x 1000 new transactions (test client)", profiler)
    if args.path in ("tick", "all"):
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(20):
                with app.app_context():
                    live.tick(app)
        show("live.tick x 20", profiler)
    if args.path in ("metrics", "all"):
        client = app.test_client()
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(20):
                assert client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        show("GET /metrics x 20", profiler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
