"""What ``python app.py --demo`` tells the person who started it: where to log in, how to send data.

The banner is printed once the server answers, after the web server's own start-up lines, so it is
the last thing on the console rather than a line scrolled away above them.
"""
from __future__ import annotations

import threading

import requests
from flask import Flask

PASSWORD_KEY = "demo_admin_password"  # app.extensions: the new demo admin's password, until shown
_RULE = "=" * 78
_lock = threading.Lock()


def wait_until_serving(base_url: str, stop: threading.Event, timeout: float = 120.0) -> bool:
    """Poll ``/healthz`` until the server answers 200; False when ``stop`` is set or after ``timeout``.

    Background tasks start before the server listens, so a refused connection is expected here
    for a moment: it is neither logged nor raised.
    """
    waited = 0.0
    while waited < timeout and not stop.is_set():
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        stop.wait(0.2)
        waited += 0.2
    return False


def banner(app: Flask, base_url: str, password: str | None, serving: bool = True) -> str:
    """The lines that tell how to log in and which ingest key the README's ``curl`` needs."""
    cfg = app.config
    if password:
        login = f"demo / {password}   (shown on this first start only)"
    elif cfg.get("ADMIN_USERNAME") and cfg.get("ADMIN_PASSWORD"):
        login = f"{cfg['ADMIN_USERNAME']} / the ADMIN_PASSWORD you set"
    else:
        login = "demo / the password shown on the first start (new one: flask --app app set-password demo)"
    heading = (f"Demo ready: {base_url}/admin/login" if serving
               else "The demo did not start serving; its login still holds for the next start:")
    lines = ["", _RULE, heading, f"  log in as   {login}"]
    key_file = cfg.get("DEMO_INGEST_KEY_FILE")
    if key_file:
        lines += [f"  ingest key  export INGEST_API_KEY={cfg['INGEST_API_KEY']}",
                  f"              (kept in {key_file}; the README's ingest curl uses it)"]
    else:
        lines.append("  ingest key  the INGEST_API_KEY you set")
    return "\n".join([*lines, _RULE, ""])


def announce(app: Flask, base_url: str, serving: bool = True) -> bool:
    """Print the banner once per app; the password is forgotten once shown. True when printed now."""
    with _lock:
        if app.extensions.get("demo_announced"):
            return False
        app.extensions["demo_announced"] = True
        password = app.extensions.pop(PASSWORD_KEY, None)
    print(banner(app, base_url, password, serving), flush=True)
    return True
