"""Cost of the per-tick session check of open sockets, at 1,000 sockets.

Registers N sockets (as the connect handler does) over L logins of U users, then times
``services.live.sockets.check`` (two batched queries, one decision per socket), the work each
process adds to every scheduler tick. In-process: no Socket.IO traffic, only the check.

    python bench/socket_sessions.py                      # SQLite; 1,000 sockets, 50 and 1,000 logins
    python bench/socket_sessions.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import database  # noqa: E402
from app_factory import create_app  # noqa: E402
from services.accounts import login_sessions
from services.live import sockets as socket_registry
from services.accounts import users
from services.accounts import SessionRef  # noqa: E402


def build(db_url: str, sockets: int, logins: int, people: int):
    """An app with ``people`` users, ``logins`` logins and ``sockets`` registered sockets."""
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False,
                      "LOG_CAPTURE": False, "SOCKETS_PER_USER": sockets, "REDIS_URL": None})
    now = time.time()
    refs = []
    with database.session_scope(app) as session:
        made = [users.create_user(session, f"u{uuid.uuid4().hex[:10]}", "bench-password-1", "admin",
                                  "pbkdf2:sha256:1000") for _ in range(people)]
        for i in range(logins):
            user = made[i % people]
            refs.append(SessionRef(user.id, user.session_token,
                                   login_sessions.start(session, user, now, 43200), now))
    reg = socket_registry.registry(app)
    for i in range(sockets):
        assert reg.add(f"sid-{i}", refs[i % logins])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--logins", default="50,1000")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    print(f"{'database':<11} {'sockets':>8} {'logins':>7} {'users':>6} {'median ms':>10} {'max ms':>8}")
    for logins in (int(n) for n in args.logins.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            url, schema = args.database or f"sqlite:///{tmp}/bench.db", None
            if args.database:
                from sqlalchemy import create_engine, text

                schema = f"bench_{uuid.uuid4().hex[:8]}"
                with create_engine(args.database).begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                url = f"{args.database}{'&' if '?' in args.database else '?'}options=-csearch_path%3D{schema}"
            people = min(50, logins)
            app = build(url, args.sockets, logins, people)
            times = []
            with app.app_context():
                for _ in range(args.repeat):
                    stats = socket_registry.check(app)
                    assert stats.ended == 0 and stats.sockets == args.sockets, stats
                    times.append(stats.seconds * 1000)
            database.get_engine(app).dispose()
            if schema:
                with create_engine(args.database).begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            kind = "PostgreSQL" if args.database else "SQLite"
            print(f"{kind:<11} {args.sockets:>8} {logins:>7} {people:>6} {statistics.median(times):>10.2f} "
                  f"{max(times):>8.2f}")


if __name__ == "__main__":
    main()
