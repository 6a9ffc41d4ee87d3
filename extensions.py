"""The Flask extension singletons, created unbound and bound to each app in ``create_app``.

They live here, not in the factory, so that services and blueprints can import them without
importing the factory (which imports every service and blueprint).
"""
from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

socketio = SocketIO()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
