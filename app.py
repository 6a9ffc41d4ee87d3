"""Entry point: ``python app.py [--host H] [--port P] [--demo]`` serves HTTP and Socket.IO.

``flask --app app <command>`` finds ``create_app`` here for the CLI.
"""
from __future__ import annotations

import os


def _serve_with_gevent() -> bool:
    """SOCKETIO_ASYNC_MODE=gevent (environment or .env) asks for the gevent server."""
    from dotenv import dotenv_values

    mode = os.environ.get("SOCKETIO_ASYNC_MODE") or dotenv_values(".env").get("SOCKETIO_ASYNC_MODE")
    return (mode or "").strip().lower() == "gevent"


if __name__ == "__main__" and _serve_with_gevent():
    # Before anything else is imported: sockets, threads and time must be gevent's everywhere.
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

from app_factory import ConfigError, create_app  # noqa: E402
from extensions import socketio  # noqa: E402

__all__ = ["create_app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, build the app and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Live admin panel")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--demo", action="store_true",
                        help="demo admin, 30 days of history and live traffic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # No line per request: the panel times every request itself (Performance page), and such lines
    # bury what the console is for (the demo's own monitor alone makes one every two seconds).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    overrides = {"DEMO": True, "SERVER_HOST": args.host, "SERVER_PORT": args.port} if args.demo else {
        "SERVER_HOST": args.host, "SERVER_PORT": args.port}
    try:
        app = create_app(overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from services.demo import mode as demo
    from services.demo import console as demo_console
    from services.live import scheduler as live

    if args.demo:
        demo.start(app)  # backfill (first start only), then live traffic in the background
    live.start(app)  # the one scheduler loop of this process (no-op when SCHEDULER_ENABLED is off)
    print(f"Serving the admin panel on http://{args.host}:{args.port}/admin/login", flush=True)
    status = 0
    try:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True,
                     use_reloader=False, log_output=False)
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        status = 1
    finally:
        live.stop(app)  # hands the Redis scheduler lock over at once instead of after its TTL
        if args.demo:
            demo.stop(2)
            # Shown already once it served; otherwise a new demo password must not be lost unseen.
            demo_console.announce(app, demo.base_url(app), serving=False)
    return status


if __name__ == "__main__":
    sys.exit(main())
