"""Logs: the panel's own log capture (handler, throttle, writer), the log query and the live tail relay.
"""
from __future__ import annotations

from services.logs.handler import (
    MAX_MESSAGE_CHARS, PanelLogHandler, clip_message, install, uninstall,
)
from services.logs.models import LogEntry
from services.logs.query import LogFilters, LogQueryError, decode_cursor, encode_cursor

__all__ = [
    "LogEntry",
    "LogFilters",
    "LogQueryError",
    "MAX_MESSAGE_CHARS",
    "PanelLogHandler",
    "clip_message",
    "decode_cursor",
    "encode_cursor",
    "install",
    "uninstall",
]
